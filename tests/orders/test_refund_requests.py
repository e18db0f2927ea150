"""Refund requests: the buyer asks (whole order, an amount, or lines), staff approve (the refund is
made, the ledger balances) or decline (with a reason the buyer reads); one open request per order."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from ledger.service import balance, trial_balance
from orders.models import OrderLine, Refund
from orders.refund_request_models import RefundRequest
from tests.orders.test_stripe import _card_order, _pay, _wait_for


@pytest.fixture
def paid_order(world, client, as_role, place):
    """place → pay (manual, by staff) → optionally ship (both cooperatives) → optionally deliver."""

    def make(lines=None, *, role="buyer", until="paid"):
        lines = lines or [(world.honey, 2)]
        order = place(role, lines).json()
        total = order["total"]["amount"]
        paid = client.post(
            f"/api/v1/orders/{order['id']}/payments/manual",
            json={"amount": total, "currency": "CNY", "reference": "bank-1"},
            headers=as_role("staff"),
        )
        assert paid.status_code == 201, paid.text
        if until in ("shipped", "settled"):
            for manager in sorted(
                {"manager_a" if p is world.honey else "manager_b" for p, _ in lines}
            ):
                shipped = client.post(
                    f"/api/v1/orders/{order['id']}/ship",
                    json={"carrier": "SF", "tracking_number": "SF1"},
                    headers=as_role(manager),
                )
                assert shipped.status_code == 200, shipped.text
        if until == "settled":
            settled = client.post(
                f"/api/v1/orders/{order['id']}/deliver",
                headers=as_role(role) if role != "guest" else {},
                params={"token": order.get("access_token")} if role == "guest" else None,
            )
            assert settled.json()["status"] == "settled", settled.text
        return order

    return make


def _ask(client, headers, order_id, token=None, **body):
    body.setdefault("reason", "两瓶蜂蜜在路上碎了")
    params = {"token": token} if token else None
    return client.post(
        f"/api/v1/orders/{order_id}/refund-requests", json=body, headers=headers, params=params
    )


def _balanced(session) -> None:
    session.rollback()
    totals = trial_balance(session).totals
    assert totals
    for total in totals:
        assert total.debits == total.credits


def test_whole_order_request_on_a_shipped_order_is_approved_once(
    world, client, as_role, paid_order, session
):
    order = paid_order(until="shipped")
    asked = _ask(client, as_role("buyer"), order["id"])
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert (request["status"], request["scope"]) == ("open", "whole_order")
    assert request["amount"] == {"amount": 13600, "currency": "CNY"}
    assert request["requested_by"] == f"user:{world.user('buyer').id}"
    assert request["refund_id"] is None

    approved = client.post(
        f"/api/v1/refund-requests/{request['id']}/approve",
        json={"reference": "ICBC-REF-1"},
        headers=as_role("staff"),
    )
    assert approved.status_code == 201, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["decided_by"] == f"user:{world.user('staff').id}"
    assert body["refund_id"] is not None
    again = client.post(
        f"/api/v1/refund-requests/{request['id']}/approve", headers=as_role("staff")
    )
    assert again.status_code == 200
    assert again.json()["refund_id"] == body["refund_id"]

    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "refunded"
    assert state["refunded"]["amount"] == 13600
    session.rollback()
    refunds = list(session.scalars(select(Refund).where(col(Refund.order_id) == order["id"])))
    assert [(r.id, r.amount, r.reference) for r in refunds] == [
        (body["refund_id"], 13600, "ICBC-REF-1")
    ]
    assert refunds[0].reason.startswith(f"refund request {request['id']}: ")
    assert balance(session, "liabilities:buyers:deposits").amount == 0
    assert balance(session, "assets:clearing:manual").amount == 0
    _balanced(session)


def test_part_of_a_settled_order_reverses_the_split_and_the_ledger_still_balances(
    world, client, as_role, paid_order, session
):
    order = paid_order(until="settled")
    admin = as_role("admin")  # made before reading: a reading session must not write later
    session.rollback()
    h1_before = balance(session, f"liabilities:members:{world.h1.id}:payable").amount
    asked = _ask(client, as_role("buyer"), order["id"], amount=6800, currency="CNY")
    assert asked.status_code == 201, asked.text
    assert (asked.json()["scope"], asked.json()["amount"]["amount"]) == ("amount", 6800)
    approved = client.post(f"/api/v1/refund-requests/{asked.json()['id']}/approve", headers=admin)
    assert approved.status_code == 201, approved.text
    session.rollback()
    refund = session.get(Refund, approved.json()["refund_id"])
    assert (refund.amount, refund.after_settlement) == (6800, True)
    # half of h1's settled share (13600 × 70 % × 6/10 = 5712) comes back
    assert balance(session, f"liabilities:members:{world.h1.id}:payable").amount == h1_before // 2
    _balanced(session)
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert (state["status"], state["refunded"]["amount"]) == ("partially_refunded", 6800)
    # the first is decided: the buyer may ask again, for at most what is left
    over = _ask(client, as_role("buyer"), order["id"], amount=6801)
    assert over.status_code == 409
    assert over.json()["errors"] == [{"loc": ["body", "amount"], "msg": "at most 6800"}]
    rest = _ask(client, as_role("buyer"), order["id"])
    assert rest.status_code == 201
    assert rest.json()["amount"]["amount"] == 6800


def test_a_request_by_line_refunds_that_line_only(world, client, as_role, paid_order, session):
    order = paid_order([(world.honey, 2), (world.mushrooms, 1)], until="shipped")
    honey_line, mushroom_line = (line["id"] for line in order["lines"])
    asked = _ask(
        client,
        as_role("buyer"),
        order["id"],
        lines=[{"line_id": mushroom_line, "amount": 4500}],
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["lines"] == [
        {"line_id": mushroom_line, "amount": {"amount": 4500, "currency": "CNY"}}
    ]
    assert asked.json()["amount"]["amount"] == 4500
    approved = client.post(
        f"/api/v1/refund-requests/{asked.json()['id']}/approve", headers=as_role("staff")
    )
    assert approved.status_code == 201, approved.text
    session.rollback()
    assert session.get(OrderLine, mushroom_line).refunded_amount == 4500
    assert session.get(OrderLine, honey_line).refunded_amount == 0
    _balanced(session)


def test_line_requests_are_checked_line_by_line(world, client, as_role, paid_order):
    order = paid_order([(world.honey, 2), (world.mushrooms, 1)], until="shipped")
    honey_line, mushroom_line = (line["id"] for line in order["lines"])
    buyer = as_role("buyer")
    too_much = _ask(client, buyer, order["id"], lines=[{"line_id": mushroom_line, "amount": 4501}])
    assert too_much.status_code == 409
    assert too_much.json()["errors"] == [
        {"loc": ["body", "lines"], "msg": f"line {mushroom_line}: at most 4500"}
    ]
    other = _ask(client, buyer, order["id"], lines=[{"line_id": 999999, "amount": 1}])
    assert other.status_code == 422
    assert other.json()["errors"][0]["loc"] == ["body", "lines", 0, "line_id"]
    mismatch = _ask(
        client,
        buyer,
        order["id"],
        amount=100,
        lines=[{"line_id": honey_line, "amount": 50}],
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["errors"][0]["loc"] == ["body", "amount"]


def test_one_open_request_per_order_then_decline_lets_the_buyer_ask_again(
    world, client, as_role, paid_order
):
    order = paid_order(until="shipped")
    first = _ask(client, as_role("buyer"), order["id"], amount=1000)
    assert first.status_code == 201
    second = _ask(client, as_role("buyer"), order["id"], amount=2000)
    assert second.status_code == 409
    assert second.json()["errors"] == [
        {"loc": ["order", "refund_requests"], "msg": f"request {first.json()['id']} is open"}
    ]
    url = f"/api/v1/refund-requests/{first.json()['id']}"
    blank = client.post(f"{url}/decline", json={"reason": "   "}, headers=as_role("staff"))
    assert blank.status_code == 422
    declined = client.post(
        f"{url}/decline",
        json={"reason": "Please send a photo of the broken jars first."},
        headers=as_role("staff"),
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "Please send a photo of the broken jars first."
    assert declined.json()["refund_id"] is None
    # the buyer reads the reason
    mine = client.get(f"/api/v1/orders/{order['id']}/refund-requests", headers=as_role("buyer"))
    assert [(r["status"], r["decline_reason"]) for r in mine.json()["items"]] == [
        ("declined", "Please send a photo of the broken jars first.")
    ]
    # deciding again: decline is idempotent, approving a declined request is refused
    assert (
        client.post(f"{url}/decline", json={"reason": "x"}, headers=as_role("staff")).json()[
            "decline_reason"
        ]
        == "Please send a photo of the broken jars first."
    )
    late = client.post(f"{url}/approve", headers=as_role("staff"))
    assert late.status_code == 409
    assert late.json()["errors"] == [{"loc": ["refund_request", "status"], "msg": "declined"}]
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["refunded"]["amount"] == 0
    assert _ask(client, as_role("buyer"), order["id"], amount=2000).status_code == 201


def test_an_approved_request_cannot_be_declined(world, client, as_role, paid_order):
    order = paid_order(until="shipped")
    asked = _ask(client, as_role("buyer"), order["id"], amount=500).json()
    client.post(f"/api/v1/refund-requests/{asked['id']}/approve", headers=as_role("staff"))
    refused = client.post(
        f"/api/v1/refund-requests/{asked['id']}/decline",
        json={"reason": "changed my mind"},
        headers=as_role("staff"),
    )
    assert refused.status_code == 409
    assert refused.json()["errors"] == [{"loc": ["refund_request", "status"], "msg": "approved"}]
    missing = client.post("/api/v1/refund-requests/999999/approve", headers=as_role("staff"))
    assert missing.status_code == 404


def test_only_orders_with_money_to_give_back_take_requests(
    world, client, as_role, place, paid_order
):
    unpaid = place("buyer", [(world.honey, 1)]).json()
    refused = _ask(client, as_role("buyer"), unpaid["id"])
    assert refused.status_code == 409
    assert refused.json()["errors"] == [{"loc": ["order", "status"], "msg": "pending_payment"}]
    cancelled = paid_order()
    client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=as_role("buyer"))
    assert _ask(client, as_role("buyer"), cancelled["id"]).status_code == 409
    paid = paid_order()  # paid, not shipped: a request is taken (a part; cancelling is the rest)
    assert _ask(client, as_role("buyer"), paid["id"], amount=100).status_code == 201


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"reason": ""}, ["body", "reason"]),
        ({"reason": "   "}, ["body", "reason"]),
        ({"reason": "x" * 1001}, ["body", "reason"]),
        ({"reason": "ok", "amount": 0}, ["body", "amount"]),
        ({"reason": "ok", "amount": 1.5}, ["body", "amount"]),
        ({"reason": "ok", "amount": 100, "currency": "USD"}, ["body", "currency"]),
        ({"reason": "ok", "lines": []}, ["body", "lines"]),
    ],
)
def test_bad_requests_name_the_field(world, client, as_role, paid_order, body, loc):
    order = paid_order(until="shipped")
    response = client.post(
        f"/api/v1/orders/{order['id']}/refund-requests", json=body, headers=as_role("buyer")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == loc


def test_a_staff_refund_in_between_shrinks_a_whole_order_request(
    world, client, as_role, paid_order, session
):
    order = paid_order(until="shipped")
    asked = _ask(client, as_role("buyer"), order["id"]).json()
    direct = client.post(
        f"/api/v1/orders/{order['id']}/refunds",
        json={"amount": 1000, "currency": "CNY", "reason": "goodwill"},
        headers={**as_role("staff"), "Idempotency-Key": "direct-1"},
    )
    assert direct.status_code == 201
    approved = client.post(
        f"/api/v1/refund-requests/{asked['id']}/approve", headers=as_role("staff")
    )
    assert approved.status_code == 201, approved.text
    session.rollback()
    assert session.get(Refund, approved.json()["refund_id"]).amount == 12600
    _balanced(session)


def test_the_database_keeps_one_open_request_per_order(world, client, as_role, paid_order, session):
    order = paid_order(until="shipped")
    asked = _ask(client, as_role("buyer"), order["id"], amount=100).json()
    session.rollback()
    session.add(
        RefundRequest(
            order_id=order["id"],
            scope="amount",
            amount=200,
            currency="CNY",
            reason="a second one, behind the service's back",
            requested_by="guest",
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # a decided request does not count
    decided = session.get(RefundRequest, asked["id"])
    decided.status = "declined"
    decided.decline_reason = "no"
    session.add(decided)
    session.commit()
    session.add(
        RefundRequest(
            order_id=order["id"],
            scope="amount",
            amount=200,
            currency="CNY",
            reason="now it is the only open one",
            requested_by="guest",
        )
    )
    session.commit()
    approved_without_refund = session.get(RefundRequest, asked["id"])
    approved_without_refund.status = "approved"
    session.add(approved_without_refund)
    with pytest.raises(IntegrityError):
        session.commit()  # an approved request must name its refund
    session.rollback()
    count = session.scalar(
        select(func.count())
        .select_from(RefundRequest)
        .where(col(RefundRequest.order_id) == order["id"])
    )
    assert count == 2


def test_a_guest_asks_with_the_order_link(world, client, as_role, paid_order):
    order = paid_order(role="guest", until="shipped")
    token = order["access_token"]
    assert _ask(client, {}, order["id"]).status_code == 401
    assert _ask(client, {}, order["id"], token="not-the-token").status_code == 401
    asked = _ask(client, {}, order["id"], token=token, amount=300)
    assert asked.status_code == 201, asked.text
    assert asked.json()["requested_by"] == "guest"
    listed = client.get(f"/api/v1/orders/{order['id']}/refund-requests", params={"token": token})
    assert [r["id"] for r in listed.json()["items"]] == [asked.json()["id"]]


def test_approving_a_card_order_refunds_through_stripe(
    world, client, as_role, place, live_server, localstripe, session
):
    order = _card_order(place, world, quantity=2)
    _pay(localstripe, order["payment"]["payment_intent_id"])
    _wait_for(
        client, f"/api/v1/orders/{order['id']}", lambda o: o["status"] == "paid", as_role("buyer")
    )
    asked = _ask(client, as_role("buyer"), order["id"], amount=6800)
    assert asked.status_code == 201, asked.text
    approved = client.post(
        f"/api/v1/refund-requests/{asked.json()['id']}/approve", headers=as_role("staff")
    )
    assert approved.status_code == 201, approved.text
    session.rollback()
    refund = session.get(Refund, approved.json()["refund_id"])
    assert refund.provider_refund_id is not None
    assert refund.provider_refund_id.startswith("re_")
    assert balance(session, "assets:clearing:stripe").amount == 6800
    _balanced(session)


def test_an_open_request_is_answered_when_the_money_comes_back_another_way(
    world, client, as_role, paid_order
):
    shipped = paid_order(until="shipped")
    assert _ask(client, as_role("buyer"), shipped["id"]).status_code == 201
    partly = client.post(
        f"/api/v1/orders/{shipped['id']}/refunds",
        json={"amount": 100, "currency": "CNY", "reason": "a dented lid"},
        headers={**as_role("staff"), "Idempotency-Key": "direct-1"},
    )
    assert partly.status_code == 201, partly.text
    (still_open,) = client.get(
        f"/api/v1/orders/{shipped['id']}/refund-requests", headers=as_role("buyer")
    ).json()["items"]
    assert still_open["status"] == "open"  # money is still left to refund
    rest = client.post(
        f"/api/v1/orders/{shipped['id']}/refunds",
        json={"amount": 13500, "currency": "CNY", "reason": "all of it after all"},
        headers={**as_role("staff"), "Idempotency-Key": "direct-2"},
    )
    assert rest.status_code == 201, rest.text
    (answered,) = client.get(
        f"/api/v1/orders/{shipped['id']}/refund-requests", headers=as_role("buyer")
    ).json()["items"]
    assert answered["status"] == "declined"
    assert "订单已全额退款" in answered["decline_reason"]
    approve = client.post(
        f"/api/v1/refund-requests/{answered['id']}/approve", headers=as_role("staff")
    )
    assert approve.status_code == 409

    paid = paid_order(until="paid")
    assert _ask(client, as_role("buyer"), paid["id"]).status_code == 201
    cancelled = client.post(f"/api/v1/orders/{paid['id']}/cancel", headers=as_role("buyer"))
    assert cancelled.status_code == 200, cancelled.text
    (closed,) = client.get(
        f"/api/v1/orders/{paid['id']}/refund-requests", headers=as_role("buyer")
    ).json()["items"]
    assert closed["status"] == "declined"
    assert "订单已取消" in closed["decline_reason"]
