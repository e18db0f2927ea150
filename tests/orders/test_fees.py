"""Processing fees: posted once per payment as an expense, then borne as each line's rule says —
by the enterprise, or pro rata out of every part at settlement — and shown on the receipt."""

from datetime import date

import pytest
from sqlmodel import col, select

from ledger.models import Account
from ledger.service import balance, trial_balance
from orders.models import Order, Payment
from orders.postings import PROCESSING_FEES, post_processing_fee


def _paid_order(client, as_role, place, lines) -> dict:
    order = place("buyer", lines).json()
    total = order["total"]["amount"]
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": total, "currency": "CNY", "reference": "ICBC"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    return order


def _post_fee(session, order_id: int, fee: int) -> int | None:
    session.rollback()
    payment = session.scalars(select(Payment).where(col(Payment.order_id) == order_id)).one()
    entry = post_processing_fee(
        session,
        payment_id=payment.id,
        order_id=order_id,
        provider=payment.provider,
        amount=fee,
        currency="CNY",
        created_by="test",
        on=date.today(),
    )
    session.commit()
    return entry


def _ship_and_deliver(client, as_role, world, order_id: int) -> None:
    for role in ("manager_a", "manager_b"):
        client.post(
            f"/api/v1/orders/{order_id}/ship",
            json={"carrier": "SF", "tracking_number": "1"},
            headers=as_role(role),
        )
    delivered = client.post(f"/api/v1/orders/{order_id}/deliver", headers=as_role("buyer"))
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "settled"


def _receipt(client, as_role, order_id: int) -> dict[str, int]:
    body = client.get(f"/api/v1/orders/{order_id}/receipt", headers=as_role("buyer")).json()
    parts: dict[str, int] = {}
    for part in body["split"]:
        parts[part["party"]] = parts.get(part["party"], 0) + part["amount"]
    assert sum(parts.values()) == body["paid"]["amount"]
    return parts


def _balance(session, key: str) -> int:
    session.rollback()
    return balance(session, key).amount


def test_a_fee_borne_by_the_enterprise_is_its_expense_and_posts_once(
    world, client, as_role, place, session
):
    order = _paid_order(client, as_role, place, [(world.honey, 1)])
    first = _post_fee(session, order["id"], 200)
    assert first is not None
    assert _post_fee(session, order["id"], 200) == first  # idempotent by the payment
    assert _post_fee(session, order["id"], 0) is None  # no fee, no entry
    before = _receipt(client, as_role, order["id"])
    assert before == {"escrow": 6600, "fees": 200}
    _ship_and_deliver(client, as_role, world, order["id"])
    after = _receipt(client, as_role, order["id"])
    assert after["fees"] == 200
    assert after["enterprise"] == 680 - 200  # 10 % service fee, less the fee it bears
    assert sum(v for k, v in after.items() if k.startswith("household:")) == 4760  # 70 %, whole
    assert _balance(session, PROCESSING_FEES) == 200
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def test_a_pro_rata_fee_comes_out_of_every_part_at_settlement(
    world, client, as_role, place, session
):
    rule = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule",
        json={
            "effective_from": "2026-01-01",
            "parts": {
                "producers": 7000,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 1000,
            },
            "fee_bearer": "pro_rata",
        },
        headers=as_role("staff"),
    )
    assert rule.status_code == 201, rule.text
    # honey (coop A, pro rata) 6800 and mushrooms (coop B, the default: enterprise) 4500
    order = _paid_order(client, as_role, place, [(world.honey, 1), (world.mushrooms, 1)])
    _post_fee(session, order["id"], 113)
    _ship_and_deliver(client, as_role, world, order["id"])
    parts = _receipt(client, as_role, order["id"])
    assert parts["fees"] == 113
    # the fee spread by line: honey 68 (6800/11300 of 113), mushrooms 45
    honey_households = sum(
        v
        for k, v in parts.items()
        if k.startswith("household:") and not k.endswith(world.h3.member_code)
    )
    assert honey_households == 4713  # 70 % of 6800 − 68 = 6732, largest remainder
    assert parts[f"fund:collective:{world.coop_a.id}"] == 673
    assert parts[f"household:{world.h3.member_code}"] == 3150  # coop B untouched: 70 % of 4500
    assert parts["enterprise"] == 673 + 450 - 45  # A's part of 6732, B's 450 less B's fee share
    assert _balance(session, PROCESSING_FEES) == 45  # only the enterprise-borne share remains
    session.rollback()
    stored = session.get(Order, order["id"])
    assert stored is not None
    assert stored.settlement_entry_id is not None
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def _pro_rata_rule(client, as_role, world) -> None:
    rule = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule",
        json={
            "effective_from": "2026-01-01",
            "parts": {
                "producers": 7000,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 1000,
            },
            "fee_bearer": "pro_rata",
        },
        headers=as_role("staff"),
    )
    assert rule.status_code == 201, rule.text


