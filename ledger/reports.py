"""Reports read from postings: a household's income statement, income per month, a cooperative's
split of sales by part, the enterprise's figures, and table files (CSV, XLSX) with integer amounts.

The ledger knows households only by payable account and cooperatives only by their fund accounts;
callers pass the keys. Amounts are integer minor units; pages format them, files keep integers.
"""
# Over 500 lines for now: the share-part registry (issue 13, in flight) rewrites coop_report here;
# split the file tables (CSV, XLSX) from the report queries once it lands.

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core.spreadsheets import append_row, csv_writer
from ledger.models import Account, JournalEntry, Posting
from ledger.payout_models import PayoutBatch, PayoutLine
from ledger.share_rules import account_key, coop_funds, parse_account_key, part_keys

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


SALE_KINDS = ("sale", "refund")


@dataclass(frozen=True)
class SaleShare:
    """What sales credited (net of refunds' take-backs) to one account for one owner."""

    coop_id: int | None
    household_id: int | None
    account: str
    amount: int  # credits positive


def sale_shares(
    session: Session,
    *,
    currency: str,
    since: date | None = None,
    until: date | None = None,
    coop_id: int | None = None,
) -> list[SaleShare]:
    """Sales' credits summed by attribution and account: settlements (kind `sale`), their
    proportional reversals for refunds (kind `refund`) and reversal entries of either.

    The buyer's deposit and the clearing accounts are where the money comes from, not a share,
    and are left out. With `coop_id`, only that cooperative's postings.
    """
    original = aliased(JournalEntry)
    counted = or_(
        col(JournalEntry.kind).in_(SALE_KINDS),
        (col(JournalEntry.kind) == "reversal") & col(original.kind).in_(SALE_KINDS),
    )
    query = (
        select(
            col(Posting.coop_id),
            col(Posting.household_id),
            col(Account.key),
            func.sum(col(Posting.amount)),
        )
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .outerjoin(original, col(original.id) == col(JournalEntry.reverses_id))
        .where(
            counted,
            col(Posting.currency) == currency,
            ~col(Account.key).like("assets:%"),
            ~col(Account.key).like("liabilities:buyers:%"),
        )
        .group_by(col(Posting.coop_id), col(Posting.household_id), col(Account.key))
    )
    if coop_id is not None:
        query = query.where(col(Posting.coop_id) == coop_id)
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    return sorted(
        (
            SaleShare(c, h, str(key), -int(total or 0))
            for c, h, key, total in session.execute(query).all()
            if total
        ),
        key=lambda s: (s.coop_id or 0, s.household_id or 0, s.account),
    )


def part_of(account: str, coop_id: int | None) -> str:
    """The part of a sale an account's credit is (a `SHARE_PARTS` key), or "other"; a fund counts
    only as the given cooperative's own."""
    found = parse_account_key(account)
    if found is None:
        return "other"
    if found.part.per_coop and (coop_id is None or found.coop_id != str(coop_id)):
        return "other"
    return found.part.key


@dataclass(frozen=True)
class PayoutFigures:
    """Payout lines of a cooperative: paid (confirmed by the bank) and failed, never pending."""

    paid: int
    households_paid: int
    failed: int
    lines_failed: int


def payout_figures(
    session: Session,
    *,
    coop_id: int,
    currency: str,
    since: date | None = None,
    until: date | None = None,
) -> PayoutFigures:
    """Money that reached households: the bank credits of confirmed payout lines, by their date.

    A hold is not a payment: a failed line's hold is given back (and shown as failed), and a line
    that failed and was paid in a later batch counts once, by its confirmation.
    """
    query = (
        select(col(Posting.household_id), func.sum(col(Posting.amount)))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(PayoutLine, col(PayoutLine.paid_entry_id) == col(JournalEntry.id))
        .where(
            col(Posting.coop_id) == coop_id,
            col(Posting.currency) == currency,
            col(Posting.amount) < 0,
            col(Account.key) == "assets:bank",
        )
        .group_by(col(Posting.household_id))
    )
    query = _dated(query, since, until)
    paid = {h: -int(total or 0) for h, total in session.execute(query).all()}
    failed_query = (
        select(func.count(col(PayoutLine.id)), func.coalesce(func.sum(col(PayoutLine.amount)), 0))
        .join(PayoutBatch, col(PayoutBatch.id) == col(PayoutLine.batch_id))
        .join(JournalEntry, col(JournalEntry.id) == col(PayoutLine.failed_entry_id))
        .where(
            col(PayoutBatch.coop_id) == coop_id,
            col(PayoutLine.currency) == currency,
            col(PayoutLine.status) == "failed",
        )
    )
    if since is not None:
        failed_query = failed_query.where(col(JournalEntry.effective_date) >= since)
    if until is not None:
        failed_query = failed_query.where(col(JournalEntry.effective_date) <= until)
    count, amount = session.execute(failed_query).one()
    return PayoutFigures(
        paid=sum(paid.values()),
        households_paid=len([h for h, total in paid.items() if total > 0]),
        failed=int(amount or 0),
        lines_failed=int(count or 0),
    )


