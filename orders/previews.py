"""What an action is about to do with the money, said before it is done (confirmation pages)."""

from dataclasses import dataclass

from sqlmodel import Session

from ledger.allocation import allocate
from ledger.share_rules import ShareParts, part_keys
from orders.lifecycle import lines_of, payments_of
from orders.models import Order, OrderStatus
from orders.payments import outstanding


@dataclass(frozen=True)
class SettlementPreview:
    """The amount settling an order shares out, and each part's share of it (minor units), by
    the share rule each line carries; processing fees a `pro_rata` rule charges are not taken
    off here (the receipt shows them once settled)."""

    total: int
    parts: dict[str, int]


def settlement_preview(session: Session, order: Order) -> SettlementPreview:
    parts = dict.fromkeys(part_keys(), 0)
    for line in lines_of(session, order.id or 0):
        kept = line.line_total - line.refunded_amount
        if kept <= 0:
            continue
        weights = ShareParts.of_row(line, prefix="rule_").as_weights()
        for part, amount in zip(part_keys(), allocate(kept, weights), strict=True):
            parts[part] += amount
    return SettlementPreview(total=sum(parts.values()), parts=parts)


def deliverable(session: Session, order: Order) -> bool:
    """Whether marking the order delivered would be accepted now (see fulfilment._deliver)."""
    shipped = order.status == OrderStatus.shipped or (
        order.status == OrderStatus.partially_refunded
        and order.shipped_at is not None
        and order.delivered_at is None
    )
    return shipped and outstanding(order, payments_of(session, order.id or 0)) == 0


def cancellable(session: Session, order: Order) -> bool:
    """Whether cancelling would be accepted now (see refunds.cancel_order)."""
    if order.shipped_at is not None or any(
        line.shipped_at for line in lines_of(session, order.id or 0)
    ):
        return False
    return order.status in (
        OrderStatus.pending_payment,
        OrderStatus.paid,
        OrderStatus.partially_refunded,
    )
