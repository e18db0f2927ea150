"""Export the journal as Beancount text (checked by `bean-check`), CSV or XLSX.

Amounts: posting amounts are integer minor units, debits positive (as Beancount counts them);
they are written as decimals with the currency's ISO scale from Babel (`get_currency_precision`:
CNY 2, JPY 0, KWD 3), never through a float.

Account names (Beancount wants `Root:Component:...`, the root one of Assets, Liabilities, Equity,
Income, Expenses, each further component starting with a capital letter or a digit, then letters,
digits or dashes). The mapping from (key, type) is injective, and `account_key_from_beancount`
inverts it:

- The root comes from the account type. When the key's first component is that type's word
  (`assets`, `liabilities`, `equity`, `income`, `expenses`) and more components follow, the
  word is dropped (it is the root): `liabilities:members:42:payable` →
  `Liabilities:Members:42:Payable`, `equity:coops:7:collective-fund` →
  `Equity:Coops:7:Collective-fund`. Otherwise the whole key follows a `XXX` marker component:
  a key `bank` of type asset → `Assets:XXX:Bank`.
- A component made of `a-z`, `0-9` and `-`, not starting with `-`, gets its first letter upper-
  cased (digits stay). Any other component (capitals, underscores, dots, non-ASCII, empty) is
  written `XX` + the upper-case hex of its UTF-8 bytes. Plain components never have a capital
  in second place and `XXX` is no hex, so the three forms cannot collide.

Balance assertions: for every account and every day with postings, the balance at the end of
that day is asserted on the next day (Beancount checks an assertion at the start of its date).
"""

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from openpyxl import Workbook
from sqlalchemy import select
from sqlmodel import Session, col

from core.spreadsheets import append_row, csv_writer
from ledger.models import Account, AccountType, JournalEntry, Posting

ROOTS: dict[str, tuple[str, str]] = {
    AccountType.asset: ("Assets", "assets"),
    AccountType.liability: ("Liabilities", "liabilities"),
    AccountType.equity: ("Equity", "equity"),
    AccountType.income: ("Income", "income"),
    AccountType.expense: ("Expenses", "expenses"),
}
WHOLE_KEY_MARKER = "XXX"
_PLAIN = re.compile(r"[a-z0-9][a-z0-9-]*")

CSV_COLUMNS = (
    "entry_id",
    "effective_date",
    "kind",
    "reference",
    "memo",
    "reverses_entry_id",
    "account",
    "account_type",
    "side",
    "amount",
    "currency",
    "amount_decimal",
)


# --- account names ------------------------------------------------------------------------------


def beancount_account_name(key: str, account_type: str) -> str:
    """The Beancount name of a ledger account (see the module doc for the rule)."""
    root, word = ROOTS[AccountType(account_type)]
    parts = key.split(":")
    if parts[0] == word and len(parts) > 1:
        return ":".join([root, *map(_encode_component, parts[1:])])
    return ":".join([root, WHOLE_KEY_MARKER, *map(_encode_component, parts)])


def account_key_from_beancount(name: str) -> tuple[str, AccountType]:
    """The inverse of `beancount_account_name`: (key, type)."""
    root, *parts = name.split(":")
    account_type = next(t for t, (r, _) in ROOTS.items() if r == root)
    if parts and parts[0] == WHOLE_KEY_MARKER:
        return ":".join(map(_decode_component, parts[1:])), AccountType(account_type)
    return ":".join([ROOTS[account_type][1], *map(_decode_component, parts)]), AccountType(
        account_type
    )


def _encode_component(component: str) -> str:
    if _PLAIN.fullmatch(component):
        return component[0].upper() + component[1:]
    return "XX" + component.encode().hex().upper()


def _decode_component(component: str) -> str:
    if component.startswith("XX"):
        return bytes.fromhex(component[2:]).decode()
    return component[0].lower() + component[1:]


# --- amounts ------------------------------------------------------------------------------------


def currency_scale(currency: str) -> int:
    return int(get_currency_precision(currency))


def format_amount(minor_units: int, currency: str) -> str:
    """`12345, "CNY"` → `"123.45"`; exact (Decimal), with the currency's scale."""
    scale = currency_scale(currency)
    return format(Decimal(minor_units).scaleb(-scale), f".{scale}f")


def decimal_amount(minor_units: int, currency: str) -> Decimal:
    return Decimal(minor_units).scaleb(-currency_scale(currency))


# --- reading the journal ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One posting with what an export needs of its entry and account."""

    entry_id: int
    effective_date: date
    kind: str
    reference: str | None
    memo: str
    reverses_id: int | None
    account: str
    account_type: str
    amount: int
    currency: str


def _accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(col(Account.key))))


