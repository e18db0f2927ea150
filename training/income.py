"""Households' settled income from the ledger, per calendar window (the raw material of outcomes).

Settled income of a household over [start, end) is what settlements credited to it on a member's
payable (entries of kind `sale` or `settlement`) minus what was taken back from it (settlement
reversals for refunds, kind `refund`, and reversal entries of those kinds), by effective date. It
reads the postings' attribution (`Posting.household_id`, written when they are posted, migration
0011), the same figures as the receipts, reports and disclosures, never the account key's text. Payouts and
tuition deductions are not income changes and are left out. Per capita divides by the household
size, exactly (a Fraction): rounding happens only when a figure is shown.
"""

import calendar
from collections.abc import Iterable
from datetime import date
from fractions import Fraction

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ledger.models import Account, JournalEntry, Posting
from ledger.share_rules import MEMBER_PAYABLES_PREFIX

INCOME_KINDS = ("sale", "settlement")
TAKEBACK_KINDS = ("refund",)
# Where a household's share of a sale is credited: the members' payables.
MEMBER_PAYABLES = MEMBER_PAYABLES_PREFIX


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def settled_income(
    session: Session, household_ids: Iterable[int], *, start: date, end: date
) -> dict[int, int]:
    """Household id → settled income in minor units over [start, end) (0 when none)."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    original = aliased(JournalEntry)
    counted = or_(
        col(JournalEntry.kind).in_(INCOME_KINDS + TAKEBACK_KINDS),
        (col(JournalEntry.kind) == "reversal")
        & col(original.kind).in_(INCOME_KINDS + TAKEBACK_KINDS),
    )
    rows = session.execute(
        select(col(Posting.household_id), func.sum(col(Posting.amount)))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .outerjoin(original, col(original.id) == col(JournalEntry.reverses_id))
        .where(
            col(Posting.household_id).in_(ids),
            col(Account.key).startswith(MEMBER_PAYABLES),
            col(Posting.effective_date) >= start,
            col(Posting.effective_date) < end,
            counted,
        )
        .group_by(col(Posting.household_id))
    ).all()
    income = dict.fromkeys(ids, 0)
    for household_id, total in rows:
        income[int(household_id)] = -int(total or 0)  # credits are stored negative
    return income


def per_capita(amount: int, household_size: int) -> Fraction:
    return Fraction(amount, max(household_size, 1))


def rounded(value: Fraction) -> int:
    """Half away from zero, to whole minor units."""
    sign = -1 if value < 0 else 1
    return sign * int((abs(value) * 2 + 1) // 2)
