"""Ratings: a buyer rates a delivered line once; product and lot pages show it; managers hide abuse."""

import uuid

import pytest

from tests.governance.conftest import SHIPPING


def _line(order: dict) -> int:
    return order["lines"][0]["id"]


def _rate(client, as_role, order, role="buyer", stars=5, comment="Fragrant honey."):
    return client.post(
        f"/api/v1/orders/{order['id']}/lines/{_line(order)}/rating",
        json={"stars": stars, "comment": comment},
        headers=as_role(role),
    )


def test_a_buyer_rates_a_delivered_line_once_and_it_shows_on_product_and_lot(
    client, world, as_role, settle_order
):
    order = settle_order()
    rated = _rate(client, as_role, order, stars=4)
    assert rated.status_code == 201, rated.text
    assert _rate(client, as_role, order).status_code == 409
    product = client.get(f"/api/v1/products/{world.honey.id}/ratings").json()
    assert product["count"] == 1
    assert product["average_tenths"] == 40
    assert product["items"][0]["comment"] == "Fragrant honey."
    assert "buyer" not in str(product["items"][0])  # no buyer identity in public
    lot = client.get(f"/api/v1/lots/{world.honey_lot.code}/ratings").json()
    assert lot["count"] == 1


def test_ratings_are_refused_before_delivery_to_other_buyers_and_for_bad_stars(
    client, world, as_role, settle_order
):
    placed = client.post(
        "/api/v1/orders",
        json={
            "lines": [{"product_id": world.honey.id, "quantity": 1}],
            "shipping": SHIPPING,
            "payment_method": "bank_transfer",
        },
        headers={**as_role("buyer"), "Idempotency-Key": uuid.uuid4().hex},
    ).json()
    assert _rate(client, as_role, placed).status_code == 409  # not delivered
    order = settle_order()
    assert _rate(client, as_role, order, role="other_buyer").status_code == 403
    assert _rate(client, as_role, order, role="staff").status_code == 403
    assert _rate(client, as_role, order, role="anonymous").status_code == 401
    assert _rate(client, as_role, order, stars=6).status_code == 422
    assert _rate(client, as_role, order, stars=0).status_code == 422
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/lines/999999/rating",
            json={"stars": 3},
            headers=as_role("buyer"),
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/products/{world.honey.id}/ratings").json()["count"] == 0


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("farmer", 403),
        ("manager_b", 403),
        ("manager_a", 200),
        ("staff", 200),
    ],
)
def test_a_manager_hides_an_abusive_comment_with_a_recorded_reason(
    client, world, as_role, settle_order, session, role, expected
):
    order = settle_order()
    rating = _rate(client, as_role, order, stars=1, comment="abusive words here").json()
    hidden = client.post(
        f"/api/v1/ratings/{rating['id']}/hide",
        json={"reason": "Insults the farmer"},
        headers=as_role(role),
    )
    assert hidden.status_code == expected, hidden.text
    shown = client.get(f"/api/v1/products/{world.honey.id}/ratings").json()["items"][0]
    if expected == 200:
        assert shown["comment"] is None
        assert shown["hidden"] is True
        assert shown["hidden_reason"] == "Insults the farmer"
        assert shown["stars"] == 1
        again = client.post(
            f"/api/v1/ratings/{rating['id']}/hide", json={"reason": "x"}, headers=as_role(role)
        )
        assert again.status_code == 409
        from governance.models import Rating

        session.rollback()
        stored = session.get(Rating, rating["id"])
        assert stored.hidden_by is not None
        assert stored.comment == "abusive words here"  # kept, only not shown
    else:
        assert shown["comment"] == "abusive words here"


def test_hiding_needs_a_reason(client, world, as_role, settle_order):
    order = settle_order()
    rating = _rate(client, as_role, order).json()
    response = client.post(
        f"/api/v1/ratings/{rating['id']}/hide", json={"reason": " "}, headers=as_role("staff")
    )
    assert response.status_code == 422
