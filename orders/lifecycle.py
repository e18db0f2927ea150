"""Order state machine: the legal transitions, each recorded with who and when; loading helpers."""

from sqlmodel import Session, col, select

from ledger.base import utcnow
from orders import notices
from orders.errors import IllegalTransition, OrderNotFound
from orders.models import (
    LotReservation,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)

S = OrderStatus
ALLOWED: dict[str, frozenset[str]] = {
    # Cash on delivery ships before it is paid (fulfilment.may_ship says when).
    S.pending_payment: frozenset({S.paid, S.expired, S.cancelled, S.shipped}),
    # A late payment revives an expired order when its stock is still there, else it is refunded.
    S.expired: frozenset({S.paid, S.refunded}),
    S.paid: frozenset({S.shipped, S.cancelled, S.refunded, S.partially_refunded}),
    S.shipped: frozenset({S.delivered, S.refunded, S.partially_refunded}),
    S.delivered: frozenset({S.settled, S.refunded, S.partially_refunded}),
    S.settled: frozenset({S.refunded, S.partially_refunded}),
    # A partly refunded order still moves on (its timestamps tell how far it got).
    S.partially_refunded: frozenset(
        {S.partially_refunded, S.refunded, S.shipped, S.delivered, S.settled, S.cancelled}
    ),
    S.cancelled: frozenset(),
    S.refunded: frozenset(),
}


def transition(
    session: Session, order: Order, to: OrderStatus, *, actor: str, note: str = ""
) -> None:
    if to not in ALLOWED[order.status]:
        raise IllegalTransition(order.id or 0, order.status, _verb(to))
    session.add(
        OrderEvent(
            order_id=order.id or 0,
            from_status=order.status,
            to_status=to.value,
            actor=actor,
            note=note,
        )
    )
    order.status = to.value
    now = utcnow()
    if to == S.shipped and order.shipped_at is None:
        order.shipped_at = now
    if to == S.delivered:
        order.delivered_at = now
    session.add(order)
    notices.status_changed(session, order, to)


def _verb(to: OrderStatus) -> str:
    return {
        S.paid: "paid",
        S.expired: "expired",
        S.cancelled: "cancelled",
        S.shipped: "shipped",
        S.delivered: "marked delivered",
        S.settled: "settled",
        S.refunded: "refunded",
        S.partially_refunded: "refunded",
    }.get(to, to.value)


def get_order(session: Session, order_id: int, *, for_update: bool = False) -> Order:
    query = select(Order).where(col(Order.id) == order_id)
    if for_update:
        # PostgreSQL: one writer per order at a time (webhook and return URL race here).
        query = query.with_for_update()
    order = session.scalars(query.execution_options(populate_existing=True)).first()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def lines_of(session: Session, order_id: int) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
        )
    )


def reservations_of(session: Session, line_ids: list[int]) -> list[LotReservation]:
    if not line_ids:
        return []
    return list(
        session.scalars(
            select(LotReservation)
            .where(col(LotReservation.line_id).in_(line_ids))
            .order_by(col(LotReservation.id))
        )
    )


def payments_of(session: Session, order_id: int) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(col(Payment.order_id) == order_id).order_by(col(Payment.id))
        )
    )


def events_of(session: Session, order_id: int) -> list[OrderEvent]:
    return list(
        session.scalars(
            select(OrderEvent)
            .where(col(OrderEvent.order_id) == order_id)
            .order_by(col(OrderEvent.id))
        )
    )


def captured(payments: list[Payment]) -> int:
    return sum(p.amount_captured for p in payments if p.status == PaymentStatus.succeeded)


def refunded(payments: list[Payment]) -> int:
    return sum(p.amount_refunded for p in payments)


def payment_status(order: Order, payments: list[Payment]) -> str:
    """Derived from the amounts: unpaid, partially_paid, paid, partially_refunded, refunded."""
    got = captured(payments)
    back = refunded(payments)
    if back and back >= got:
        return "refunded"
    if back:
        return "partially_refunded"
    if got >= order.total_amount:
        return "paid"
    return "partially_paid" if got else "unpaid"