def _lines(session: Session, as_of: date | None) -> Iterator[Line]:
    query = (
        select(
            col(JournalEntry.id),
            col(JournalEntry.effective_date),
            col(JournalEntry.kind),
            col(JournalEntry.reference),
            col(JournalEntry.memo),
            col(JournalEntry.reverses_id),
            col(Account.key),
            col(Account.type),
            col(Posting.amount),
            col(Posting.currency),
        )
        .join(Posting, col(Posting.entry_id) == col(JournalEntry.id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .order_by(col(JournalEntry.effective_date), col(JournalEntry.id), col(Posting.id))
    )
    if as_of is not None:
        query = query.where(col(JournalEntry.effective_date) <= as_of)
    for row in session.execute(query.execution_options(yield_per=2000)):
        yield Line(*row)


# --- Beancount ----------------------------------------------------------------------------------


def to_beancount(session: Session, *, as_of: date | None = None) -> str:
    """The journal up to `as_of` (inclusive; all of it when None) as a Beancount file."""
    accounts = _accounts(session)
    names = _names(accounts)
    lines = list(_lines(session, as_of))
    first_used: dict[str, date] = {}
    for line in lines:
        first_used.setdefault(line.account, line.effective_date)

    out = [
        "; Hezuo ledger export. Amounts in the currency's units; checked by bean-check.",
        'option "title" "Hezuo ledger"',
        *(f'option "operating_currency" "{c}"' for c in sorted({a.currency for a in accounts})),
        "",
    ]
    for account in accounts:
        opened = min(account.created_at.date(), first_used.get(account.key, date.max))
        out.append(f"{opened.isoformat()} open {names[account.key]} {account.currency}")
    out.append("")

    balances: dict[tuple[str, str], int] = defaultdict(int)
    day_touched: dict[tuple[str, str], None] = {}
    for index, line in enumerate(lines):
        if index == 0 or lines[index - 1].entry_id != line.entry_id:
            out.extend(_transaction_header(line))
        out.append(
            f"  {names[line.account]}  {format_amount(line.amount, line.currency)} {line.currency}"
        )
        balances[line.account, line.currency] += line.amount
        day_touched[line.account, line.currency] = None
        next_line = lines[index + 1] if index + 1 < len(lines) else None
        if next_line is None or next_line.effective_date != line.effective_date:
            out.append("")
            next_day = (line.effective_date + timedelta(days=1)).isoformat()
            for account_key, currency in sorted(day_touched):
                amount = format_amount(balances[account_key, currency], currency)
                out.append(f"{next_day} balance {names[account_key]}  {amount} {currency}")
            day_touched.clear()
            out.append("")
        elif next_line.entry_id != line.entry_id:
            out.append("")
    return "\n".join(out) + "\n"


def _names(accounts: list[Account]) -> dict[str, str]:
    names = {a.key: beancount_account_name(a.key, a.type) for a in accounts}
    if len(set(names.values())) != len(names):  # cannot happen (see the module doc); guard it
        raise RuntimeError("two ledger accounts map to one Beancount name")
    return names


def _transaction_header(line: Line) -> list[str]:
    header = [
        f"{line.effective_date.isoformat()} * {_quote(line.memo or line.kind)}",
        f"  entry-id: {_quote(str(line.entry_id))}",
        f"  kind: {_quote(line.kind)}",
    ]
    if line.reference:
        header.append(f"  reference: {_quote(line.reference)}")
    if line.reverses_id is not None:
        header.append(f"  reverses-entry-id: {_quote(str(line.reverses_id))}")
    return header


def _quote(value: str) -> str:
    flat = " ".join(value.split())  # one line: no newlines or tabs inside a Beancount string
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- CSV and XLSX -------------------------------------------------------------------------------


def _row(line: Line) -> list[Any]:
    return [
        line.entry_id,
        line.effective_date.isoformat(),
        line.kind,
        line.reference or "",
        line.memo,
        line.reverses_id if line.reverses_id is not None else "",
        line.account,
        line.account_type,
        "debit" if line.amount > 0 else "credit",
        abs(line.amount),
        line.currency,
        format_amount(abs(line.amount), line.currency),
    ]


def to_csv(session: Session, *, as_of: date | None = None) -> str:
    """One row per posting (columns `CSV_COLUMNS`): `amount` in minor units, always positive, with
    its `side`; `amount_decimal` the same in currency units."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in _lines(session, as_of):
        writer.writerow(_row(line))
    return buffer.getvalue()


def to_xlsx(session: Session, *, as_of: date | None = None) -> bytes:
    """A workbook: sheet "Postings" (the CSV's columns, numbers as numbers) and sheet
    "Trial balance" (per account: debits, credits, balance on its normal side, in minor units)."""
    workbook = Workbook()
    postings = workbook.active
    assert postings is not None
    postings.title = "Postings"
    append_row(postings, list(CSV_COLUMNS))
    totals: dict[str, list[int]] = {}
    for line in _lines(session, as_of):
        row = _row(line)
        row[-1] = decimal_amount(abs(line.amount), line.currency)
        append_row(postings, row)
        postings.cell(row=postings.max_row, column=len(row)).number_format = _number_format(
            line.currency
        )
        debit_credit = totals.setdefault(line.account, [0, 0])
        debit_credit[0 if line.amount > 0 else 1] += abs(line.amount)

    trial = workbook.create_sheet("Trial balance")
    append_row(trial, ["account", "type", "currency", "debits", "credits", "balance"])
    for account in _accounts(session):
        debits, credits = totals.get(account.key, [0, 0])
        sign = account.normal_sign
        append_row(
            trial,
            [
                account.key,
                account.type,
                account.currency,
                debits,
                credits,
                sign * (debits - credits),
            ],
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number_format(currency: str) -> str:
    scale = currency_scale(currency)
    return "0." + "0" * scale if scale else "0"
