"""When Stripe is asked: after the order and its stock are committed, and again by the pay page."""

import re
import socket

import pytest
import stripe

from api.settings import Settings
from tests.frontend.helpers import HTML
from tests.orders.test_stripe import _card_order, _pay, _wait_for


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestStripeDoesNotAnswer:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # A real connection refused: nothing listens on this loopback port.
        return settings.model_copy(update={"stripe_api_base": f"http://127.0.0.1:{_closed_port()}"})

    def test_the_order_and_its_stock_are_kept_and_stay_payable(self, world, place, client, as_role):
        before = client.get(f"/api/v1/products/{world.honey.id}").json()["stock"]
        placed = place("buyer", [(world.honey, 2)], method="stripe")
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "pending_payment"
        assert order["payment"]["payment_intent_id"] is None
        assert order["payment"]["status"] == "none"
        assert client.get(f"/api/v1/products/{world.honey.id}").json()["stock"] == before - 2
        again = client.post(
            f"/api/v1/orders/{order['id']}/payments/stripe", headers=as_role("buyer")
        )
        assert again.status_code >= 400
        assert again.headers["content-type"].startswith("application/problem+json")


def test_the_pay_page_opens_a_new_attempt_after_a_declined_card(
    world, client, place, as_role, live_server, localstripe
):
    order = _card_order(place, world, role="guest")
    first = order["payment"]["payment_intent_id"]
    with pytest.raises(stripe.CardError):
        _pay(localstripe, first, card="pm_card_chargeCustomerFail")
    token = order["access_token"]
    _wait_for(
        client,
        f"/api/v1/orders/{order['id']}?token={token}",
        lambda o: o["payment"]["status"] == "failed",
    )
    page = client.get(f"/orders/{order['id']}/pay?token={token}", headers=HTML)
    assert page.status_code == 200, page.text
    secret = re.search(r'data-client-secret="([^"]*)"', page.text)
    assert secret is not None
    assert secret.group(1).startswith("pi_")
    assert not secret.group(1).startswith(first)  # a new PaymentIntent, not the declined one
    state = client.get(f"/api/v1/orders/{order['id']}?token={token}").json()
    assert state["payment"]["status"] == "pending"
    _pay(localstripe, state["payment"]["payment_intent_id"])
    _wait_for(
        client, f"/api/v1/orders/{order['id']}?token={token}", lambda o: o["status"] == "paid"
    )
