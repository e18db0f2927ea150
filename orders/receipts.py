"""'Where your money went': an order's split read back from its actual ledger postings.

Each share part's account is read back with `ledger.share_rules.parse_account_key`, so every part
(`SHARE_PARTS`) shows under its own party and label: `household:{code}`, `fund:{fund}:{coop}` for
a cooperative's fund, the part's key for any other part.
"""

from collections import defaultdict
from typing import TypeVar

from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from catalog.models import Cooperative, Household
from ledger.models import Account, JournalEntry, Posting
from ledger.share_rules import (
    BUYER_DEPOSITS,
    ENTERPRISE_INCOME,
    coop_of,
    household_of,
    parse_account_key,
)
from orders.lifecycle import captured, payments_of, refunded
from orders.models import Order
from orders.postings import CLEARING, PROCESSING_FEES
from orders.schemas import MoneyRead, ReceiptPart, ReceiptRead


def receipt(session: Session, order: Order) -> ReceiptRead:
    """Net credits per account over the order's entries; clearing (where the money came in) left out.

    So the parts sum exactly to what was paid minus refunds: held in escrow until settlement,
    then households, funds and the enterprise.
    """
    rows = session.execute(
        select(col(Account.key), col(Posting.amount), col(JournalEntry.kind))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(
            col(JournalEntry.reference) == f"order:{order.id}",
            col(Posting.currency) == order.currency,
        )
    ).all()
    net: dict[str, int] = defaultdict(int)
    fees = 0
    for key, amount, kind in rows:
        if key in CLEARING.values():
            continue
        net[key] -= amount  # credits are negative in the ledger
        if key == PROCESSING_FEES and kind == "fee" and amount > 0:
            fees += amount  # what the provider kept; a refund's reversal debits are not a fee
    if fees:
        # The fee row shows what the payment provider kept. What the parts paid back of it (pro
        # rata rules, less what a refund after settlement gave back to them) is already out of
        # their credits; the rest is borne by the enterprise once settled, and comes out of the
        # escrow until then. So the split still sums to what was paid minus refunds.
        borne = -net[PROCESSING_FEES]
        net[PROCESSING_FEES] = fees
        net[ENTERPRISE_INCOME if order.settlement_entry_id else BUYER_DEPOSITS] -= borne
    parties = _parties(session, [key for key, amount in net.items() if amount])
    split = [
        _part(parties, key, amount, order.currency)
        for key, amount in sorted(net.items(), key=_order)
        if amount
    ]
    payments = payments_of(session, order.id or 0)
    return ReceiptRead(
        order_id=order.id or 0,
        paid=MoneyRead(amount=captured(payments) - refunded(payments), currency=order.currency),
        split=split,
    )


def _parties(session: Session, keys: list[str]) -> dict[str, Household | Cooperative]:
    """The households and cooperatives the split names ("household:1", "coop:2"): those the
    session holds already, the rest in one statement per table, not one per part."""
    found: dict[str, Household | Cooperative] = {}
    households = {h for h in map(household_of, keys) if h is not None}
    for household in _held_or_read(session, Household, households):
        found[f"household:{household.id}"] = household
    for coop in _held_or_read(session, Cooperative, {c for c in map(coop_of, keys) if c}):
        found[f"coop:{coop.id}"] = coop
    return found


Row = TypeVar("Row", Household, Cooperative)


def _held_or_read(session: Session, model: type[Row], ids: set[int]) -> list[Row]:
    held = {i: session.identity_map.get(identity_key(model, i)) for i in ids}
    rows: list[Row] = [row for row in held.values() if isinstance(row, model)]
    missing = [i for i in ids if not isinstance(held[i], model)]
    if missing:
        rows += session.scalars(select(model).where(col(model.id).in_(missing))).all()
    return rows


def _order(item: tuple[str, int]) -> tuple[int, str]:
    """Households first, then the cooperatives' funds, then the rest (each by account key)."""
    key = item[0]
    found = parse_account_key(key)
    rank = (
        2 if found is None else 0 if found.part.per_household else 1 if found.part.per_coop else 2
    )
    return rank, key


def _part(
    parties: dict[str, Household | Cooperative], key: str, amount: int, currency: str
) -> ReceiptPart:
    found = parse_account_key(key)
    if found is not None and found.household_id is not None:
        household = parties.get(f"household:{found.household_id}")
        assert household is None or isinstance(household, Household)
        code = household.member_code if household else found.household_id
        label = (
            household.name
            if household and household.public_name_consent
            else found.part.receipt_label % {"code": code}
        )
        return ReceiptPart(party=f"household:{code}", label=label, amount=amount, currency=currency)
    if found is not None and found.coop_id is not None:
        coop = parties.get(f"coop:{found.coop_id}")
        assert coop is None or isinstance(coop, Cooperative)
        name = coop.name_zh if coop else found.coop_id
        return ReceiptPart(
            party=f"fund:{found.part.fund}:{found.coop_id}",
            label=found.part.receipt_label % {"coop": name},
            amount=amount,
            currency=currency,
        )
    if found is not None:
        return ReceiptPart(
            party=found.part.key, label=found.part.receipt_label, amount=amount, currency=currency
        )
    if key == PROCESSING_FEES:
        return ReceiptPart(
            party="fees", label="Payment processing fees", amount=amount, currency=currency
        )
    if key == BUYER_DEPOSITS:
        return ReceiptPart(
            party="escrow", label="Held until delivery", amount=amount, currency=currency
        )
    return ReceiptPart(party=key, label=key, amount=amount, currency=currency)
