"""Bad input is refused with problem+json naming the field, and nothing is half stored."""

import pytest
from sqlalchemy import func, select

from catalog.models import Household, Lot, LotContribution, Product
from ledger.models import Account


def count(session, model) -> int:
    session.rollback()  # read what the app committed since
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def product_body(world, **changes):
    body = {
        "coop_id": world.coop_a.id,
        "name": {"zh": "茶叶", "en": "Tea"},
        "category": "tea",
        "unit": "box",
        "price": {"amount": 9900, "currency": "CNY"},
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("price", "field"),
    [
        ({"amount": -100, "currency": "CNY"}, "amount"),
        ({"amount": 0, "currency": "CNY"}, "amount"),
        ({"amount": 12.5, "currency": "CNY"}, "amount"),
        ({"amount": 1250.0, "currency": "CNY"}, "amount"),
        ({"amount": "1250", "currency": "CNY"}, "amount"),
        ({"amount": 1250, "currency": "XYZ"}, "currency"),
        ({"amount": 1250, "currency": "cny"}, "currency"),
        ({"amount": 1250}, "currency"),
    ],
)
def test_bad_prices_are_refused(client, world, as_role, session, price, field):
    before = count(session, Product)
    response = client.post(
        "/api/v1/products", json=product_body(world, price=price), headers=as_role("manager_a")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    locs = [e["loc"] for e in response.json()["errors"]]
    assert ["body", "price", field] in locs
    assert count(session, Product) == before


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"unit": "ton"}, ["body", "unit"]),
        ({"category": "gold"}, ["body", "category"]),
        ({"name": {"zh": "   "}}, ["body", "name", "zh"]),
        ({"status": "archived"}, ["body", "status"]),
        ({"surprise": 1}, ["body", "surprise"]),
    ],
)
def test_unknown_values_are_refused(client, world, as_role, changes, loc):
    response = client.post(
        "/api/v1/products", json=product_body(world, **changes), headers=as_role("manager_a")
    )
    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["errors"]]


def test_contributions_must_sum_to_the_lot(client, world, as_role, session):
    lots, contributions = count(session, Lot), count(session, LotContribution)
    response = client.post(
        f"/api/v1/products/{world.coop_product.id}/lots",
        json={
            "harvested_on": "2026-10-02",
            "quantity": 100,
            "contributions": [
                {"household_id": world.household_a.id, "quantity": 60},
                {"household_id": world.household_a2.id, "quantity": 30},
            ],
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 422, response.text
    assert "add up to 90" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "contributions"]
    assert (count(session, Lot), count(session, LotContribution)) == (lots, contributions)


def test_contributions_from_another_cooperative_are_refused(client, world, as_role):
    response = client.post(
        f"/api/v1/products/{world.coop_product.id}/lots",
        json={
            "harvested_on": "2026-10-02",
            "quantity": 10,
            "contributions": [{"household_id": world.household_b.id, "quantity": 10}],
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "contributions", 0, "household_id"]


def test_a_cooperative_lot_needs_contributions(client, world, as_role):
    response = client.post(
        f"/api/v1/products/{world.coop_product.id}/lots",
        json={"harvested_on": "2026-10-02", "quantity": 10},
        headers=as_role("manager_a"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "contributions"]


def test_fractional_lot_quantity_is_refused(client, world, as_role):
    response = client.post(
        f"/api/v1/products/{world.active.id}/lots",
        json={"harvested_on": "2026-10-02", "quantity": 2.5},
        headers=as_role("farmer_a"),
    )
    assert response.status_code == 422
    assert ["body", "quantity"] in [e["loc"] for e in response.json()["errors"]]


def test_duplicate_lot_code_is_a_conflict(client, world, as_role, session):
    lots = count(session, Lot)
    response = client.post(
        f"/api/v1/products/{world.active.id}/lots",
        json={"code": world.lot.code.lower(), "harvested_on": "2026-10-02", "quantity": 3},
        headers=as_role("farmer_a"),
    )
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "code"]
    assert count(session, Lot) == lots


def test_duplicate_member_code_is_a_conflict_and_opens_no_account(client, world, as_role, session):
    households, accounts = count(session, Household), count(session, Account)
    response = client.post(
        f"/api/v1/coops/{world.coop_a.id}/households",
        json={"member_code": world.household_a.member_code, "name": "重名", "household_size": 2},
        headers=as_role("manager_a"),
    )
    assert response.status_code == 409
    assert (count(session, Household), count(session, Account)) == (households, accounts)


def test_household_size_must_be_at_least_one(client, world, as_role):
    response = client.post(
        f"/api/v1/coops/{world.coop_a.id}/households",
        json={"name": "空户", "household_size": 0},
        headers=as_role("manager_a"),
    )
    assert response.status_code == 422
    assert ["body", "household_size"] in [e["loc"] for e in response.json()["errors"]]


def test_farmer_cannot_edit_another_households_product(client, world, as_role, session):
    response = client.patch(
        f"/api/v1/products/{world.active.id}",
        json={"price": {"amount": 1, "currency": "CNY"}},
        headers=as_role("farmer_a2"),
    )
    assert response.status_code == 403
    session.rollback()
    assert session.get(Product, world.active.id).price_amount == 6800


def test_farmer_cannot_move_own_product_to_another_household(client, world, as_role):
    response = client.patch(
        f"/api/v1/products/{world.active.id}",
        json={"household_id": world.household_a2.id},
        headers=as_role("farmer_a"),
    )
    assert response.status_code == 403


def test_farmer_product_is_forced_into_their_household(client, world, as_role):
    body = product_body(world)
    body.pop("coop_id")
    response = client.post("/api/v1/products", json=body, headers=as_role("farmer_a2"))
    assert response.status_code == 201, response.text
    assert response.json()["household_id"] == world.household_a2.id
    assert response.json()["coop_id"] == world.coop_a.id
    response = client.post(
        "/api/v1/products",
        json=product_body(world, household_id=world.household_a.id),
        headers=as_role("farmer_a2"),
    )
    assert response.status_code == 403


def test_manager_cannot_list_for_a_household_of_another_cooperative(client, world, as_role):
    response = client.post(
        "/api/v1/products",
        json=product_body(world, household_id=world.household_b.id),
        headers=as_role("manager_a"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "household_id"]


HOSTILE = "<script>alert('x')</script>'; DROP TABLE products; --"


def test_html_and_sql_in_names_are_stored_verbatim(client, world, as_role, session):
    response = client.post(
        "/api/v1/products",
        json=product_body(world, name={"zh": HOSTILE, "en": HOSTILE}, status="active"),
        headers=as_role("manager_a"),
    )
    assert response.status_code == 201, response.text
    product_id = response.json()["id"]
    assert client.get(f"/api/v1/products/{product_id}").json()["name"]["zh"] == HOSTILE
    found = client.get("/api/v1/products", params={"q": "drop table"}).json()["items"]
    assert [p["id"] for p in found] == [product_id]
    assert count(session, Product) >= 5  # the table is still there
