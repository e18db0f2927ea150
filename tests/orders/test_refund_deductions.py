"""A refund after settlement of an order whose household repays tuition by deduction: the tuition
deducted from the share being taken back is given back first, in proportion, so the payable never
goes below zero and the enrolment owes again what it no longer repaid; a household already paid
out makes the refund a clear 409 with nothing stored."""

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from core.actor import Actor
from ledger import payouts
from ledger.models import JournalEntry
from ledger.service import balance, trial_balance
from ledger.share_rules import member_payable_key, training_fund_key
from orders.models import Order, Refund
from tests.orders.test_settlement_deductions import seat_repaid_by_deduction
from training import deductions, enrolment_reads
from training.financing import provider_payable
from training.models import Enrolment

STAFF = Actor(user_id=0, role="staff")
SEAT = 5_000
CAP_BPS = 1_000  # 10 % of each settled share


def _seat_repaid_by_deduction(session, world) -> tuple[int, int]:
    """h1 accepted into a coop-fund programme, repaying its seat by deduction; (enrolment, provider)."""
    return seat_repaid_by_deduction(session, world, seat=SEAT, cap_bps=CAP_BPS)


def _settled_order(client, as_role, place, lines) -> dict:
    order = place("buyer", lines).json()
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "ICBC"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    for role in ("manager_a", "manager_b"):
        client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "SF", "tracking_number": "SF1"},
            headers=as_role(role),
        )
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "settled"
    return order


def _refund(client, as_role, order_id: int, amount: int, key: str, lines=None):
    body: dict = {"amount": amount, "currency": "CNY", "reason": "damaged"}
    if lines is not None:
        body["lines"] = [{"line_id": line_id, "amount": a} for line_id, a in lines]
    return client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json=body,
        headers={**as_role("staff"), "Idempotency-Key": key},
    )


def _money(session, key: str) -> int:
    session.rollback()
    return balance(session, key).amount


def _outstanding(session, enrolment_id: int) -> tuple[int, int]:
    """(repaid, outstanding) as the enrolment's read model shows them."""
    session.rollback()
    read = enrolment_reads.enrolment_read(session, session.get(Enrolment, enrolment_id))
    return read.repaid.amount, read.outstanding.amount


def _entries(session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(JournalEntry)) or 0)


def _books_balance(session) -> None:
    session.rollback()
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def test_the_pure_rule_keeps_the_floor_and_partial_returns_add_up():
    assert deductions.still_deducted(285, share=2856, taken_back=0) == 285
    assert deductions.still_deducted(285, share=2856, taken_back=1428) == 142
    assert deductions.still_deducted(285, share=2856, taken_back=2856) == 0
    assert deductions.still_deducted(285, share=2856, taken_back=9999) == 0
    # Given back in three steps = given back at once: the rule is cumulative.
    kept = [deductions.still_deducted(285, share=2856, taken_back=t) for t in (0, 7, 2000, 2856)]
    assert sum(a - b for a, b in zip(kept, kept[1:], strict=False)) == 285


class Figures:
    """What one settled honey order (6800, lot from h1 6 / h2 4) gave h1 and took for tuition."""

    def __init__(self, session, world, enrolment_id: int) -> None:
        self.payable = member_payable_key(world.h1.id)
        self.fund = training_fund_key(world.coop_a.id)
        self.share = 0
        self.deduction = 0
        self.enrolment_id = enrolment_id

    def settled(self, session) -> None:
        session.rollback()
        rows = deductions.deductions_of(session, self.enrolment_id)
        assert len(rows) == 1
        self.share = rows[0].share_amount
        self.deduction = rows[0].amount
        assert self.deduction == self.share * CAP_BPS // 10_000 > 0
        assert _money(session, self.payable) == self.share - self.deduction


