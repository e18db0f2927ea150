"""Opening, finding and listing ledger accounts (keys like `liabilities:members:12:payable`)."""

import re

from sqlalchemy import ColumnElement, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.errors import Invalid
from ledger.base import utcnow
from ledger.errors import AccountConflict, AccountNotFound
from ledger.models import Account, AccountLimit, AccountType

# The first component of a key names its type, as in Beancount.
ROOT_OF_TYPE = {
    AccountType.asset: "assets",
    AccountType.liability: "liabilities",
    AccountType.equity: "equity",
    AccountType.income: "income",
    AccountType.expense: "expenses",
}
KEY_PATTERN = re.compile(r"^[a-z]+(:[A-Za-z0-9][A-Za-z0-9_.\-]*)+$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


def validate_currency(currency: str, *, loc: list[str | int]) -> None:
    if not CURRENCY_PATTERN.match(currency):
        raise Invalid(
            f"{currency!r} is not an ISO 4217 currency code (three capital letters, e.g. CNY).",
            errors=[{"loc": loc, "msg": "three capital letters"}],
        )


def _validate_key(key: str, account_type: AccountType) -> None:
    if len(key) > 255 or not KEY_PATTERN.match(key):
        raise Invalid(
            f"{key!r} is not an account key: use lowercase words separated by colons, "
            "like 'liabilities:members:12:payable'.",
            errors=[{"loc": ["key"], "msg": "not an account key"}],
        )
    root = ROOT_OF_TYPE[account_type]
    if key.split(":", 1)[0] != root:
        raise Invalid(
            f"An account of type {account_type.value} must have a key starting with '{root}:'.",
            errors=[{"loc": ["key"], "msg": f"must start with '{root}:'"}],
        )


def open_account(
    session: Session,
    *,
    key: str,
    type: AccountType,
    currency: str,
    name: str = "",
    limit: AccountLimit = AccountLimit.none,
    party: str | None = None,
) -> Account:
    """The account with this key, created if new; `AccountConflict` if it exists differently."""
    account_type = AccountType(type)
    _validate_key(key, account_type)
    validate_currency(currency, loc=["currency"])
    values = {
        "key": key,
        "type": account_type.value,
        "currency": currency,
        "name": name,
        "limit": AccountLimit(limit).value,
        "party": party,
        "is_open": True,
        "created_at": utcnow(),
    }
    bind = session.get_bind()
    dialect_insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    # ON CONFLICT: two processes opening the same account at once both get the one row.
    session.execute(
        dialect_insert(Account).values(**values).on_conflict_do_nothing(index_elements=["key"])
    )
    account = session.exec(select(Account).where(Account.key == key)).one()
    if account.type != account_type.value or account.currency != currency:
        raise AccountConflict(
            f"Account {key!r} already exists as {account.type} in {account.currency}; "
            f"it cannot also be {account_type.value} in {currency}.",
            errors=[{"loc": ["key"], "msg": "exists with another type or currency"}],
        )
    if account.limit != values["limit"]:
        # A caller relying on "never below zero" must not get an account without that limit.
        raise AccountConflict(
            f"Account {key!r} already exists with the limit {account.limit!r}, "
            f"not {values['limit']!r}.",
            errors=[{"loc": ["limit"], "msg": f"exists with limit {account.limit}"}],
        )
    if party is not None and account.party not in (None, party):
        raise AccountConflict(
            f"Account {key!r} already belongs to {account.party!r}, not {party!r}.",
            errors=[{"loc": ["party"], "msg": f"belongs to {account.party}"}],
        )
    return account


def find_account(session: Session, key: str) -> Account | None:
    return session.exec(select(Account).where(Account.key == key)).first()


def get_account(session: Session, key: str) -> Account:
    account = find_account(session, key)
    if account is None:
        raise AccountNotFound(f"There is no ledger account {key!r}.")
    return account


def close_account(session: Session, key: str) -> Account:
    """Refuse new postings to the account; its history and balance stay."""
    account = get_account(session, key)
    account.is_open = False
    session.add(account)
    session.flush()
    return account


def key_prefix_filter(prefix: str) -> ColumnElement[bool]:
    """Keys equal to the prefix or below it (`assets:bank` matches `assets:bank:x`, not `assets:banker`)."""
    escaped = prefix.rstrip(":").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(
        col(Account.key) == prefix.rstrip(":"),
        col(Account.key).like(f"{escaped}:%", escape="\\"),
    )


def list_accounts(
    session: Session, *, prefix: str | None = None, after_key: str | None = None, limit: int = 50
) -> list[Account]:
    query = select(Account).order_by(col(Account.key)).limit(limit)
    if prefix:
        query = query.where(key_prefix_filter(prefix))
    if after_key is not None:
        query = query.where(col(Account.key) > after_key)
    return list(session.exec(query).all())
