"""Card payments against the real Stripe emulator (localstripe) with its signed webhooks reaching the app."""

import hashlib
import hmac
import json
import time
from datetime import date, timedelta

import httpx
import pytest
import stripe
from sqlmodel import col, func, select

from ledger.models import JournalEntry
from ledger.service import balance, close_period, trial_balance
from orders.models import WebhookEvent
from tests.orders.conftest import STRIPE_KEY, WEBHOOK_SECRET

WAIT_SECONDS = 15


def _browser(localstripe: str) -> stripe.StripeClient:
    """What Stripe.js does in the page: attach a card and confirm the intent."""
    return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": localstripe})


def _pay(localstripe: str, intent_id: str, card: str = "pm_card_visa") -> None:
    browser = _browser(localstripe)
    browser.v1.payment_intents.update(intent_id, params={"payment_method": card})
    browser.v1.payment_intents.confirm(intent_id)


def _wait_for(client, url: str, predicate, headers=None) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        body = client.get(url, headers=headers or {}).json()
        if predicate(body):
            return body
        assert time.monotonic() < deadline, f"timed out waiting; last: {body}"
        time.sleep(0.2)


def _entries(session, order_id: int, kind: str) -> int:
    session.rollback()
    return session.scalar(
        select(func.count())
        .select_from(JournalEntry)
        .where(col(JournalEntry.reference) == f"order:{order_id}", col(JournalEntry.kind) == kind)
    )


def _card_order(place, world, role="buyer", quantity=1):
    response = place(role, [(world.honey, quantity)], method="stripe")
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["payment"]["provider"] == "stripe"
    assert order["payment"]["payment_intent_id"].startswith("pi_")
    assert order["payment"]["client_secret"]
    return order


def test_card_payment_signed_webhook_marks_paid_and_posts_once(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world)
    _pay(localstripe, order["payment"]["payment_intent_id"])
    paid = _wait_for(
        client, f"/api/v1/orders/{order['id']}", lambda o: o["status"] == "paid", as_role("buyer")
    )
    assert paid["payment_status"] == "paid"
    assert _entries(session, order["id"], "payment") == 1
    assert balance(session, "assets:clearing:stripe").amount == 6800
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) >= 1


def test_the_same_event_delivered_twice_is_applied_once(
    world, client, as_role, place, live_server, localstripe, session
):
    # A second registration for the same URL: localstripe sends every event to both.
    httpx.post(
        f"{localstripe}/_config/webhooks/hezuo-twice",
        data={"url": f"{live_server}/api/v1/payments/stripe/webhook", "secret": WEBHOOK_SECRET},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).raise_for_status()
    try:
        order = _card_order(place, world)
        _pay(localstripe, order["payment"]["payment_intent_id"])
        _wait_for(
            client,
            f"/api/v1/orders/{order['id']}",
            lambda o: o["status"] == "paid",
            as_role("buyer"),
        )
        time.sleep(1.5)  # let the second delivery land too
        assert _entries(session, order["id"], "payment") == 1
        assert balance(session, "assets:clearing:stripe").amount == 6800
    finally:
        # point the extra registration nowhere useful for later tests
        httpx.post(
            f"{localstripe}/_config/webhooks/hezuo-twice",
            data={"url": "http://127.0.0.1:9/none", "secret": WEBHOOK_SECRET},
            headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        )


def _signed(payload: bytes, secret: str = WEBHOOK_SECRET) -> str:
    stamp = int(time.time())
    signature = hmac.new(
        secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={stamp},v1={signature}"


def test_a_replayed_signed_event_is_stored_once_and_answered_as_duplicate(
    world, client, as_role, place, localstripe, session
):
    order = _card_order(place, world)
    _pay(localstripe, order["payment"]["payment_intent_id"])
    event = {
        "id": "evt_replayed_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {"id": order["payment"]["payment_intent_id"], "object": "payment_intent"}
        },
    }
    payload = json.dumps(event).encode()
    first = client.post(
        "/api/v1/payments/stripe/webhook",
        content=payload,
        headers={"Stripe-Signature": _signed(payload)},
    )
    second = client.post(
        "/api/v1/payments/stripe/webhook",
        content=payload,
        headers={"Stripe-Signature": _signed(payload)},
    )
    assert first.json() == {"status": "handled"}
    assert second.json() == {"status": "duplicate"}
    assert _entries(session, order["id"], "payment") == 1


