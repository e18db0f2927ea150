"""Reconciliation of a ledger account against its external statement, per month, and period close.

For an account and a month: the ledger balance and the statement balance at the month's end, what
is matched, the open items on each side (the difference is exactly open postings − open lines),
which of them staff explained, and whether the month may be closed. A month closes (the ledger's
period close, which refuses later back-dated entries) only when every open item is explained.
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from core.errors import Conflict, Invalid, NotFound
from ledger.accounts import get_account
from ledger.balances import balance
from ledger.bank import LedgerItem, ledger_items, open_items, statement_lines
from ledger.bank import matched_ids as _matched_ids
from ledger.payout_models import Explanation, LineState, StatementLine
from ledger.periods import PERIOD_PATTERN, close_period, is_closed, require_closable


class UnexplainedDifferences(Conflict):
    title = "Unexplained reconciliation differences"
    type_slug = "reconciliation-differences"


@dataclass(frozen=True)
class OpenItem:
    side: str  # "ledger" (in the books, not on the statement) | "statement" (the other way)
    id: int  # posting id or statement line id
    on: date
    amount: int
    reference: str
    description: str
    explanation: str | None


@dataclass(frozen=True)
class Reconciliation:
    account: str
    currency: str
    period: str
    period_end: date
    ledger_balance: int
    statement_balance: int
    matched_ledger: int
    matched_statement: int
    matched_count: int
    open_items: list[OpenItem]
    closed: bool

    @property
    def difference(self) -> int:
        return self.ledger_balance - self.statement_balance

    @property
    def unexplained(self) -> list[OpenItem]:
        return [item for item in self.open_items if item.explanation is None]

    @property
    def explained_amount(self) -> int:
        return sum(
            item.amount if item.side == "ledger" else -item.amount
            for item in self.open_items
            if item.explanation is not None
        )

    @property
    def closable(self) -> bool:
        return not self.unexplained and self.explained_amount == self.difference


MIN_YEAR, MAX_YEAR = 1, 9998


def period_end(period: str) -> date:
    if not PERIOD_PATTERN.match(period):
        raise Invalid(
            f"{period!r} is not a period; write the month as YYYY-MM.",
            errors=[{"loc": ["period"], "msg": "YYYY-MM"}],
        )
    year, month = (int(part) for part in period.split("-"))
    if not MIN_YEAR <= year <= MAX_YEAR:  # year 0000 is no date at all
        raise Invalid(
            f"{period!r} is not a period: the year must be between {MIN_YEAR} and {MAX_YEAR}.",
            errors=[{"loc": ["period"], "msg": "YYYY-MM"}],
        )
    return date(year, month, calendar.monthrange(year, month)[1])


def _explanations(session: Session, account_key: str) -> tuple[dict[int, str], dict[int, str]]:
    lines: dict[int, str] = {}
    postings: dict[int, str] = {}
    for row in session.scalars(
        select(Explanation).where(col(Explanation.account_key) == account_key)
    ):
        if row.statement_line_id is not None:
            lines[row.statement_line_id] = row.reason
        if row.posting_id is not None:
            postings[row.posting_id] = row.reason
    return lines, postings


def _posting_item(item: LedgerItem, explanation: str | None) -> OpenItem:
    return OpenItem(
        side="ledger",
        id=item.posting_id,
        on=item.effective_date,
        amount=item.amount,
        reference=item.reference,
        description=item.memo,
        explanation=explanation,
    )


def reconcile(session: Session, *, account_key: str, period: str) -> Reconciliation:
    end = period_end(period)
    account = get_account(session, account_key)
    lines, items = open_items(session, account_key, until=end)
    explained_lines, explained_postings = _explanations(session, account_key)
    matched_line_ids, matched_posting_ids = _matched_ids(session, account_key)
    all_lines = statement_lines(session, account_key, until=end)
    all_items = ledger_items(session, account_key, until=end)
    open_list = [_posting_item(i, explained_postings.get(i.posting_id)) for i in items] + [
        OpenItem(
            side="statement",
            id=line.id or 0,
            on=line.booked_on,
            amount=line.amount,
            reference=line.reference,
            description=line.description or line.counterparty,
            explanation=explained_lines.get(line.id or 0),
        )
        for line in lines
    ]
    open_list.sort(key=lambda i: (i.on, i.side, i.id))
    statement_total = sum(line.amount for line in all_lines)
    return Reconciliation(
        account=account_key,
        currency=account.currency,
        period=period,
        period_end=end,
        ledger_balance=account.normal_sign * balance(session, account_key, as_of=end).amount,
        statement_balance=statement_total,
        matched_ledger=sum(i.amount for i in all_items if i.posting_id in matched_posting_ids),
        matched_statement=sum(line.amount for line in all_lines if line.id in matched_line_ids),
        matched_count=sum(1 for line in all_lines if line.id in matched_line_ids),
        open_items=open_list,
        closed=is_closed(session, period),
    )


def reconciled_accounts(session: Session) -> list[str]:
    """Accounts that have an external statement (bank, Stripe)."""
    return list(
        session.scalars(
            select(col(StatementLine.account_key))
            .group_by(col(StatementLine.account_key))
            .order_by(col(StatementLine.account_key))
        )
    )


def explain(
    session: Session,
    *,
    account_key: str,
    period: str,
    reason: str,
    statement_line_id: int | None = None,
    posting_id: int | None = None,
    created_by: str | None = None,
) -> Explanation:
    """Staff say why an open item is not an error (e.g. a payout in transit until the 2nd)."""
    period_end(period)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise Invalid(
            "Give the explanation (1–500 characters).",
            errors=[{"loc": ["body", "reason"], "msg": "1–500 characters"}],
        )
    if (statement_line_id is None) == (posting_id is None):
        raise Invalid(
            "Explain either one statement line or one ledger posting.",
            errors=[{"loc": ["body", "statement_line_id"], "msg": "exactly one of the two"}],
        )
    lines, items = open_items(session, account_key)
    if statement_line_id is not None and statement_line_id not in {line.id for line in lines}:
        raise NotFound(f"Statement line {statement_line_id} is not an open line of {account_key}.")
    if posting_id is not None and posting_id not in {i.posting_id for i in items}:
        raise NotFound(f"Posting {posting_id} is not an open posting of {account_key}.")
    existing = session.scalars(
        select(Explanation).where(
            col(Explanation.account_key) == account_key,
            col(Explanation.statement_line_id) == statement_line_id
            if statement_line_id is not None
            else col(Explanation.posting_id) == posting_id,
        )
    ).first()
    if existing is not None:
        return existing
    explanation = Explanation(
        account_key=account_key,
        period=period,
        statement_line_id=statement_line_id,
        posting_id=posting_id,
        reason=reason,
        created_by=created_by,
    )
    session.add(explanation)
    if statement_line_id is not None:
        line = session.get(StatementLine, statement_line_id)
        assert line is not None
        line.state = LineState.explained.value
        session.add(line)
    session.flush()
    return explanation


def close_reconciled_period(
    session: Session,
    *,
    period: str,
    accounts: Sequence[str] | None = None,
    closed_by: str | None = None,
    today: date | None = None,
) -> list[Reconciliation]:
    """Close the month when every reconciled account's differences are zero or explained."""
    require_closable(period, today=today)
    keys = list(accounts) if accounts else reconciled_accounts(session)
    views = [reconcile(session, account_key=key, period=period) for key in keys]
    blocking = [view for view in views if not view.closable]
    if blocking:
        errors = [
            {
                "loc": ["accounts", view.account, item.side, item.id],
                "msg": f"{item.on.isoformat()} {item.amount} {item.reference} unexplained",
            }
            for view in blocking
            for item in view.unexplained
        ]
        raise UnexplainedDifferences(
            f"{period} cannot be closed: {len(errors)} unexplained difference(s) in "
            + ", ".join(view.account for view in blocking)
            + ". Match, book or explain each one first.",
            errors=errors,
        )
    close_period(session, period, closed_by=closed_by, today=today)
    return views


__all__ = [
    "OpenItem",
    "Reconciliation",
    "UnexplainedDifferences",
    "close_reconciled_period",
    "explain",
    "period_end",
    "reconcile",
    "reconciled_accounts",
]
