"""Orders' journal entries, through the ledger service only; every one idempotent by a key from our ids.

Payment: Dr clearing / Cr buyer deposits. Refund before settlement: Dr deposits / Cr clearing.
Settlement: Dr deposits / Cr member payables, funds, enterprise (orders/settlement.py builds the
credits). Reversal of settlement for a refund: the same credits as debits (the fee the parts paid
back included: Dr processing fees), Cr deposits.
"""

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger.allocation import allocate
from ledger.models import Account, AccountLimit, AccountType, JournalEntry, Posting, Side
from ledger.service import EntrySpec, PostingSpec, open_account, post
from ledger.share_rules import BUYER_DEPOSITS, ENTERPRISE_INCOME, household_of, parse_account_key
from orders.models import OrderLine

CLEARING = {"manual": "assets:clearing:manual", "stripe": "assets:clearing:stripe"}
PROCESSING_FEES = "expenses:payments:processing-fees"


def account_type(key: str) -> AccountType:
    if key.startswith("assets:"):
        return AccountType.asset
    if key.startswith("liabilities:"):
        return AccountType.liability
    if key.startswith("equity:"):
        return AccountType.equity
    if key.startswith("income:"):
        return AccountType.income
    return AccountType.expense


def ensure_account(session: Session, key: str, currency: str) -> None:
    found = parse_account_key(key)
    household = found.household_id if found else None
    coop = found.coop_id if found else None
    limit = AccountLimit.non_negative if household is not None else AccountLimit.none
    party = None
    if household is not None:
        party = f"household:{household}"
    elif coop is not None:
        party = f"coop:{coop}"
    open_account(
        session,
        key=key,
        type=account_type(key),
        currency=currency,
        name=key,
        limit=limit,
        party=party,
    )


class Owner(NamedTuple):
    """Whom a posting's money belongs to: the cooperative, household and order line of a share.

    The ledger stores these as opaque keys beside the posting; reports sum by them.
    """

    coop_id: int | None = None
    household_id: int | None = None
    order_line_id: int | None = None


NOBODY = Owner()

# (account, amount) or (account, amount, owner)
Line = tuple[str, int] | tuple[str, int, Owner]


def owned(account: str, amount: int, *, coop_id: int | None, line_id: int | None) -> Line:
    """A line of an order line's money, its household read from a member payable's key."""
    return (account, amount, Owner(coop_id, household_of(account), line_id))


def _split(line: Line) -> tuple[str, int, Owner]:
    if len(line) == 3:
        return line
    return (line[0], line[1], NOBODY)


def post_entry(
    session: Session,
    *,
    kind: str,
    key: str,
    order_id: int,
    currency: str,
    debits: Iterable[Line],
    credits: Iterable[Line],
    memo: str,
    created_by: str,
    on: date,
) -> int:
    """Post one balanced entry (zero amounts dropped, negative ones moved to the other side)."""
    postings: list[PostingSpec] = []
    for side, lines in ((Side.debit, debits), (Side.credit, credits)):
        other = Side.credit if side == Side.debit else Side.debit
        for account, amount, owner in map(_split, lines):
            if amount == 0:
                continue
            ensure_account(session, account, currency)
            postings.append(
                PostingSpec(
                    account=account,
                    side=side if amount > 0 else other,
                    amount=abs(amount),
                    currency=currency,
                    coop_id=owner.coop_id,
                    household_id=owner.household_id,
                    order_line_id=owner.order_line_id,
                )
            )
    result = post(
        session,
        EntrySpec(
            kind=kind,
            effective_date=on,
            postings=tuple(postings),
            idempotency_key=key,
            memo=memo,
            reference=f"order:{order_id}",
            metadata={"order_id": order_id},
            created_by=created_by,
        ),
    )
    entry_id = result.entry_id
    assert entry_id is not None
    return entry_id