def _dated(query: Any, since: date | None, until: date | None) -> Any:
    if since is not None:
        query = query.where(col(Posting.effective_date) >= since)
    if until is not None:
        query = query.where(col(Posting.effective_date) <= until)
    return query


@dataclass(frozen=True)
class CoopReport:
    """`parts`: the sales by part (every `SHARE_PARTS` key, and "other"); `fund_balances`: each
    cooperative fund's balance by its part key. Read one as `report.training_fund` or
    `report.training_fund_balance`."""

    coop_id: int
    currency: str
    since: date | None
    until: date | None
    sales: int  # everything settled into the parts
    parts: dict[str, int]
    fund_balances: dict[str, int]
    fund_movements: list[tuple[date, str, str, int]]  # date, fund, memo, signed amount
    payouts: int
    households_paid: int
    payouts_failed: int = 0
    payout_lines_failed: int = 0

    def __getattr__(self, name: str) -> int:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.parts:
            return self.parts[name]
        if name.removesuffix("_balance") in self.fund_balances:
            return self.fund_balances[name.removesuffix("_balance")]
        raise AttributeError(name)


def coop_report(
    session: Session,
    *,
    coop_id: int,
    currency: str,
    payable_accounts: Sequence[str] = (),
    since: date | None = None,
    until: date | None = None,
) -> CoopReport:
    """A cooperative's sales split by part, funds and payouts, from the postings attributed to it.

    (`payable_accounts` is no longer needed: payouts are read by attribution too.)
    """
    funds = {account_key(part, coop_id=coop_id): part for part in coop_funds()}
    parts: dict[str, int] = dict.fromkeys([*part_keys(), "other"], 0)
    for share in sale_shares(session, currency=currency, since=since, until=until, coop_id=coop_id):
        # Credits are shares; debits (a refund reversing a settlement) count against them.
        parts[part_of(share.account, coop_id)] += share.amount
    fund_postings = _postings(session, list(funds), since=since, until=until)
    movements = [
        (p.effective_date, funds[key].fund, e.memo, -p.amount) for p, e, key in fund_postings
    ]
    balances = dict.fromkeys((part.key for part in funds.values()), 0)
    for p, _e, key in _postings(session, list(funds), since=None, until=until):
        balances[funds[key].key] -= p.amount
    payouts = payout_figures(session, coop_id=coop_id, currency=currency, since=since, until=until)
    return CoopReport(
        coop_id=coop_id,
        currency=currency,
        since=since,
        until=until,
        sales=sum(parts.values()),
        parts=parts,
        fund_balances=balances,
        fund_movements=movements,
        payouts=payouts.paid,
        households_paid=payouts.households_paid,
        payouts_failed=payouts.failed,
        payout_lines_failed=payouts.lines_failed,
    )


@dataclass(frozen=True)
class EnterpriseReport:
    currency: str
    since: date | None
    until: date | None
    service_fees: int
    processing_fees: int
    by_prefix: dict[str, int]
    # The service fee by the cooperative whose sales it came from (None: unattributed, only
    # entries merged across cooperatives before attribution existed); sums to service_fees.
    service_fees_by_coop: dict[int | None, int] = field(default_factory=dict)


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
    by_coop: dict[int | None, int] = defaultdict(int)
    fees = (
        select(col(Posting.coop_id), func.sum(col(Posting.amount)))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key).like("income:enterprise%"), col(Posting.currency) == currency)
        .group_by(col(Posting.coop_id))
    )
    for coop_id, total in session.execute(_dated(fees, since, until)).all():
        if total:
            by_coop[coop_id] -= int(total)
    return EnterpriseReport(
        currency=currency,
        since=since,
        until=until,
        service_fees=totals.get("income:enterprise", 0),
        processing_fees=totals.get("expenses:payments", 0),
        by_prefix=dict(sorted(totals.items())),
        service_fees_by_coop=dict(
            sorted(by_coop.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ),
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
    "SALE_KINDS",
    "CoopReport",
    "PayoutFigures",
    "SaleShare",
    "part_of",
    "payout_figures",
    "sale_shares",
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
