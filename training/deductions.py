"""Tuition by deduction: a household repays its seat from each settled share it is credited.

For every enrolment repaid by deduction (accepted, its seat financed and not refunded), each later
settlement credit to the household's payable gives `floor(share × deduction_bps / 10,000)`, never
more than what is still owed, as one ledger entry (kind `training`): Dr the member payable / Cr the
account that financed the seat (the training fund, or the enterprise's training expense). It shows
on the household's statement like any other line. Each (enrolment, settlement) pair is deducted at
most once (a unique row and the entry's idempotency key), and the enrolment row is locked while
deducting so two settlements at once never repay more than the seat cost.

How settlement calls it: after posting a settlement entry, in the same transaction,
`deduct_after_settlement(session, entry_id=...)`. `deduct_pending` sweeps settlement entries that
no one passed on (a job or staff button); both use the reference `entry:{id}`, so they never
deduct twice from one share.
"""

import hashlib
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger import service as ledger
from ledger.models import Account, JournalEntry, Posting, Side
from ledger.share_rules import member_payable_key
from training.enrolments import repaid
from training.financing import ENTRY_KIND
from training.models import Enrolment, Repayment, TuitionDeduction

BASIS_POINTS = 10_000
SETTLEMENT_KINDS = ("sale", "settlement")
PAYABLE_PREFIX = "liabilities:members:"


