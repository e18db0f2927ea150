"""Settlement: a delivered order's deposits go to its households, funds and the enterprise, by the
snapshotted share rule and the lot contributions; refunds after settlement reverse it in proportion.

Each line's amount is split over the lots it was sold from (by units, `allocate`), then each lot's
part by `ledger.share_rules.sale_shares` over that lot's household contributions. A reversal of
`r` after `before` was already reversed is credits(before + r) − credits(before) per account, so the
reversals of a fully refunded line sum exactly to its settlement.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select

from catalog.models import LotContribution, Product
from ledger.allocation import allocate
from ledger.share_rules import (
    BUYER_DEPOSITS,
    ENTERPRISE_INCOME,
    ShareParts,
    collective_fund_key,
    sale_shares,
    training_fund_key,
)
from orders.errors import IllegalTransition
from orders.lifecycle import lines_of, reservations_of, transition
from orders.models import LotReservation, Order, OrderLine, OrderStatus
from orders.postings import PROCESSING_FEES, fees_of_order, post_entry


def line_parts(line: OrderLine) -> ShareParts:
    return ShareParts(
        producers=line.rule_producers,
        collective_fund=line.rule_collective_fund,
        training_fund=line.rule_training_fund,
        enterprise=line.rule_enterprise,
    )


def line_credits(session: Session, line: OrderLine, amount: int) -> dict[str, int]:
    """Account → credit for `amount` of this line, by the split rule (module doc)."""
    credits: dict[str, int] = defaultdict(int)
    if amount <= 0:
        return credits
    lots = _lot_units(reservations_of(session, [line.id or 0]))
    lot_ids = list(lots)
    chunks = allocate(amount, list(lots.values())) if lot_ids else [amount]
    keys: list[int | None] = list(lot_ids) if lot_ids else [None]
    for lot_id, chunk in zip(keys, chunks, strict=True):
        if chunk == 0:
            continue
        contributions = _contributions(session, lot_id, line.product_id)
        if contributions:
            shares = sale_shares(
                chunk, line_parts(line), contributions, coop_id=line.coop_id, producers_floor=0
            )
            for share in shares:
                credits[share.account_key] += share.amount
        else:  # no known producer: the producers' part stays with the cooperative
            parts = line_parts(line)
            weights = [
                parts.producers + parts.collective_fund,
                parts.training_fund,
                parts.enterprise,
            ]
            fund, training, enterprise = allocate(chunk, weights)
            credits[collective_fund_key(line.coop_id)] += fund
            credits[training_fund_key(line.coop_id)] += training
            credits[ENTERPRISE_INCOME] += enterprise
    return credits


def _lot_units(reservations: list[LotReservation]) -> dict[int, int]:
    units: dict[int, int] = defaultdict(int)
    for r in sorted(reservations, key=lambda r: r.id or 0):
        units[r.lot_id] += r.quantity
    return dict(units)


def _contributions(session: Session, lot_id: int | None, product_id: int) -> dict[int, int]:
    if lot_id is not None:
        rows = session.scalars(
            select(LotContribution)
            .where(col(LotContribution.lot_id) == lot_id)
            .order_by(col(LotContribution.household_id))
        ).all()
        if rows:
            return {row.household_id: row.quantity for row in rows}
    product = session.get(Product, product_id)
    if product is not None and product.household_id is not None:
        return {product.household_id: 1}
    return {}


# Steps other domains run inside the settlement's transaction, given the settlement entry id
# (training deducts tuition from the shares). Registered by the composition root, since orders
# may not import training.
SettlementHook = Callable[[Session, int], object]
_after_settlement: list[SettlementHook] = []


def on_settled(hook: SettlementHook) -> None:
    if hook not in _after_settlement:
        _after_settlement.append(hook)


def settle_order(session: Session, order: Order, *, actor: str) -> None:
    """Post the settlement (idempotent by the order id) and mark the order settled."""
    if order.delivered_at is None:
        raise IllegalTransition(order.id or 0, order.status, "settled")
    credits: dict[str, int] = defaultdict(int)
    lines = lines_of(session, order.id or 0)
    recovered = _fees_borne_pro_rata(session, order, lines)
    for line in lines:
        amount = line.line_total - line.refunded_amount
        recover = recovered.get(line.id or 0, 0)
        for account, part in line_credits(session, line, amount - recover).items():
            credits[account] += part
        if recover:
            credits[PROCESSING_FEES] += recover  # the parts pay their share of the fee back
    total = sum(credits.values())
    if total > 0:
        order.settlement_entry_id = post_entry(
            session,
            kind="sale",
            key=f"order-settlement:{order.id}",
            order_id=order.id or 0,
            currency=order.currency,
            debits=[(BUYER_DEPOSITS, total)],
            credits=sorted(credits.items()),
            memo=f"Settlement of order {order.id}",
            created_by=actor,
            on=date.today(),
        )
        for hook in _after_settlement:
            hook(session, order.settlement_entry_id)
    transition(session, order, OrderStatus.settled, actor=actor)


def _fees_borne_pro_rata(session: Session, order: Order, lines: list[OrderLine]) -> dict[int, int]:
    """Line id → its share of the order's processing fees, for lines whose rule says `pro_rata`.

    The fees are spread over the lines by what is left of each (largest remainder); lines whose
    rule says `enterprise` leave their share as the enterprise's expense.
    """
    fee = fees_of_order(session, order_id=order.id or 0, currency=order.currency)
    if fee == 0:
        return {}
    left = [max(line.line_total - line.refunded_amount, 0) for line in lines]
    if sum(left) == 0:
        return {}
    shares = allocate(fee, left)
    return {
        line.id or 0: min(share, amount)
        for line, share, amount in zip(lines, shares, left, strict=True)
        if line.rule_fee_bearer == "pro_rata" and share
    }


def unsettle_for_refund(
    session: Session, *, order: Order, refund_id: int, per_line: dict[int, int], actor: str
) -> None:
    """Reverse the settlement in proportion for a refund of `per_line` (line id → amount)."""
    debits: dict[str, int] = defaultdict(int)
    total = 0
    lines = {line.id: line for line in lines_of(session, order.id or 0)}
    for line_id, amount in per_line.items():
        line = lines[line_id]
        done = line.refunded_settled_amount
        after = _cumulative(session, line, done + amount)
        prior = _cumulative(session, line, done)
        for account in set(after) | set(prior):
            debits[account] += after.get(account, 0) - prior.get(account, 0)
        line.refunded_settled_amount = done + amount
        session.add(line)
        total += amount
    if total:
        post_entry(
            session,
            kind="refund",
            key=f"order-refund:{refund_id}:settlement",
            order_id=order.id or 0,
            currency=order.currency,
            debits=sorted(debits.items()),
            credits=[(BUYER_DEPOSITS, total)],
            memo=f"Settlement of order {order.id} reversed in proportion for refund {refund_id}",
            created_by=actor,
            on=date.today(),
        )


def _cumulative(session: Session, line: OrderLine, reversed_amount: int) -> dict[str, int]:
    """The reversal of the first `reversed_amount` of the line's settled amount, per account.

    The settled amount is split as the settlement split it, scaled: credits(settled) allocated by
    account in proportion to `reversed_amount / settled`, so the full reversal equals the settlement.
    """
    if reversed_amount <= 0:
        return {}
    settled_amount = line.line_total - line.refunded_amount + line.refunded_settled_amount
    settled_credits = line_credits(session, line, settled_amount)
    accounts = sorted(settled_credits)
    scaled = allocate(reversed_amount, [settled_credits[a] for a in accounts])
    return dict(zip(accounts, scaled, strict=True))
