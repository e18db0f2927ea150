"""Alipay and WeChat Pay through Stripe: configured by setting, offered on the pages, one flow.

localstripe has no Alipay or WeChat Pay, so confirming with them cannot run here; what is tested is
that the setting is read and checked, that the PaymentIntent is created with them against the
emulator, that the pages offer exactly the configured methods, and that Stripe's redirect back
(with its extra query parameters) leads to the same completion as a card.
"""

import pytest
from pydantic import ValidationError

from api.settings import Settings
from tests.frontend.helpers import HTML
from tests.orders.test_pages import add_to_cart

ALL_METHODS = ("alipay", "wechat_pay", "card")


def test_the_methods_come_from_the_environment_in_order_without_repeats(monkeypatch):
    monkeypatch.setenv("HEZUO_STRIPE_PAYMENT_METHODS", " alipay, wechat_pay,card,alipay ")
    assert Settings().stripe_payment_methods == ALL_METHODS
    monkeypatch.delenv("HEZUO_STRIPE_PAYMENT_METHODS")
    assert Settings().stripe_payment_methods == ("card",)


@pytest.mark.parametrize("value", ["paypal", "card,unionpay", "", " , "])
def test_unknown_or_no_methods_are_refused_with_the_setting_named(monkeypatch, value):
    monkeypatch.setenv("HEZUO_STRIPE_PAYMENT_METHODS", value)
    with pytest.raises(ValidationError, match="HEZUO_STRIPE_PAYMENT_METHODS"):
        Settings()


def _stripe_order(place, world) -> dict:
    response = place("guest", [(world.honey, 1)], method="stripe")
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["payment"]["payment_intent_id"].startswith("pi_")  # created by the emulator
    return order


def _pay_page(client, order: dict) -> str:
    page = client.get(
        f"/orders/{order['id']}/pay?token={order['access_token']}",
        headers={**HTML, "Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200, page.text
    return page.text


class TestAllMethods:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"stripe_payment_methods": ALL_METHODS})

    def test_checkout_names_every_online_method(self, world, client):
        add_to_cart(client, world.honey, 1)
        form = client.get("/checkout", headers={**HTML, "Accept-Language": "zh-CN"}).text
        assert "在线支付" in form
        assert "支付宝" in form
        assert "微信支付" in form

    def test_the_pay_page_offers_alipay_wechat_pay_and_card(self, world, place, client):
        order = _stripe_order(place, world)
        assert order["payment"]["method"] == "stripe"  # the buyer picks on Stripe's side
        page = _pay_page(client, order)
        assert 'data-channel="alipay"' in page
        assert 'data-channel="wechat_pay"' in page
        assert 'id="card-form"' in page
        assert "使用支付宝付款" in page
        assert "使用微信支付付款" in page
        assert f'data-client-secret="{order["payment"]["client_secret"]}"' in page

    def test_a_failed_redirect_back_leaves_the_order_payable(self, world, place, client):
        order = _stripe_order(place, world)
        back = client.get(
            f"/orders/{order['id']}/pay/return",
            params={
                "token": order["access_token"],
                "payment_intent": order["payment"]["payment_intent_id"],
                "payment_intent_client_secret": order["payment"]["client_secret"],
                "redirect_status": "failed",
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert back.status_code == 303
        state = client.get(f"/api/v1/orders/{order['id']}?token={order['access_token']}").json()
        assert state["status"] == "pending_payment"
        assert state["paid"]["amount"] == 0


def test_card_only_is_the_default_and_the_page_shows_no_other_method(world, place, client):
    order = _stripe_order(place, world)
    assert order["payment"]["method"] == "card"
    page = _pay_page(client, order)
    assert 'id="card-form"' in page
    assert "data-channel=" not in page
