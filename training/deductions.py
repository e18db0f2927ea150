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

Refunds after settlement: before the settlement is reversed for a refund, in the same transaction,
`give_back_for_refund` hands back the tuition deducted from the shares being taken back (kind
`training`: Dr the funding account / Cr the member payable), so the payable holds what the reversal
takes. Per deduction, what stays deducted is `floor(deducted × share still kept / share)` (the same
floor as the deduction itself); a full refund gives everything back, and partial refunds add up to
exactly that. Each (deduction, refund) pair posts at most once, by the idempotency key
`training:deduction-return:{deduction id}:{refund}`. The ledger is the record of what was given
back: `repaid` and `deductions_of` subtract those entries, so the enrolment owes it again and later
settlements deduct it again.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger import service as ledger
from ledger.models import Account, JournalEntry, Posting, Side
from ledger.share_rules import MEMBER_PAYABLES_PREFIX, household_of, member_payable_key
from training.financing import ENTRY_KIND
from training.models import Enrolment, Repayment, TuitionDeduction

BASIS_POINTS = 10_000
SETTLEMENT_KINDS = ("sale", "settlement")
PAYABLE_PREFIX = MEMBER_PAYABLES_PREFIX
RETURN_KEY_PREFIX = "training:deduction-return:"


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
    return _bounded(f"training:deduction:{enrolment_id}:", settlement_ref)


def _return_key(deduction_id: int, refund_ref: str) -> str:
    return _bounded(f"{RETURN_KEY_PREFIX}{deduction_id}:", refund_ref)


def _bounded(prefix: str, ref: str) -> str:
    key = prefix + ref
    if len(key) > 200 or not key.isascii():
        key = prefix + hashlib.sha256(ref.encode()).hexdigest()
    return key


def repaid(session: Session, enrolment_id: int) -> int:
    """What the household has repaid of the seat: its deductions less what was given back."""
    deducted = session.scalar(
        select(func.coalesce(func.sum(col(TuitionDeduction.amount)), 0)).where(
            col(TuitionDeduction.enrolment_id) == enrolment_id
        )
    )
    given_back = _returns(session, [enrolment_id])
    return int(deducted or 0) - sum(sum(by_refund.values()) for by_refund in given_back.values())