def test_full_refund_after_settlement_gives_the_tuition_deduction_back(
    world, client, as_role, place, session
):
    enrolment_id, provider_id = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    fund_before = _money(session, figures.fund)
    order = _settled_order(client, as_role, place, [(world.honey, 1)])
    figures.settled(session)
    assert _outstanding(session, enrolment_id) == (figures.deduction, SEAT - figures.deduction)

    made = _refund(client, as_role, order["id"], 6800, "all")
    assert made.status_code == 201, made.text
    assert made.json()["after_settlement"] is True

    assert _money(session, figures.payable) == 0
    # The sale's training part went back with the settlement, the deduction to the household.
    assert _money(session, figures.fund) == fund_before
    assert _money(session, provider_payable(provider_id)) == SEAT  # the seat stays financed
    assert _outstanding(session, enrolment_id) == (0, SEAT)
    session.rollback()
    [row] = deductions.deductions_of(session, enrolment_id)
    assert (row.amount, row.returned) == (0, figures.deduction)
    assert session.get(Order, order["id"]).status == "refunded"
    _books_balance(session)

    # The same refund again (a retry): the original answer, nothing posted twice.
    entries = _entries(session)
    again = _refund(client, as_role, order["id"], 6800, "all")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == made.json()["id"]
    assert _entries(session) == entries
    # The sweep does not deduct again from the share that was taken back.
    assert deductions.deduct_pending(session) == 0
    session.commit()
    assert _money(session, figures.payable) == 0
    assert _outstanding(session, enrolment_id) == (0, SEAT)


def test_partial_refund_by_amount_gives_back_the_deduction_in_proportion(
    world, client, as_role, place, session
):
    enrolment_id, _ = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    fund_before = _money(session, figures.fund)
    order = _settled_order(client, as_role, place, [(world.honey, 1)])
    figures.settled(session)

    made = _refund(client, as_role, order["id"], 3400, "half")
    assert made.status_code == 201, made.text
    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt", headers=as_role("buyer")).json()
    kept_share = sum(
        p["amount"] for p in receipt["split"] if p["party"] == f"household:{world.h1.member_code}"
    )
    training_part = sum(
        p["amount"] for p in receipt["split"] if p["party"].startswith("fund:training")
    )
    assert 0 < kept_share < figures.share
    kept_deduction = figures.deduction * kept_share // figures.share
    assert 0 < kept_deduction < figures.deduction
    assert _money(session, figures.payable) == kept_share - kept_deduction
    assert _money(session, figures.fund) == fund_before + training_part + kept_deduction
    assert _outstanding(session, enrolment_id) == (kept_deduction, SEAT - kept_deduction)
    _books_balance(session)

    # The rest: the two partial returns add up to the whole deduction, exactly.
    rest = _refund(client, as_role, order["id"], 3400, "rest")
    assert rest.status_code == 201, rest.text
    assert _money(session, figures.payable) == 0
    assert _money(session, figures.fund) == fund_before
    assert _outstanding(session, enrolment_id) == (0, SEAT)
    _books_balance(session)


def test_refund_of_one_line_gives_back_only_the_deduction_from_that_line(
    world, client, as_role, place, session
):
    enrolment_id, _ = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    fund_before = _money(session, figures.fund)
    h3_payable = member_payable_key(world.h3.id)
    order = _settled_order(client, as_role, place, [(world.honey, 1), (world.mushrooms, 1)])
    figures.settled(session)  # h1's share comes from the honey line only
    h3_before = _money(session, h3_payable)
    assert h3_before > 0
    honey_line = next(line for line in order["lines"] if line["product_id"] == world.honey.id)

    made = _refund(client, as_role, order["id"], 6800, "honey", lines=[(honey_line["id"], 6800)])
    assert made.status_code == 201, made.text
    assert _money(session, figures.payable) == 0
    assert _money(session, h3_payable) == h3_before  # the mushroom line is untouched
    assert _money(session, figures.fund) == fund_before
    assert _outstanding(session, enrolment_id) == (0, SEAT)
    session.rollback()
    assert session.get(Order, order["id"]).status == "partially_refunded"
    _books_balance(session)


def test_a_later_settlement_deducts_again_what_was_given_back(
    world, client, as_role, place, session
):
    enrolment_id, _ = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    first = _settled_order(client, as_role, place, [(world.honey, 1)])
    figures.settled(session)
    assert _refund(client, as_role, first["id"], 6800, "all").status_code == 201
    _settled_order(client, as_role, place, [(world.honey, 1)])
    # Same lot, same split: the new share gives the same deduction, owed again in full.
    assert _outstanding(session, enrolment_id) == (figures.deduction, SEAT - figures.deduction)
    assert _money(session, figures.payable) == figures.share - figures.deduction
    _books_balance(session)