@pytest.mark.parametrize("signature", [None, "t=1,v1=deadbeef", "forged"])
def test_bad_or_missing_signature_is_400_and_changes_nothing(
    world, client, as_role, place, localstripe, session, signature
):
    order = _card_order(place, world)
    _pay(localstripe, order["payment"]["payment_intent_id"])
    event = {
        "id": "evt_forged",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {"id": order["payment"]["payment_intent_id"], "object": "payment_intent"}
        },
    }
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": signature} if signature else {}
    if signature == "forged":
        headers = {"Stripe-Signature": _signed(payload, secret="whsec_someone_else")}
    response = client.post("/api/v1/payments/stripe/webhook", content=payload, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()["status"]
        == "pending_payment"
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert _entries(session, order["id"], "payment") == 0


def test_return_url_before_webhook_completes_once(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world)
    intent = order["payment"]["payment_intent_id"]
    _pay(localstripe, intent)
    back = client.post(
        f"/api/v1/orders/{order['id']}/payments/stripe/return",
        json={"payment_intent_id": intent},
        headers=as_role("buyer"),
    )
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "paid"
    _wait_for_inbox(session, 1)
    assert _entries(session, order["id"], "payment") == 1
    assert [e["to_status"] for e in back.json()["timeline"]].count("paid") == 1


def test_webhook_before_return_url_completes_once(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world, role="guest")
    token = order["access_token"]
    intent = order["payment"]["payment_intent_id"]
    _pay(localstripe, intent)
    _wait_for(
        client, f"/api/v1/orders/{order['id']}?token={token}", lambda o: o["status"] == "paid"
    )
    back = client.post(
        f"/api/v1/orders/{order['id']}/payments/stripe/return?token={token}",
        json={"payment_intent_id": intent},
    )
    assert back.status_code == 200
    assert [e["to_status"] for e in back.json()["timeline"]].count("paid") == 1
    assert _entries(session, order["id"], "payment") == 1


def _wait_for_inbox(session, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        session.rollback()
        handled = session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(col(WebhookEvent.handled_at).is_not(None))
        )
        if handled >= count:
            return
        assert time.monotonic() < deadline, "the webhook never arrived"
        time.sleep(0.2)


def test_declined_card_leaves_the_order_payable_with_a_clear_message(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world)
    with pytest.raises(stripe.CardError):
        _pay(localstripe, order["payment"]["payment_intent_id"], card="pm_card_chargeCustomerFail")
    failed = _wait_for(
        client,
        f"/api/v1/orders/{order['id']}",
        lambda o: o["payment"]["status"] == "failed",
        as_role("buyer"),
    )
    assert failed["status"] == "pending_payment"
    assert "declined" in failed["payment"]["failure_message"].lower()
    # a new attempt with another card goes through
    retry = client.post(f"/api/v1/orders/{order['id']}/payments/stripe", headers=as_role("buyer"))
    assert retry.status_code == 201, retry.text
    _pay(localstripe, retry.json()["payment_intent_id"])
    _wait_for(
        client, f"/api/v1/orders/{order['id']}", lambda o: o["status"] == "paid", as_role("buyer")
    )
    assert _entries(session, order["id"], "payment") == 1


def test_refund_after_settlement_reverses_the_split_in_proportion(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world, quantity=2)
    _pay(localstripe, order["payment"]["payment_intent_id"])
    _wait_for(
        client, f"/api/v1/orders/{order['id']}", lambda o: o["status"] == "paid", as_role("buyer")
    )
    client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "9"},
        headers=as_role("manager_a"),
    )
    assert (
        client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer")).json()[
            "status"
        ]
        == "settled"
    )
    refund = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 6800, "currency": "CNY", "reason": "one jar broke"},
        headers={**as_role("staff"), "Idempotency-Key": "refund-1"},
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["after_settlement"] is True
    replay = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 6800, "currency": "CNY", "reason": "one jar broke"},
        headers={**as_role("staff"), "Idempotency-Key": "refund-1"},
    )
    assert replay.status_code == 200
    assert replay.json()["id"] == refund.json()["id"]
    session.rollback()
    # 13600 settled 70/10/10/10, producers 9520 split 6:4 → h1 5712, h2 3808; half reversed
    assert balance(session, f"liabilities:members:{world.h1.id}:payable").amount == 2856
    assert balance(session, f"liabilities:members:{world.h2.id}:payable").amount == 1904
    assert balance(session, f"equity:coops:{world.coop_a.id}:collective-fund").amount == 680
    assert balance(session, "assets:clearing:stripe").amount == 6800
    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt", headers=as_role("buyer")).json()
    assert receipt["paid"]["amount"] == 6800
    assert sum(p["amount"] for p in receipt["split"]) == 6800
    over = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 6801, "currency": "CNY", "reason": "too much"},
        headers={**as_role("staff"), "Idempotency-Key": "refund-2"},
    )
    assert over.status_code == 409
    assert "At most 6800" in over.json()["detail"]
    rest = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 6800, "currency": "CNY", "reason": "the rest"},
        headers={**as_role("staff"), "Idempotency-Key": "refund-3"},
    )
    assert rest.status_code == 201
    session.rollback()
    for key in (
        f"liabilities:members:{world.h1.id}:payable",
        f"liabilities:members:{world.h2.id}:payable",
        "income:enterprise:service-fees",
        "assets:clearing:stripe",
        "liabilities:buyers:deposits",
    ):
        assert balance(session, key).amount == 0, key
    for total in trial_balance(session).totals:
        assert total.debits == total.credits
    refunds = _browser(localstripe).v1.refunds.list(
        params={"payment_intent": order["payment"]["payment_intent_id"]}
    )
    assert sorted(r.amount for r in refunds.data) == [6800, 6800]
    final = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert final["status"] == "refunded"


def test_a_refund_refused_on_our_side_never_reaches_stripe(
    world, client, as_role, place, live_server, localstripe, session
):
    """Stripe is asked last: here the ledger refuses the refund's entry (the month was closed
    meanwhile), and the emulator must show no refund at all for the payment."""
    order = _card_order(place, world)
    intent = order["payment"]["payment_intent_id"]
    _pay(localstripe, intent)
    _wait_for(
        client, f"/api/v1/orders/{order['id']}", lambda o: o["status"] == "paid", as_role("buyer")
    )
    # A month can only be closed once it has ended: close this one as if it were next month.
    this_month = date.today()
    next_month = (this_month.replace(day=28) + timedelta(days=4)).replace(day=1)
    close_period(session, f"{this_month:%Y-%m}", today=next_month)
    session.commit()
    refused = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 1000, "currency": "CNY", "reason": "a dented lid"},
        headers={**as_role("staff"), "Idempotency-Key": "refund-closed"},
    )
    assert refused.status_code == 409, refused.text
    assert _browser(localstripe).v1.refunds.list(params={"payment_intent": intent}).data == []
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "paid"
    assert state["refunded"]["amount"] == 0