def _returns(session: Session, enrolment_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Deduction id → {refund → amount given back}, read from the ledger.

    A deduction debits the member payable and a seat's financing does not touch it, so every
    credit to a member payable by a `training` entry of the enrolment is a deduction given back.
    """
    references = [f"enrolment:{i}" for i in sorted(set(enrolment_ids))]
    if not references:
        return {}
    rows = session.execute(
        select(col(JournalEntry.meta), col(Posting.amount))
        .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(
            col(JournalEntry.reference).in_(references),
            col(JournalEntry.kind) == ENTRY_KIND,
            col(Account.key).like(f"{PAYABLE_PREFIX}%"),
            col(Posting.amount) < 0,
        )
    ).all()
    given_back: dict[int, dict[str, int]] = defaultdict(dict)
    for meta, amount in rows:
        deduction_id, refund = meta.get("deduction_id"), meta.get("refund")
        if isinstance(deduction_id, int) and isinstance(refund, str):
            by_refund = given_back[deduction_id]
            by_refund[refund] = by_refund.get(refund, 0) - int(amount)
    return given_back


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


def _postings(plan: Enrolment, amount: int, *, back: bool = False) -> list[ledger.PostingSpec]:
    """Dr the member payable / Cr the funding account; `back` gives a deduction back (mirror)."""
    assert plan.funding_account is not None
    payable, fund = (Side.credit, Side.debit) if back else (Side.debit, Side.credit)
    return [
        ledger.PostingSpec(
            account=member_payable_key(plan.household_id),
            side=payable,
            amount=amount,
            currency=plan.currency,
            coop_id=plan.coop_id,
            household_id=plan.household_id,
        ),
        ledger.PostingSpec(
            account=plan.funding_account,
            side=fund,
            amount=amount,
            currency=plan.currency,
            coop_id=plan.coop_id,
            household_id=plan.household_id,
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
    # A household with shares on several lines of the order has one posting per line: its share
    # of the settlement is their sum (one deduction per household and settlement).
    credits: dict[tuple[int, str], int] = {}
    for key, amount, currency in rows:
        household = key.split(":")[2]
        if household.isdigit():
            found = (int(household), str(currency))
            credits[found] = credits.get(found, 0) - int(amount)
    return [(household, amount, currency) for (household, currency), amount in credits.items()]


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


@dataclass(frozen=True)
class Deduction:
    """One deduction as it stands: `amount` is what stays repaid after `returned` was given back."""

    id: int
    enrolment_id: int
    settlement_ref: str
    share_amount: int
    deducted: int
    returned: int
    currency: str
    entry_id: int
    created_at: datetime

    @property
    def amount(self) -> int:
        return self.deducted - self.returned


def deductions_of(session: Session, enrolment_id: int) -> list[Deduction]:
    rows = session.scalars(
        select(TuitionDeduction)
        .where(col(TuitionDeduction.enrolment_id) == enrolment_id)
        .order_by(col(TuitionDeduction.id))
    ).all()
    given_back = _returns(session, [enrolment_id])
    return [
        Deduction(
            id=row.id or 0,
            enrolment_id=row.enrolment_id,
            settlement_ref=row.settlement_ref,
            share_amount=row.share_amount,
            deducted=row.amount,
            returned=sum(given_back.get(row.id or 0, {}).values()),
            currency=row.currency,
            entry_id=row.entry_id,
            created_at=row.created_at,
        )
        for row in rows
    ]


def still_deducted(deducted: int, *, share: int, taken_back: int) -> int:
    """The pure rule: what stays deducted from a share once `taken_back` of it was refunded."""
    if share <= 0:
        return 0
    kept = min(max(share - taken_back, 0), share)
    return deducted * kept // share


def give_back_for_refund(
    session: Session,
    *,
    settlement_entry_id: int,
    refund_ref: str,
    taken: Mapping[str, int],
    actor: str = "system:training-deductions",
) -> int:
    """Give back the tuition deducted from the shares a refund takes back; returns the amount.

    `taken` maps each account to how much of the settlement's credits is reversed once this
    refund is done (earlier refunds included). Idempotent per refund: a retry gives back nothing
    more and answers with what this refund gave back.
    """
    settlement_ref = f"entry:{settlement_entry_id}"
    by_household = {
        household: amount
        for key, amount in taken.items()
        if (household := household_of(key)) is not None and amount > 0
    }
    if not by_household:
        return 0
    rows = session.execute(
        select(TuitionDeduction, Enrolment)
        .join(Enrolment, col(Enrolment.id) == col(TuitionDeduction.enrolment_id))
        .where(
            col(TuitionDeduction.settlement_ref) == settlement_ref,
            col(Enrolment.household_id).in_(sorted(by_household)),
        )
        # The order _open_plans locks enrolments in, so a settlement and a refund never deadlock.
        .order_by(col(Enrolment.accepted_at), col(Enrolment.id), col(TuitionDeduction.id))
        .with_for_update(of=Enrolment)
        .execution_options(populate_existing=True)
    ).all()
    given_back = _returns(session, [plan.id or 0 for _, plan in rows])
    total = 0
    for deduction, plan in rows:
        assert deduction.id is not None
        assert plan.id is not None
        earlier = given_back.get(deduction.id, {})
        if refund_ref in earlier:
            total += earlier[refund_ref]
            continue
        keep = still_deducted(
            deduction.amount,
            share=deduction.share_amount,
            taken_back=by_household[plan.household_id],
        )
        amount = deduction.amount - sum(earlier.values()) - keep
        if amount <= 0:
            continue
        ledger.post(
            session,
            ledger.EntrySpec(
                kind=ENTRY_KIND,
                effective_date=date.today(),
                postings=tuple(_postings(plan, amount, back=True)),
                idempotency_key=_return_key(deduction.id, refund_ref),
                memo=(
                    f"Tuition deduction for enrolment {plan.id} given back: with {refund_ref}, "
                    f"{by_household[plan.household_id]} of the share of "
                    f"{deduction.share_amount} it was deducted from is taken back"
                ),
                reference=f"enrolment:{plan.id}",
                metadata={
                    "enrolment_id": plan.id,
                    "deduction_id": deduction.id,
                    "settlement_ref": settlement_ref,
                    "refund": refund_ref,
                    "returns_entry": deduction.entry_id,
                },
                created_by=actor,
            ),
        )
        total += amount
    return total
