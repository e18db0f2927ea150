"""Product search in Chinese and English, filters, sorting and cursor pagination."""

from datetime import date, timedelta
from typing import Any

import pytest

from catalog import service
from catalog.schemas import BrandCreate
from tests.catalog import factories


def ids(client, **params) -> list[int]:
    response = client.get("/api/v1/products", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize("q", ["蜂蜜", "honey", "HONEY", "Wild Honey", "百花", "wildflower"])
def test_chinese_and_english_terms_find_honey(client, world, q):
    assert ids(client, q=q) == [world.active.id]


def test_terms_all_have_to_match(client, world):
    assert ids(client, q="honey 大米") == []
    assert ids(client, q="songjiang rice") == [world.coop_product.id]


def test_like_wildcards_are_literal(client, world):
    assert ids(client, q="%") == []
    assert ids(client, q="_") == []


def test_drafts_are_not_found_by_the_public(client, world, as_role):
    assert ids(client, q="新茶") == []
    mine = client.get("/api/v1/products", params={"mine": True}, headers=as_role("farmer_a")).json()
    assert {p["id"] for p in mine["items"]} == {world.active.id, world.draft.id}
    drafts = client.get(
        "/api/v1/products", params={"status": "draft"}, headers=as_role("farmer_a2")
    ).json()
    assert drafts["items"] == []


def test_filters(client, world, session):
    assert ids(client, coop_id=world.coop_b.id) == [world.other_coop_product.id]
    assert ids(client, category="rice") == [world.coop_product.id]
    assert set(ids(client, min_price=4000, max_price=7000)) == {
        world.active.id,
        world.other_coop_product.id,
    }
    assert ids(client, in_stock=True) == [world.active.id]
    assert world.active.id not in ids(client, in_stock=False)


def test_expired_lots_are_not_stock(client, world, session):
    factories.create_lot(
        session,
        product=world.coop_product,
        quantity=5,
        harvested_on=date.today() - timedelta(days=30),
        expires_on=date.today() - timedelta(days=1),
        contributions=[(world.household_a, 5)],
    )
    session.commit()
    assert world.coop_product.id not in ids(client, in_stock=True)
    assert client.get(f"/api/v1/products/{world.coop_product.id}").json()["stock"] == 0


def test_certification_filter_uses_valid_certificates(client, world, session):
    brand = service.create_brand(
        session,
        actor=factories.STAFF,
        coop_id=world.coop_a.id,
        data=BrandCreate.model_validate(
            {
                "name": {"zh": "松江"},
                "certifications": [
                    {"kind": "organic", "number": "ORG-1", "valid_from": "2020-01-01"},
                    {
                        "kind": "green_food",
                        "number": "GF-1",
                        "valid_from": "2020-01-01",
                        "valid_until": "2021-01-01",
                    },
                ],
            }
        ),
    )
    world.active.brand_id = brand.id
    session.add(world.active)
    session.commit()
    assert ids(client, certification="organic") == [world.active.id]
    assert ids(client, certification="green_food") == []  # expired
    assert ids(client, certification="geographical_indication") == []


def test_unknown_filter_values_are_refused(client, world):
    assert client.get("/api/v1/products", params={"category": "gold"}).status_code == 422
    assert client.get("/api/v1/products", params={"sort": "random"}).status_code == 422
    assert client.get("/api/v1/products", params={"min_price": -1}).status_code == 422
    assert client.get("/api/v1/products", params={"cursor": "!!!"}).status_code == 422


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", lambda p: -p["id"]),
        ("price_asc", lambda p: (p["price"]["amount"], p["id"])),
        ("price_desc", lambda p: (-p["price"]["amount"], -p["id"])),
    ],
)
def test_cursor_pages_walk_every_product_once_in_order(client, world, session, sort, key):
    for index in range(7):
        factories.create_product(
            session,
            coop=world.coop_a,
            name={"zh": f"蜂蜜{index}", "en": f"Honey {index}"},
            price={"amount": 1000 + (index % 3) * 500, "currency": "CNY"},
        )
    session.commit()
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/products", params=params).json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10
    assert len({p["id"] for p in seen}) == 10
    assert seen == sorted(seen, key=key)