def _open_plans(
    session: Session, *, household_id: int, currency: str, settled_at: datetime | None
) -> list[Enrolment]:
    query = (
        select(Enrolment)
        .where(
            col(Enrolment.household_id) == household_id,
            col(Enrolment.repayment) == Repayment.deduction.value,
            col(Enrolment.financing_entry_id).is_not(None),
            col(Enrolment.refund_entry_id).is_(None),
            col(Enrolment.currency) == currency,
        )
        .order_by(col(Enrolment.accepted_at), col(Enrolment.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    plans = list(session.scalars(query))
    if settled_at is not None:
        plans = [p for p in plans if p.accepted_at is not None and p.accepted_at <= settled_at]
    return plans


def _key(enrolment_id: int, settlement_ref: str) -> str:
    key = f"training:deduction:{enrolment_id}:{settlement_ref}"
    if len(key) > 200 or not key.isascii():
        key = (
            f"training:deduction:{enrolment_id}:"
            + hashlib.sha256(settlement_ref.encode()).hexdigest()
        )
    return key


def deduction_for(share_amount: int, *, rate_bps: int, outstanding: int) -> int:
    """The pure rule: the capped percentage of the share, never more than what is owed."""
    if share_amount <= 0 or outstanding <= 0:
        return 0
    return min(share_amount * rate_bps // BASIS_POINTS, outstanding)


def apply_to_settlement(
    session: Session,
    *,
    household_id: int,
    share_amount: int,
    currency: str,
    settlement_ref: str,
    effective_date: date,
    settled_at: datetime | None = None,
    actor: str = "system:training-deductions",
) -> list[ledger.PostingSpec]:
    """Deduct tuition from one settled share; returns the postings made (replays included)."""
    postings: list[ledger.PostingSpec] = []
    left = share_amount
    for plan in _open_plans(
        session, household_id=household_id, currency=currency, settled_at=settled_at
    ):
        assert plan.id is not None
        done = session.scalars(
            select(TuitionDeduction).where(
                col(TuitionDeduction.enrolment_id) == plan.id,
                col(TuitionDeduction.settlement_ref) == settlement_ref,
            )
        ).first()
        if done is not None:
            postings.extend(_postings(plan, done.amount))
            left -= done.amount
            continue
        amount = deduction_for(
            share_amount,
            rate_bps=plan.deduction_bps or 0,
            outstanding=(plan.seat_cost or 0) - repaid(session, plan.id),
        )
        amount = min(amount, left)
        if amount <= 0:
            continue
        result = ledger.post(
            session,
            ledger.EntrySpec(
                kind=ENTRY_KIND,
                effective_date=effective_date,
                postings=tuple(_postings(plan, amount)),
                idempotency_key=_key(plan.id, settlement_ref),
                memo=(
                    f"Tuition deduction for enrolment {plan.id}: "
                    f"{(plan.deduction_bps or 0) / 100:g} % of a share of {share_amount}"
                ),
                reference=f"enrolment:{plan.id}",
                metadata={"enrolment_id": plan.id, "settlement_ref": settlement_ref},
                created_by=actor,
            ),
        )
        session.add(
            TuitionDeduction(
                enrolment_id=plan.id,
                settlement_ref=settlement_ref,
                share_amount=share_amount,
                amount=amount,
                currency=currency,
                entry_id=result.entry_id,
            )
        )
        session.flush()
        postings.extend(_postings(plan, amount))
        left -= amount
    return postings


def _postings(plan: Enrolment, amount: int) -> list[ledger.PostingSpec]:
    assert plan.funding_account is not None
    return [
        ledger.PostingSpec(
            account=member_payable_key(plan.household_id),
            side=Side.debit,
            amount=amount,
            currency=plan.currency,
        ),
        ledger.PostingSpec(
            account=plan.funding_account, side=Side.credit, amount=amount, currency=plan.currency
        ),
    ]


def _payable_credits(session: Session, entry_id: int) -> list[tuple[int, int, str]]:
    """(household id, credited amount, currency) for each member payable credited by an entry."""
    rows = session.execute(
        select(col(Account.key), col(Posting.amount), col(Posting.currency))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id, col(Posting.amount) < 0)
        .where(col(Account.key).like(f"{PAYABLE_PREFIX}%"))
        .order_by(col(Posting.id))
    ).all()
    credits = []
    for key, amount, currency in rows:
        household = key.split(":")[2]
        if household.isdigit():
            credits.append((int(household), -int(amount), str(currency)))
    return credits


def deduct_after_settlement(session: Session, *, entry_id: int) -> list[ledger.PostingSpec]:
    """Deduct tuition from every household share a settlement entry credited (idempotent)."""
    entry = session.get(JournalEntry, entry_id)
    if entry is None or entry.kind not in SETTLEMENT_KINDS:
        return []
    postings: list[ledger.PostingSpec] = []
    for household_id, share, currency in _payable_credits(session, entry_id):
        postings.extend(
            apply_to_settlement(
                session,
                household_id=household_id,
                share_amount=share,
                currency=currency,
                settlement_ref=f"entry:{entry_id}",
                effective_date=entry.effective_date,
                settled_at=entry.created_at,
            )
        )
    return postings


def deduct_pending(session: Session) -> int:
    """Apply deductions to every settlement since each open plan's acceptance; returns entries made."""
    before = session.scalar(select(func.count()).select_from(TuitionDeduction)) or 0
    plans = session.scalars(
        select(Enrolment).where(
            col(Enrolment.repayment) == Repayment.deduction.value,
            col(Enrolment.financing_entry_id).is_not(None),
            col(Enrolment.refund_entry_id).is_(None),
        )
    ).all()
    entry_ids: set[int] = set()
    for plan in plans:
        if plan.accepted_at is None or (plan.seat_cost or 0) <= repaid(session, plan.id or 0):
            continue
        found = session.scalars(
            select(col(JournalEntry.id))
            .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
            .join(Account, col(Account.id) == col(Posting.account_id))
            .where(
                col(Account.key) == member_payable_key(plan.household_id),
                col(JournalEntry.kind).in_(SETTLEMENT_KINDS),
                col(JournalEntry.created_at) >= plan.accepted_at,
            )
        ).all()
        entry_ids.update(int(i) for i in found if i is not None)
    for entry_id in sorted(entry_ids):
        deduct_after_settlement(session, entry_id=entry_id)
    after = session.scalar(select(func.count()).select_from(TuitionDeduction)) or 0
    return int(after) - int(before)


def deductions_of(session: Session, enrolment_id: int) -> list[TuitionDeduction]:
    return list(
        session.scalars(
            select(TuitionDeduction)
            .where(col(TuitionDeduction.enrolment_id) == enrolment_id)
            .order_by(col(TuitionDeduction.id))
        )
    )
