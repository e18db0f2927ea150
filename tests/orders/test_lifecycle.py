"""Checkout rules, expiry, cancellation, late payments, share-rule snapshots and the order jobs."""

from datetime import timedelta

import pytest

from api.cli import main as hezuo
from catalog.models import Lot
from ledger.base import utcnow
from ledger.service import balance, trial_balance
from orders.models import Order
from tests.orders.conftest import order_body
from tests.orders.test_stripe import _pay, _wait_for


def _fresh(session, model, id_):
    session.rollback()
    session.expire_all()
    return session.get(model, id_)


def _age(session, order_id: int, **fields) -> None:
    session.rollback()
    order = session.get(Order, order_id)
    for name, value in fields.items():
        setattr(order, name, value)
    session.add(order)
    session.commit()


def _run(monkeypatch, settings, *argv: str) -> int:
    monkeypatch.setenv("HEZUO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HEZUO_ENV", "test")
    return hezuo(list(argv))


def test_same_key_same_body_is_the_same_order_and_another_body_is_409(world, client, as_role):
    body = order_body([(world.honey, 1)])
    headers = {**as_role("buyer"), "Idempotency-Key": "checkout-1"}
    first = client.post("/api/v1/orders", json=body, headers=headers)
    again = client.post("/api/v1/orders", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/api/v1/orders", json=order_body([(world.honey, 2)]), headers=headers)
    assert other.status_code == 409
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert client.post("/api/v1/orders", json=body, headers=as_role("buyer")).status_code == 422


def test_checkout_refuses_bad_input_naming_the_field(world, client, place):
    no_email = client.post(
        "/api/v1/orders", json=order_body([(world.honey, 1)]), headers={"Idempotency-Key": "g"}
    )
    assert no_email.status_code == 422
    assert no_email.json()["errors"][0]["loc"] == ["body", "email"]
    body = {**order_body([(world.honey, 1)]), "lines": [{"product_id": 999999, "quantity": 1}]}
    unknown = client.post(
        "/api/v1/orders", json={**body, "email": "a@example.com"}, headers={"Idempotency-Key": "u"}
    )
    assert unknown.status_code == 422
    too_many = place("buyer", [(world.honey, 11)])
    assert too_many.status_code == 409
    assert too_many.json()["detail"] == (
        "Not enough stock of 土蜂蜜 (Wild honey): you asked for 11, 10 left. "
        "Nothing was reserved; change the quantity and try again."
    )


def test_prices_and_share_rule_are_snapshotted(world, client, as_role, place, session):
    rule = {
        "effective_from": "2026-01-01",
        "parts": {
            "producers": 8000,
            "collective_fund": 500,
            "training_fund": 500,
            "enterprise": 1000,
        },
    }
    assert (
        client.put(
            f"/api/v1/coops/{world.coop_a.id}/share-rule", json=rule, headers=as_role("staff")
        ).status_code
        == 201
    )
    order = place("buyer", [(world.honey, 1)]).json()
    assert order["lines"][0]["share_rule"]["parts"]["producers"] == 8000
    later = {
        **rule,
        "parts": {
            "producers": 6000,
            "collective_fund": 2000,
            "training_fund": 1000,
            "enterprise": 1000,
        },
    }
    second = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule", json=later, headers=as_role("staff")
    )
    assert second.json()["version"] == 2
    low = {
        **rule,
        "parts": {
            "producers": 5000,
            "collective_fund": 3000,
            "training_fund": 1000,
            "enterprise": 1000,
        },
    }
    refused = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule", json=low, headers=as_role("staff")
    )
    assert refused.status_code == 422
    client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("staff"),
    )
    client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "1"},
        headers=as_role("staff"),
    )
    client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    session.rollback()
    # 6800 × 80 % = 5440 split 6:4 → 3264 / 2176 (the rule at checkout, not version 2)
    assert balance(session, f"liabilities:members:{world.h1.id}:payable").amount == 3264
    assert balance(session, f"liabilities:members:{world.h2.id}:payable").amount == 2176


