"""Financing seats in the ledger: Dr the funding account / Cr the provider's payable, and back.

Funding accounts:
- a cooperative's training fund `equity:coops:{coop_id}:training-fund` (filled by every sale's
  training part); a seat is refused unless the fund's balance covers it. The fund's account row
  is locked (FOR NO KEY UPDATE on PostgreSQL, the write lock on SQLite) for the check and the
  posting, so two concurrent accepts can never both spend the same money; credits from sales are
  not blocked by that lock.
- the enterprise: `expenses:training:enterprise-funded`, an expense of the social enterprise
  (its own service-fee income pays for it); it has no balance to check.
"""

from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from sqlmodel import Session, col, select

from ledger import service as ledger
from ledger.models import Account, AccountType, Side
from ledger.share_rules import training_fund_key
from training.errors import FundTooSmall
from training.models import FundingSource, Programme

ENTERPRISE_TRAINING_EXPENSE = "expenses:training:enterprise-funded"
ENTRY_KIND = "training"


def provider_payable(provider_id: int) -> str:
    return f"liabilities:training:providers:{provider_id}"


def funding_account_key(programme: Programme, *, member_coop_id: int | None) -> str:
    """The account that pays a seat of this programme for a member of `member_coop_id`."""
    if programme.funding_source == FundingSource.enterprise:
        return ENTERPRISE_TRAINING_EXPENSE
    coop_id = programme.funding_coop_id or member_coop_id
    if coop_id is None:
        raise ValueError("a cooperative-funded seat needs a cooperative")
    return training_fund_key(coop_id)


def format_money(amount: int, currency: str) -> str:
    """'¥1,200.00 (120000 CNY)': for people and for machines, in one message."""
    value = Decimal(amount).scaleb(-get_currency_precision(currency))
    return f"{format_currency(value, currency, locale='zh_CN')} ({amount} {currency})"


def _open_funding_account(session: Session, key: str, currency: str) -> Account:
    if key == ENTERPRISE_TRAINING_EXPENSE:
        return ledger.open_account(
            session,
            key=key,
            type=AccountType.expense,
            currency=currency,
            name="Training paid by the enterprise",
        )
    coop = key.split(":")[2]
    return ledger.open_account(
        session,
        key=key,
        type=AccountType.equity,
        currency=currency,
        name=key,
        party=f"coop:{coop}",
    )


def lock_fund(session: Session, key: str) -> None:
    """Serialize spending from one fund (PostgreSQL row lock; SQLite already holds the write lock)."""
    session.execute(
        select(col(Account.id)).where(col(Account.key) == key).with_for_update(key_share=True)
    ).all()


def fund_balance(session: Session, key: str) -> int:
    return ledger.balance(session, key).amount


def finance_seat(
    session: Session,
    *,
    enrolment_id: int,
    programme: Programme,
    member_coop_id: int,
    member_code: str,
    actor: str,
    on: date,
) -> tuple[str, int | None]:
    """Post the seat's financing; returns (funding account, entry id or None for a free seat)."""
    key = funding_account_key(programme, member_coop_id=member_coop_id)
    cost, currency = programme.seat_cost, programme.currency
    if cost == 0:
        return key, None
    _open_funding_account(session, key, currency)
    if key != ENTERPRISE_TRAINING_EXPENSE:
        lock_fund(session, key)
        available = fund_balance(session, key)
        if available < cost:
            raise FundTooSmall(
                f"The training fund {key} holds {format_money(available, currency)}; "
                f"the seat costs {format_money(cost, currency)}, so it cannot be financed.",
                params={
                    "available": format_money(available, currency),
                    "cost": format_money(cost, currency),
                },
                errors=[
                    {
                        "loc": ["fund", key],
                        "msg": "balance below the seat cost",
                        "balance": {"amount": available, "currency": currency},
                        "seat_cost": {"amount": cost, "currency": currency},
                    }
                ],
            )
    result = ledger.post(
        session,
        ledger.EntrySpec(
            kind=ENTRY_KIND,
            effective_date=on,
            postings=(
                ledger.PostingSpec(account=key, side=Side.debit, amount=cost, currency=currency),
                ledger.PostingSpec(
                    account=provider_payable(programme.provider_id),
                    side=Side.credit,
                    amount=cost,
                    currency=currency,
                ),
            ),
            idempotency_key=f"training:seat:{enrolment_id}",
            memo=f"Training seat for {member_code} in programme {programme.id}",
            reference=f"enrolment:{enrolment_id}",
            metadata={"enrolment_id": enrolment_id, "programme_id": programme.id},
            created_by=actor,
        ),
    )
    return key, result.entry_id


def refund_seat(session: Session, *, entry_id: int, enrolment_id: int, actor: str) -> int:
    """Return a seat's cost to its funding account (a reversal of the financing entry)."""
    reversal = ledger.reverse(
        session,
        entry_id,
        created_by=actor,
        memo=f"Enrolment {enrolment_id} dropped before the programme started: seat cost returned",
    )
    assert reversal.id is not None
    return reversal.id