def spread(
    session: Session,
    *,
    order_id: int,
    account: str,
    amount: int,
    weights: dict[int, int] | None = None,
) -> list[Line]:
    """`amount` of an order on `account`, one line per order line with its cooperative.

    Divided by the lines' totals (or by `weights`, order line id → weight) with the largest
    remainder rule, so the parts sum exactly to `amount`; an order without lines keeps one line.
    """
    lines = list(
        session.scalars(
            select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
        )
    )
    given = weights or {}
    by = [max(given.get(line.id or 0, 0) if weights else line.line_total, 0) for line in lines]
    if not lines or sum(by) == 0:
        return [(account, amount)]
    return [
        (account, part, Owner(line.coop_id, None, line.id))
        for line, part in zip(lines, allocate(amount, by), strict=True)
    ]


def post_payment(
    session: Session,
    *,
    payment_id: int,
    order_id: int,
    provider: str,
    amount: int,
    currency: str,
    created_by: str,
    on: date,
) -> int:
    return post_entry(
        session,
        kind="payment",
        key=f"order-payment:{payment_id}",
        order_id=order_id,
        currency=currency,
        # The clearing side stays one posting per payment: it is what a bank or Stripe line
        # matches in reconciliation. The deposit is attributed line by line.
        debits=[(CLEARING[provider], amount)],
        credits=spread(session, order_id=order_id, account=BUYER_DEPOSITS, amount=amount),
        memo=f"Payment {payment_id} for order {order_id}",
        created_by=created_by,
        on=on,
    )


def post_refund(
    session: Session,
    *,
    refund_id: int,
    payment_id: int,
    order_id: int,
    provider: str,
    amount: int,
    currency: str,
    created_by: str,
    on: date,
    per_line: dict[int, int] | None = None,
) -> int:
    """Money back to the buyer from one payment, spread over the refunded lines (`per_line`)."""
    return post_entry(
        session,
        kind="refund",
        key=f"order-refund:{refund_id}:payment:{payment_id}",
        order_id=order_id,
        currency=currency,
        debits=spread(
            session, order_id=order_id, account=BUYER_DEPOSITS, amount=amount, weights=per_line
        ),
        credits=[(CLEARING[provider], amount)],  # one posting: what the bank line matches
        memo=f"Refund {refund_id} of order {order_id}",
        created_by=created_by,
        on=on,
    )


def post_processing_fee(
    session: Session,
    *,
    payment_id: int,
    order_id: int,
    provider: str,
    amount: int,
    currency: str,
    created_by: str,
    on: date,
) -> int | None:
    """The provider's fee on one payment: Dr processing fees / Cr clearing (what it kept back).

    Always an expense first; who bears it is settled later by each line's snapshotted rule
    (orders/settlement.py: `pro_rata` lines give their share of it back out of their parts).
    None when there is no fee (the emulator's fee is 0).
    """
    if amount <= 0:
        return None
    return post_entry(
        session,
        kind="fee",
        key=f"order-fee:{payment_id}",
        order_id=order_id,
        currency=currency,
        debits=spread(session, order_id=order_id, account=PROCESSING_FEES, amount=amount),
        credits=[(CLEARING[provider], amount)],  # one posting: what the provider line matches
        memo=f"Processing fee of payment {payment_id} for order {order_id}",
        created_by=created_by,
        on=on,
    )


def fees_of_order(
    session: Session, *, order_id: int, currency: str, before_entry: int | None = None
) -> int:
    """Processing fees posted for an order (debits of its fee entries), those before an entry."""
    query = (
        select(func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(
            col(JournalEntry.reference) == f"order:{order_id}",
            col(JournalEntry.kind) == "fee",
            col(Account.key) == PROCESSING_FEES,
            col(Posting.currency) == currency,
            col(Posting.amount) > 0,
        )
    )
    if before_entry is not None:
        query = query.where(col(JournalEntry.id) < before_entry)
    total = session.scalar(query)
    return int(total or 0)


__all__ = [
    "BUYER_DEPOSITS",
    "NOBODY",
    "Line",
    "Owner",
    "household_of",
    "owned",
    "spread",
    "CLEARING",
    "ENTERPRISE_INCOME",
    "PROCESSING_FEES",
    "post_entry",
    "fees_of_order",
    "post_payment",
    "post_processing_fee",
    "post_refund",
]