def test_returning_a_deduction_twice_for_one_refund_posts_once(
    world, client, as_role, place, session
):
    enrolment_id, _ = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    _settled_order(client, as_role, place, [(world.honey, 1)])
    figures.settled(session)
    session.rollback()
    [row] = deductions.deductions_of(session, enrolment_id)
    entry_id = int(row.settlement_ref.removeprefix("entry:"))
    taken = {figures.payable: figures.share}
    first = deductions.give_back_for_refund(
        session, settlement_entry_id=entry_id, refund_ref="refund:test", taken=taken
    )
    session.commit()
    entries = _entries(session)
    again = deductions.give_back_for_refund(
        session, settlement_entry_id=entry_id, refund_ref="refund:test", taken=taken
    )
    other = deductions.give_back_for_refund(
        session, settlement_entry_id=entry_id, refund_ref="refund:other", taken=taken
    )
    session.commit()
    assert first == again == figures.deduction
    assert other == 0  # nothing left to give back
    assert _entries(session) == entries
    assert _money(session, figures.payable) == figures.share
    assert _outstanding(session, enrolment_id) == (0, SEAT)


def test_refund_of_a_paid_out_household_is_refused_with_nothing_stored(
    world, client, as_role, place, session
):
    enrolment_id, _ = _seat_repaid_by_deduction(session, world)
    figures = Figures(session, world, enrolment_id)
    order = _settled_order(client, as_role, place, [(world.honey, 1)])
    figures.settled(session)
    held = payouts.create_batch(
        session,
        coop_id=world.coop_a.id,
        period=date.today().strftime("%Y-%m"),
        currency="CNY",
        payees=[payouts.Payee(world.h1.id, figures.payable)],
        minimum=1,
        effective_date=date.today(),
    )
    assert [line.amount for line in held.lines] == [figures.share - figures.deduction]
    session.commit()
    fund = _money(session, figures.fund)
    entries = _entries(session)

    refused = _refund(client, as_role, order["id"], 6800, "all")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("refund-refused")
    detail = problem["detail"]
    assert figures.payable in detail
    # It holds only the deduction it would get back; the refund needs the whole share.
    assert f"({figures.deduction} CNY)" in detail
    assert f"({figures.share} CNY)" in detail
    [error] = problem["errors"]
    assert error["loc"] == ["ledger", figures.payable]
    assert error["balance"] == {"amount": figures.deduction, "currency": "CNY"}
    assert error["needed"] == {"amount": figures.share, "currency": "CNY"}

    assert _entries(session) == entries
    assert _money(session, figures.payable) == 0
    assert _money(session, figures.fund) == fund
    assert _outstanding(session, enrolment_id) == (figures.deduction, SEAT - figures.deduction)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Refund)) == 0
    assert session.get(Order, order["id"]).status == "settled"
    _books_balance(session)


@pytest.mark.parametrize("amount", [6800, 1000])
def test_a_household_without_deductions_refunds_as_before(
    world, client, as_role, place, session, amount
):
    order = _settled_order(client, as_role, place, [(world.honey, 1)])
    payable = member_payable_key(world.h1.id)
    share = _money(session, payable)
    made = _refund(client, as_role, order["id"], amount, f"plain-{amount}")
    assert made.status_code == 201, made.text
    left = _money(session, payable)
    assert 0 <= left < share
    assert (left == 0) == (amount == 6800)
    session.rollback()
    reversals = session.scalars(
        select(JournalEntry).where(col(JournalEntry.kind) == "training")
    ).all()
    assert reversals == []
    _books_balance(session)


def test_refund_of_a_paid_out_household_without_tuition_is_refused_too(
    world, client, as_role, place, session
):
    order = _settled_order(client, as_role, place, [(world.honey, 1)])
    payable = member_payable_key(world.h1.id)
    share = _money(session, payable)
    payouts.create_batch(
        session,
        coop_id=world.coop_a.id,
        period=date.today().strftime("%Y-%m"),
        currency="CNY",
        payees=[payouts.Payee(world.h1.id, payable)],
        minimum=1,
        effective_date=date.today(),
    )
    session.commit()
    entries = _entries(session)
    refused = _refund(client, as_role, order["id"], 3400, "half")
    assert refused.status_code == 409, refused.text
    [error] = refused.json()["errors"]
    assert error["loc"] == ["ledger", payable]
    assert error["balance"]["amount"] == 0
    assert 0 < error["needed"]["amount"] < share
    assert _entries(session) == entries
    _books_balance(session)
