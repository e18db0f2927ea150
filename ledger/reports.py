"""Reports read from postings: a household's income statement, income per month, a cooperative's
split of sales by part, the enterprise's figures, and table files (CSV, XLSX) with integer amounts.

The ledger knows households only by payable account and cooperatives only by their fund accounts;
callers pass the keys. Amounts are integer minor units; pages format them, files keep integers.
"""

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlmodel import Session, col

from core.spreadsheets import append_row, csv_writer
from ledger.models import Account, JournalEntry, Posting

NOT_INCOME_KINDS = frozenset({"payout", "reversal"})


@dataclass(frozen=True)
class StatementRow:
    on: date
    entry_id: int
    kind: str
    memo: str
    reference: str
    earned: int  # credits to the payable from sales
    deducted: int  # other debits (refunds after settlement, training deductions)
    paid_out: int  # held for a payout (net of failed payouts returned)
    balance: int


@dataclass(frozen=True)
class IncomeStatement:
    account: str
    currency: str
    since: date | None
    until: date | None
    opening: int
    rows: list[StatementRow]

    @property
    def earned(self) -> int:
        return sum(r.earned for r in self.rows)

    @property
    def deducted(self) -> int:
        return sum(r.deducted for r in self.rows)

    @property
    def paid_out(self) -> int:
        return sum(r.paid_out for r in self.rows)

    @property
    def closing(self) -> int:
        return self.opening + self.earned - self.deducted - self.paid_out


def _account(session: Session, key: str) -> Account | None:
    return session.scalars(select(Account).where(col(Account.key) == key)).first()


def _postings(
    session: Session, keys: Sequence[str], *, since: date | None, until: date | None
) -> list[tuple[Posting, JournalEntry, str]]:
    query = (
        select(Posting, JournalEntry, col(Account.key))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key).in_(list(keys)))
        .order_by(col(Posting.effective_date), col(Posting.entry_id), col(Posting.id))
    )
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    return [(p, e, k) for p, e, k in session.execute(query).tuples()]


def _is_payout(entry: JournalEntry, reversed_kinds: dict[int, str]) -> bool:
    if entry.kind == "payout":
        return True
    return entry.kind == "reversal" and reversed_kinds.get(entry.reverses_id or 0) == "payout"


def _reversed_kinds(session: Session, entries: list[JournalEntry]) -> dict[int, str]:
    ids = [e.reverses_id for e in entries if e.reverses_id is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(col(JournalEntry.id), col(JournalEntry.kind)).where(col(JournalEntry.id).in_(ids))
    ).all()
    return {row[0]: row[1] for row in rows}


def income_statement(
    session: Session, payable_account: str, *, since: date | None = None, until: date | None = None
) -> IncomeStatement:
    """Shares earned, deductions, payouts and the running balance of one member payable."""
    account = _account(session, payable_account)
    currency = account.currency if account else ""
    opening = 0
    if since is not None:
        for posting, _entry, _key in _postings(session, [payable_account], since=None, until=None):
            if posting.effective_date < since:
                opening -= posting.amount
    found = _postings(session, [payable_account], since=since, until=until)
    reversed_kinds = _reversed_kinds(session, [e for _, e, _ in found])
    rows: list[StatementRow] = []
    running = opening
    for posting, entry, _key in found:
        credit = -posting.amount  # a liability grows with credits
        running += credit
        earned = deducted = paid = 0
        if _is_payout(entry, reversed_kinds):
            paid = -credit
        elif credit > 0:
            earned = credit
        else:
            deducted = -credit
        assert entry.id is not None
        rows.append(
            StatementRow(
                on=posting.effective_date,
                entry_id=entry.id,
                kind=entry.kind,
                memo=entry.memo,
                reference=entry.reference or "",
                earned=earned,
                deducted=deducted,
                paid_out=paid,
                balance=running,
            )
        )
    return IncomeStatement(payable_account, currency, since, until, opening, rows)


def monthly_income(
    session: Session, payable_account: str, *, since: date | None = None, until: date | None = None
) -> list[tuple[str, int]]:
    """Net income (shares earned minus deductions, payouts excluded) per month `YYYY-MM`."""
    statement = income_statement(session, payable_account, since=since, until=until)
    months: dict[str, int] = defaultdict(int)
    for row in statement.rows:
        months[row.on.strftime("%Y-%m")] += row.earned - row.deducted
    return sorted(months.items())


@dataclass(frozen=True)
class CoopReport:
    coop_id: int
    currency: str
    since: date | None
    until: date | None
    sales: int  # everything settled into the parts
    producers: int
    collective_fund: int
    training_fund: int
    enterprise: int
    other: int
    collective_fund_balance: int
    training_fund_balance: int
    fund_movements: list[tuple[date, str, str, int]]  # date, fund, memo, signed amount
    payouts: int
    households_paid: int


