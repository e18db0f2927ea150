""" "Place the order, commit, then ask Stripe" lives once (orders/placing.py): the API and the
checkout page both go through it, and both keep the order when Stripe does not answer."""

from typing import Any

import pytest

from orders import payments
from orders.errors import PaymentProviderError
from orders.models import Order
from tests.orders.test_pages import add_to_cart, checkout, shopper  # noqa: F401  (fixture)


@pytest.fixture
def stripe_asked(monkeypatch) -> list[int]:
    """Order ids Stripe was asked about; every ask fails as if Stripe were down."""
    asked: list[int] = []

    def refuse(session: Any, *, order_id: int, **_: Any) -> None:
        asked.append(order_id)
        raise PaymentProviderError("Stripe did not answer.")

    monkeypatch.setattr(payments, "start_stripe_attempt", refuse)
    return asked


def test_the_api_places_then_asks_once_and_keeps_the_order(place, world, session, stripe_asked):
    placed = place("buyer", [(world.honey, 1)], method="stripe")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    assert stripe_asked == [order_id]
    session.rollback()
    kept = session.get(Order, order_id)
    assert kept is not None
    assert kept.status == "pending_payment"  # committed before Stripe was asked
    assert place("buyer", [(world.honey, 1)], method="bank_transfer").status_code == 201
    assert stripe_asked == [order_id]  # a manual method never asks


def test_the_checkout_page_goes_through_the_same_flow(shopper, world, session, stripe_asked):  # noqa: F811
    add_to_cart(shopper, world.honey, 1)
    response = checkout(shopper, method="stripe")
    assert response.status_code == 303, response.text
    assert "/pay" in response.headers["location"]
    [order_id] = stripe_asked
    session.rollback()
    kept = session.get(Order, order_id)
    assert kept is not None
    assert kept.status == "pending_payment"