def test_expiry_releases_stock_and_a_late_manual_payment_with_stock_gone_is_refunded_and_flagged(
    world, client, as_role, place, session, settings, monkeypatch, capsys
):
    late = place("buyer", [(world.honey, 10)]).json()
    _age(session, late["id"], reserved_until=utcnow() - timedelta(minutes=1))
    assert _run(monkeypatch, settings, "orders", "expire") == 0
    assert f"expired 1 order(s): {late['id']}" in capsys.readouterr().out
    assert _fresh(session, Lot, world.honey_lot.id).reserved == 0
    assert (
        client.get(f"/api/v1/orders/{late['id']}", headers=as_role("buyer")).json()["status"]
        == "expired"
    )
    assert (
        place("other_buyer", [(world.honey, 10)]).status_code == 201
    )  # someone else takes the stock

    paid = client.post(
        f"/api/v1/orders/{late['id']}/payments/manual",
        json={"amount": 68000, "currency": "CNY", "reference": "late"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    state = client.get(f"/api/v1/orders/{late['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "refunded"
    assert state["flagged"] is True
    assert state["refunded"]["amount"] == 68000
    lot = _fresh(session, Lot, world.honey_lot.id)
    assert (lot.reserved, lot.sold) == (10, 0)  # the other buyer's reservation only
    assert balance(session, "assets:clearing:manual").amount == 0


def test_a_late_payment_with_stock_still_there_revives_the_order(
    world, client, as_role, place, session, settings, monkeypatch
):
    order = place("buyer", [(world.honey, 3)]).json()
    _age(session, order["id"], reserved_until=utcnow() - timedelta(minutes=1))
    _run(monkeypatch, settings, "orders", "expire")
    client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 20400, "currency": "CNY"},
        headers=as_role("staff"),
    )
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "paid"
    assert not state["flagged"]
    lot = _fresh(session, Lot, world.honey_lot.id)
    assert (lot.reserved, lot.sold) == (0, 3)


def test_late_card_payment_with_stock_gone_is_refunded_through_stripe(
    world, client, as_role, place, session, settings, monkeypatch, live_server, localstripe
):
    order = place("buyer", [(world.honey, 10)], method="stripe").json()
    _age(session, order["id"], reserved_until=utcnow() - timedelta(minutes=1))
    _run(monkeypatch, settings, "orders", "expire")
    assert place("other_buyer", [(world.honey, 10)]).status_code == 201
    _pay(localstripe, order["payment"]["payment_intent_id"])
    state = _wait_for(
        client,
        f"/api/v1/orders/{order['id']}",
        lambda o: o["status"] != "expired",
        as_role("buyer"),
    )
    assert state["status"] == "refunded"
    assert state["flagged"]
    from tests.orders.test_stripe import _browser

    refunds = _browser(localstripe).v1.refunds.list(
        params={"payment_intent": order["payment"]["payment_intent_id"]}
    )
    assert [r.amount for r in refunds.data] == [68000]
    session.rollback()
    assert balance(session, "assets:clearing:stripe").amount == 0


def test_buyer_cancels_a_paid_order_before_shipping_stock_back_money_back(
    world, client, as_role, place, session
):
    order = place("buyer", [(world.honey, 2)]).json()
    client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 13600, "currency": "CNY"},
        headers=as_role("staff"),
    )
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=as_role("buyer"))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refunded"]["amount"] == 13600
    lot = _fresh(session, Lot, world.honey_lot.id)
    assert (lot.reserved, lot.sold) == (0, 0)
    assert balance(session, "liabilities:buyers:deposits").amount == 0
    again = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=as_role("buyer"))
    assert again.status_code == 409
    assert again.json()["errors"] == [{"loc": ["order", "status"], "msg": "cancelled"}]


def test_shipped_orders_cannot_be_cancelled_and_auto_deliver_settles_them(
    world, client, as_role, place, session, settings, monkeypatch, capsys
):
    order = place("buyer", [(world.honey, 1)]).json()
    client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("manager_a"),
    )
    client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "1"},
        headers=as_role("manager_a"),
    )
    assert (
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=as_role("buyer")).status_code
        == 409
    )
    assert _run(monkeypatch, settings, "orders", "auto-deliver", "--days", "3") == 0
    assert "delivered and settled 0 order(s)" in capsys.readouterr().out
    _age(session, order["id"], shipped_at=utcnow() - timedelta(days=4))
    _run(monkeypatch, settings, "orders", "auto-deliver", "--days", "3")
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "settled"
    assert state["timeline"][-2]["actor"] == "system"
    session.rollback()
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def test_overpaying_and_wrong_currency_are_refused(world, client, as_role, place):
    order = place("buyer", [(world.honey, 1)]).json()
    url = f"/api/v1/orders/{order['id']}/payments/manual"
    assert (
        client.post(
            url, json={"amount": 6801, "currency": "CNY"}, headers=as_role("staff")
        ).status_code
        == 409
    )
    wrong = client.post(url, json={"amount": 6800, "currency": "USD"}, headers=as_role("staff"))
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "currency"]
    part = client.post(url, json={"amount": 3000, "currency": "CNY"}, headers=as_role("staff"))
    assert part.status_code == 201
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert (state["status"], state["payment_status"]) == ("pending_payment", "partially_paid")


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10"])
def test_refund_amount_must_be_a_positive_integer(world, client, as_role, place, amount):
    order = place("buyer", [(world.honey, 1)]).json()
    response = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": amount, "currency": "CNY"},
        headers={**as_role("staff"), "Idempotency-Key": "r"},
    )
    assert response.status_code == 422