def _refund(client, as_role, order_id: int, amount: int, key: str) -> None:
    made = client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"amount": amount, "currency": "CNY", "reason": "damaged"},
        headers={**as_role("staff"), "Idempotency-Key": key},
    )
    assert made.status_code == 201, made.text


def _payables_and_trial_balance_ok(session) -> None:
    session.rollback()
    for total in trial_balance(session).totals:
        assert total.debits == total.credits
    keys = session.scalars(
        select(Account.key).where(col(Account.key).startswith("liabilities:members:"))
    ).all()
    for key in keys:
        assert balance(session, key).amount >= 0, key


@pytest.mark.parametrize("bearer", ["enterprise", "pro_rata"])
def test_receipt_sums_to_paid_less_refunds_with_a_fee_and_refunds_before_and_after_settlement(
    world, client, as_role, place, session, bearer
):
    if bearer == "pro_rata":
        _pro_rata_rule(client, as_role, world)
    order = _paid_order(client, as_role, place, [(world.honey, 1), (world.mushrooms, 1)])
    _post_fee(session, order["id"], 113)
    _refund(client, as_role, order["id"], 1001, "before")  # before settlement
    parts = _receipt(client, as_role, order["id"])
    assert parts["fees"] == 113
    assert sum(parts.values()) == 11300 - 1001
    _ship_and_deliver(client, as_role, world, order["id"])
    parts = _receipt(client, as_role, order["id"])
    assert parts["fees"] == 113
    assert "escrow" not in parts
    assert sum(parts.values()) == 11300 - 1001
    # refund spread 602 honey / 399 mushrooms; honey's fee share 68, its parts bear 62 of it
    # (68 × 6198 / 6800); the rest is the enterprise's expense
    assert _balance(session, PROCESSING_FEES) == (51 if bearer == "pro_rata" else 113)
    _refund(client, as_role, order["id"], 2003, "after")  # after settlement
    # honey gives back 1205 of its 6198: ~12 of the 62 fee goes back to its parts
    if bearer == "pro_rata":
        assert 51 + 12 <= _balance(session, PROCESSING_FEES) <= 51 + 13
    else:
        assert _balance(session, PROCESSING_FEES) == 113
    parts = _receipt(client, as_role, order["id"])
    assert parts["fees"] == 113
    assert sum(parts.values()) == 11300 - 1001 - 2003
    assert all(v >= 0 for k, v in parts.items() if k.startswith("household:")), parts
    _payables_and_trial_balance_ok(session)


@pytest.mark.parametrize("bearer", ["enterprise", "pro_rata"])
def test_a_full_refund_after_settlement_of_an_order_with_a_fee_succeeds(
    world, client, as_role, place, session, bearer
):
    if bearer == "pro_rata":
        _pro_rata_rule(client, as_role, world)
    order = _paid_order(client, as_role, place, [(world.honey, 1)])
    _post_fee(session, order["id"], 200)
    _ship_and_deliver(client, as_role, world, order["id"])
    _refund(client, as_role, order["id"], 6800, "all")
    parts = _receipt(client, as_role, order["id"])
    assert parts["fees"] == 200
    assert sum(parts.values()) == 0
    # nothing kept: the parts hold nothing back and bear none of the fee; the enterprise bears it
    assert {k: v for k, v in parts.items() if v} == {"fees": 200, "enterprise": -200}
    _payables_and_trial_balance_ok(session)
    assert _balance(session, PROCESSING_FEES) == 200


def test_a_partial_then_full_refund_after_settlement_returns_the_pro_rata_fee_in_proportion(
    world, client, as_role, place, session
):
    _pro_rata_rule(client, as_role, world)
    order = _paid_order(client, as_role, place, [(world.honey, 1)])
    _post_fee(session, order["id"], 200)
    _ship_and_deliver(client, as_role, world, order["id"])
    assert _balance(session, PROCESSING_FEES) == 0  # the parts paid it all back
    _refund(client, as_role, order["id"], 3400, "half")
    assert _balance(session, PROCESSING_FEES) == 100  # half of it returned to the parts
    parts = _receipt(client, as_role, order["id"])
    assert sum(parts.values()) == 3400
    _payables_and_trial_balance_ok(session)
    _refund(client, as_role, order["id"], 3400, "rest")
    assert _balance(session, PROCESSING_FEES) == 200
    assert sum(_receipt(client, as_role, order["id"]).values()) == 0
    _payables_and_trial_balance_ok(session)
