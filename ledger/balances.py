"""Reading the ledger: balances (now, as of a date, by key prefix), statements, trial balance.

Every figure is an aggregate over the append-only postings, served by the index on
(account_id, effective_date, entry_id); nothing is cached, so a read is never stale.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select, tuple_
from sqlmodel import Session, col

from core.errors import Invalid
from ledger.accounts import get_account, key_prefix_filter
from ledger.models import Account, AccountType, JournalEntry, Posting, Side, normal_sign


@dataclass(frozen=True)
class Balance:
    account: str
    amount: int  # signed on the account's normal side
    debits: int
    credits: int
    currency: str
    as_of: date | None = None


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    entry_id: int
    effective_date: date
    side: Side
    amount: int
    running_balance: int
    memo: str

    @property
    def cursor(self) -> str:
        return f"{self.effective_date.isoformat()}:{self.entry_id}:{self.posting_id}"


@dataclass(frozen=True)
class StatementPage:
    account: str
    currency: str
    lines: list[StatementLine]
    next_cursor: str | None


@dataclass(frozen=True)
class TrialBalanceLine:
    key: str
    type: str
    currency: str
    debits: int
    credits: int
    balance: int


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    debits: int
    credits: int


@dataclass(frozen=True)
class TrialBalance:
    as_of: date | None
    accounts: list[TrialBalanceLine]
    totals: list[CurrencyTotal]


def _debits() -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((col(Posting.amount) > 0, col(Posting.amount)), else_=0)), 0)


def _credits() -> ColumnElement[Any]:
    return func.coalesce(
        func.sum(case((col(Posting.amount) < 0, -col(Posting.amount)), else_=0)), 0
    )


def _as_of(query: Select[Any], as_of: date | None) -> Select[Any]:
    return query if as_of is None else query.where(col(Posting.effective_date) <= as_of)


def balance(session: Session, key: str, *, as_of: date | None = None) -> Balance:
    account = get_account(session, key)
    debits, credits = session.execute(
        _as_of(select(_debits(), _credits()).where(col(Posting.account_id) == account.id), as_of)
    ).one()
    net = int(debits) - int(credits)
    return Balance(
        account=key,
        amount=net * normal_sign(account.type),
        debits=int(debits),
        credits=int(credits),
        currency=account.currency,
        as_of=as_of,
    )


def _normal_side_amount() -> ColumnElement[Any]:
    debit_normal = (AccountType.asset.value, AccountType.expense.value)
    return case((col(Account.type).in_(debit_normal), literal(1)), else_=literal(-1)) * col(
        Posting.amount
    )


def balance_by_prefix(
    session: Session, prefix: str, *, currency: str, as_of: date | None = None
) -> int:
    """Sum of the normal-side balances of the accounts at or under `prefix` in one currency."""
    query = (
        select(func.coalesce(func.sum(_normal_side_amount()), 0))
        .select_from(Posting)
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(key_prefix_filter(prefix), col(Account.currency) == currency)
    )
    return int(session.execute(_as_of(query, as_of)).scalar_one())


def balances_of(session: Session, accounts: list[Account]) -> dict[int, int]:
    """Current normal-side balances of some accounts, by account id, in one query."""
    ids = [a.id for a in accounts if a.id is not None]
    if not ids:
        return {}
    sums = dict(
        session.execute(
            select(col(Posting.account_id), func.sum(Posting.amount))
            .where(col(Posting.account_id).in_(ids))
            .group_by(col(Posting.account_id))
        )
        .tuples()
        .all()
    )
    return {
        a.id: int(sums.get(a.id) or 0) * normal_sign(a.type) for a in accounts if a.id is not None
    }


def _parse_cursor(cursor: str) -> tuple[date, int, int]:
    try:
        day, entry_id, posting_id = cursor.split(":")
        return date.fromisoformat(day), int(entry_id), int(posting_id)
    except ValueError:
        raise Invalid(
            "The cursor is not one this API gave out.",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        ) from None


def statement(
    session: Session, key: str, *, after: str | None = None, limit: int = 50
) -> StatementPage:
    """Postings of an account in (effective date, entry) order, with the running balance."""
    account = get_account(session, key)
    sign = normal_sign(account.type)
    position = tuple_(col(Posting.effective_date), col(Posting.entry_id), col(Posting.id))
    opening = 0
    query = (
        select(
            col(Posting.id),
            col(Posting.entry_id),
            col(Posting.effective_date),
            col(Posting.amount),
            col(JournalEntry.memo),
        )
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .where(col(Posting.account_id) == account.id)
        .order_by(col(Posting.effective_date), col(Posting.entry_id), col(Posting.id))
        .limit(limit + 1)
    )
    if after is not None:
        mark = _parse_cursor(after)
        query = query.where(position > tuple_(*mark))
        opening = int(
            session.execute(
                select(func.coalesce(func.sum(Posting.amount), 0)).where(
                    col(Posting.account_id) == account.id, position <= tuple_(*mark)
                )
            ).scalar_one()
        )
    rows = session.execute(query).all()
    running = opening * sign
    lines: list[StatementLine] = []
    for posting_id, entry_id, effective_date, amount, memo in rows[:limit]:
        running += amount * sign
        lines.append(
            StatementLine(
                posting_id=posting_id,
                entry_id=entry_id,
                effective_date=effective_date,
                side=Side.debit if amount > 0 else Side.credit,
                amount=abs(amount),
                running_balance=running,
                memo=memo,
            )
        )
    next_cursor = lines[-1].cursor if len(rows) > limit and lines else None
    return StatementPage(
        account=key, currency=account.currency, lines=lines, next_cursor=next_cursor
    )


def trial_balance(session: Session, *, as_of: date | None = None) -> TrialBalance:
    """Every account's debits, credits and balance as of a date, with per-currency totals."""
    per_account = _as_of(
        select(
            col(Posting.account_id).label("account_id"),
            _debits().label("debits"),
            _credits().label("credits"),
        ).group_by(col(Posting.account_id)),
        as_of,
    ).subquery()
    rows = session.execute(
        select(
            col(Account.key),
            col(Account.type),
            col(Account.currency),
            func.coalesce(per_account.c.debits, 0),
            func.coalesce(per_account.c.credits, 0),
        )
        .outerjoin(per_account, per_account.c.account_id == col(Account.id))
        .order_by(col(Account.key))
    ).all()
    lines: list[TrialBalanceLine] = []
    totals: dict[str, list[int]] = {}
    for key, account_type, currency, debits, credits in rows:
        debits, credits = int(debits), int(credits)
        lines.append(
            TrialBalanceLine(
                key=key,
                type=account_type,
                currency=currency,
                debits=debits,
                credits=credits,
                balance=(debits - credits) * normal_sign(account_type),
            )
        )
        total = totals.setdefault(currency, [0, 0])
        total[0] += debits
        total[1] += credits
    return TrialBalance(
        as_of=as_of,
        accounts=lines,
        totals=[CurrencyTotal(c, d, k) for c, (d, k) in sorted(totals.items())],
    )
