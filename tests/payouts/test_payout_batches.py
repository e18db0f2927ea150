"""Payout batches in the ledger: holds, confirmation, failure, idempotency, households that left."""

from datetime import date

import pytest
from sqlmodel import Session

from catalog.models import Cooperative, HouseholdStatus
from catalog.payout_details import (
    HouseholdLeft,
    batch_rows,
    confirm_payout_line,
    create_coop_batch,
)
from ledger import payouts, service
from ledger.errors import LimitExceeded
from tests.payouts.conftest import HouseholdFactory, earn

PAID_ON = date(2026, 11, 30)


def payable(session: Session, household_id: int | None) -> int:
    return service.balance(session, f"liabilities:members:{household_id}:payable").amount


def make_batch(session: Session, coop: Cooperative, minimum: int = 1000) -> payouts.BatchResult:
    assert coop.id is not None
    return create_coop_batch(
        session,
        coop_id=coop.id,
        period="2026-11",
        currency="CNY",
        minimum=minimum,
        effective_date=PAID_ON,
        created_by="staff",
    )


def test_batch_holds_every_payable_above_the_minimum(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    rich, poor, gone = household(), household(), household()
    earn(session, rich, 12_345)
    earn(session, poor, 999)
    earn(session, gone, 5_000)
    gone.status = HouseholdStatus.left.value
    session.add(gone)
    session.commit()

    result = make_batch(session, coop)
    session.commit()

    assert [(line.household_id, line.amount) for line in result.lines] == [(rich.id, 12_345)]
    assert payable(session, rich.id) == 0
    assert payable(session, poor.id) == 999  # below the minimum: waits
    assert payable(session, gone.id) == 5_000  # left: not in the batch
    assert service.balance(session, payouts.PENDING_ACCOUNT).amount == 12_345
    rows = batch_rows(session, result.batch.id or 0)
    assert rows[0].member_code == rich.member_code
    assert rows[0].name == rich.name


def test_creating_twice_returns_the_first_batch_and_holds_once(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    member = household()
    earn(session, member, 5_000)
    first = make_batch(session, coop)
    session.commit()
    earn(session, member, 700)  # earned after the batch: stays on the payable
    again = make_batch(session, coop)
    session.commit()
    assert again.replayed
    assert again.batch.id == first.batch.id
    assert [line.id for line in again.lines] == [line.id for line in first.lines]
    assert payable(session, member.id) == 700
    with pytest.raises(payouts.PayoutConflict):
        make_batch(session, coop, minimum=2000)


def test_confirm_pays_from_pending_to_bank_once(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    member = household()
    earn(session, member, 8_000)
    line = make_batch(session, coop).lines[0]
    session.commit()
    assert line.id is not None
    paid = confirm_payout_line(
        session, line_id=line.id, bank_reference="B-1", paid_on=PAID_ON, decided_by="staff"
    )
    again = confirm_payout_line(
        session, line_id=line.id, bank_reference="B-1", paid_on=PAID_ON, decided_by="staff"
    )
    session.commit()
    assert paid.status == again.status == "paid"
    assert paid.paid_entry_id == again.paid_entry_id
    assert service.balance(session, payouts.PENDING_ACCOUNT).amount == 0
    assert service.balance(session, "assets:bank").amount == -8_000
    with pytest.raises(payouts.PayoutConflict):
        confirm_payout_line(
            session, line_id=line.id, bank_reference="B-2", paid_on=PAID_ON, decided_by="x"
        )
    with pytest.raises(payouts.PayoutConflict):
        payouts.fail_line(session, line_id=line.id, reason="bounced")
    assert payouts.get_batch(session, line.batch_id).status == "done"


def test_failure_returns_the_money_and_the_line_cannot_then_be_paid(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    member = household()
    earn(session, member, 3_000)
    line = make_batch(session, coop).lines[0]
    assert line.id is not None
    payouts.fail_line(session, line_id=line.id, reason="account closed")
    payouts.fail_line(session, line_id=line.id, reason="account closed")  # idempotent
    session.commit()
    assert payable(session, member.id) == 3_000
    assert service.balance(session, payouts.PENDING_ACCOUNT).amount == 0
    with pytest.raises(payouts.PayoutConflict):
        payouts.confirm_line(session, line_id=line.id, bank_reference="B", paid_on=PAID_ON)


def test_paying_a_household_that_left_is_a_conflict(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    member = household()
    earn(session, member, 3_000)
    line = make_batch(session, coop).lines[0]
    member.status = HouseholdStatus.left.value
    session.add(member)
    session.commit()
    assert line.id is not None
    with pytest.raises(HouseholdLeft):
        confirm_payout_line(
            session, line_id=line.id, bank_reference="B", paid_on=PAID_ON, decided_by="s"
        )


def test_a_hold_never_exceeds_the_payable(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    """Two batches racing on one payable: the non_negative limit refuses the second hold."""
    member = household()
    earn(session, member, 4_000)
    assert coop.id is not None
    stale = payouts.Payee(member.id or 0, f"liabilities:members:{member.id}:payable")
    make_batch(session, coop)
    with pytest.raises(LimitExceeded):
        # A payee list computed before the first hold, replayed with its stale balance.
        service.post(
            session,
            service.EntrySpec(
                kind="payout",
                effective_date=PAID_ON,
                postings=(
                    service.PostingSpec(stale.payable_account, service.Side.debit, 4_000, "CNY"),
                    service.PostingSpec(payouts.PENDING_ACCOUNT, service.Side.credit, 4_000, "CNY"),
                ),
                idempotency_key="race",
            ),
        )