def coop_report(
    session: Session,
    *,
    coop_id: int,
    currency: str,
    payable_accounts: Sequence[str],
    since: date | None = None,
    until: date | None = None,
) -> CoopReport:
    """A cooperative's sales split by part (from its settlement entries), funds and payouts."""
    collective = f"equity:coops:{coop_id}:collective-fund"
    training = f"equity:coops:{coop_id}:training-fund"
    fund_postings = _postings(session, [collective, training], since=since, until=until)
    sale_entries = {e.id for _p, e, _k in fund_postings if e.kind in ("sale", "refund")}
    parts: dict[str, int] = defaultdict(int)
    if sale_entries:
        rows = session.execute(
            select(Posting, col(Account.key))
            .join(Account, col(Account.id) == col(Posting.account_id))
            .where(col(Posting.entry_id).in_(sale_entries))
        ).tuples()
        for posting, key in rows:
            if posting.currency != currency or key.startswith(("liabilities:buyers", "assets:")):
                continue
            part = (
                "producers"
                if key.startswith("liabilities:members:")
                else "collective_fund"
                if key == collective
                else "training_fund"
                if key == training
                else "enterprise"
                if key.startswith("income:enterprise")
                else "other"
            )
            # Credits are shares; debits (a refund reversing a settlement) count against them.
            parts[part] += -posting.amount
    movements = [
        (
            p.effective_date,
            "collective" if key == collective else "training",
            e.memo,
            -p.amount,
        )
        for p, e, key in fund_postings
    ]
    balances: dict[str, int] = defaultdict(int)
    for p, _e, key in _postings(session, [collective, training], since=None, until=until):
        balances[key] -= p.amount
    paid_postings = [
        (p, e)
        for p, e, _k in _postings(session, payable_accounts, since=since, until=until)
        if e.kind == "payout"
    ]
    sales = sum(parts.values())
    return CoopReport(
        coop_id=coop_id,
        currency=currency,
        since=since,
        until=until,
        sales=sales,
        producers=parts["producers"],
        collective_fund=parts["collective_fund"],
        training_fund=parts["training_fund"],
        enterprise=parts["enterprise"],
        other=parts["other"],
        collective_fund_balance=balances[collective],
        training_fund_balance=balances[training],
        fund_movements=movements,
        payouts=sum(p.amount for p, _e in paid_postings),
        households_paid=len({p.account_id for p, _e in paid_postings}),
    )


@dataclass(frozen=True)
class EnterpriseReport:
    currency: str
    since: date | None
    until: date | None
    service_fees: int
    processing_fees: int
    by_prefix: dict[str, int]


def enterprise_report(
    session: Session, *, currency: str, since: date | None = None, until: date | None = None
) -> EnterpriseReport:
    """The social enterprise's income and costs, and where the money sits, over a period."""
    totals: dict[str, int] = defaultdict(int)
    query = (
        select(col(Account.key), col(Account.type), Posting)
        .join(Posting, col(Posting.account_id) == col(Account.id))
        .where(col(Account.currency) == currency)
    )
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    for key, account_type, posting in session.execute(query).tuples():
        sign = 1 if account_type in ("asset", "expense") else -1
        head = ":".join(key.split(":")[:2])
        totals[head] += sign * posting.amount
    return EnterpriseReport(
        currency=currency,
        since=since,
        until=until,
        service_fees=totals.get("income:enterprise", 0),
        processing_fees=totals.get("expenses:payments", 0),
        by_prefix=dict(sorted(totals.items())),
    )


# --- Files ---------------------------------------------------------------------------------


def table_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs open Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    append_row(sheet, list(header))
    for row in rows:
        append_row(sheet, [cell.isoformat() if isinstance(cell, date) else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def statement_table(statement: IncomeStatement) -> tuple[list[str], list[list[Any]]]:
    header = ["date", "entry", "kind", "memo", "reference", "earned", "deducted", "paid_out"]
    header += ["balance", "currency"]
    rows: list[list[Any]] = [
        [
            r.on.isoformat(),
            r.entry_id,
            r.kind,
            r.memo,
            r.reference,
            r.earned,
            r.deducted,
            r.paid_out,
            r.balance,
            statement.currency,
        ]
        for r in statement.rows
    ]
    return header, rows


__all__ = [
    "CoopReport",
    "EnterpriseReport",
    "IncomeStatement",
    "StatementRow",
    "coop_report",
    "enterprise_report",
    "income_statement",
    "monthly_income",
    "statement_table",
    "table_csv",
    "table_xlsx",
]
