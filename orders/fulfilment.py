"""Fulfilment: each cooperative ships its own lines; delivery (buyer, staff, or after N days) settles."""

from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from core.actor import Actor
from ledger.base import utcnow
from orders import stock
from orders.access import refuse, require_buyer
from orders.errors import CashNotRecorded, IllegalTransition, OrderInvalid
from orders.lifecycle import get_order, lines_of, payments_of, reservations_of, transition
from orders.models import Order, OrderLine, OrderStatus
from orders.payment_methods import SHIPS_BEFORE_PAYMENT_KEYS, ships_before_payment
from orders.payments import outstanding
from orders.settlement import settle_order

SHIPPABLE = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.partially_refunded)


def pays_on_delivery(order: Order) -> bool:
    """Cash on delivery: the courier collects the money, so the goods leave before it is paid."""
    return ships_before_payment(order.payment_method)


def may_ship(session: Session, order: Order) -> bool:
    if pays_on_delivery(order) and order.status in (OrderStatus.pending_payment, *SHIPPABLE):
        return True
    return (
        order.status in SHIPPABLE and outstanding(order, payments_of(session, order.id or 0)) == 0
    )


def ship_lines(
    session: Session,
    *,
    order_id: int,
    actor: Actor,
    carrier: str,
    tracking_number: str,
    coop_id: int | None,
) -> Order:
    order = get_order(session, order_id, for_update=True)
    lines = lines_of(session, order_id)
    coops = {line.coop_id for line in lines}
    coop = _shipping_coop(actor, coops, coop_id)
    if not may_ship(session, order):
        raise IllegalTransition(order_id, order.status, "shipped")
    mine = [line for line in _live(lines) if line.coop_id == coop]
    if not mine or _all_shipped(mine):
        raise IllegalTransition(order_id, order.status, f"shipped by cooperative {coop} again")
    if order.status == OrderStatus.pending_payment:
        _hold_for_delivery(session, order, lines)
    now = utcnow()
    for line in mine:
        line.carrier, line.tracking_number, line.shipped_at = carrier, tracking_number, now
        session.add(line)
    session.flush()
    if _all_shipped(_live(lines)) and order.status != OrderStatus.shipped:
        transition(
            session,
            order,
            OrderStatus.shipped,
            actor=f"user:{actor.user_id}",
            note=f"{carrier} {tracking_number}",
        )
    return order


def _live(lines: list[OrderLine]) -> list[OrderLine]:
    """The lines not wholly refunded."""
    return [line for line in lines if line.refunded_amount < line.line_total]


def _all_shipped(lines: list[OrderLine]) -> bool:
    return all(line.shipped_at is not None for line in lines)


def _hold_for_delivery(session: Session, order: Order, lines: list[OrderLine]) -> None:
    """An unpaid cash-on-delivery order leaves the warehouse: its units are sold (no longer held
    until a deadline, so `expire_orders` leaves it alone) while the courier collects the cash."""
    for reservation in sorted(
        reservations_of(session, [line.id or 0 for line in lines]), key=lambda r: r.lot_id
    ):
        stock.consume(session, reservation)
    order.reserved_until = None
    session.add(order)


def _shipping_coop(actor: Actor, coops: set[int], coop_id: int | None) -> int:
    if actor.role == "manager" and actor.coop_id in coops:
        if coop_id is not None and coop_id != actor.coop_id:
            refuse(actor, f"ship cooperative {coop_id}'s lines")
        return coop if (coop := actor.coop_id) is not None else 0
    if actor.is_staff:
        if coop_id is None and len(coops) == 1:
            return next(iter(coops))
        if coop_id is None or coop_id not in coops:
            raise OrderInvalid(
                "Name the cooperative whose lines are shipped (coop_id): one of "
                + ", ".join(str(c) for c in sorted(coops)),
                loc=["body", "coop_id"],
            )
        return coop_id
    refuse(actor, "ship this order: only a cooperative manager in this order or staff")
    raise AssertionError  # refuse always raises


def deliver(
    session: Session, *, order_id: int, actor: Actor, token_ok: bool, on: date | None = None
) -> Order:
    """Delivered, and so settled (dated `on`, today by default: the demo dates its past sales)."""
    order = get_order(session, order_id, for_update=True)
    require_buyer(actor, order, token_ok=token_ok, allow_staff=True)
    who = f"user:{actor.user_id}" if actor.user_id is not None else "guest"
    return _deliver(session, order, actor=who, on=on)


def _deliver(
    session: Session, order: Order, *, actor: str, note: str = "", on: date | None = None
) -> Order:
    shipped = order.status == OrderStatus.shipped or (
        order.status == OrderStatus.partially_refunded
        and order.shipped_at is not None
        and order.delivered_at is None
    )
    if not shipped:
        raise IllegalTransition(order.id or 0, order.status, "marked delivered")
    if outstanding(order, payments_of(session, order.id or 0)) > 0:
        raise CashNotRecorded(order.id or 0)
    transition(session, order, OrderStatus.delivered, actor=actor, note=note)
    settle_order(session, order, actor=actor, on=on)
    return order


def auto_deliver(session: Session, *, days: int, now: datetime | None = None) -> list[int]:
    """Orders shipped more than `days` ago are taken as delivered (and settled)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    orders = session.scalars(
        select(Order)
        .where(col(Order.status) == OrderStatus.shipped, col(Order.shipped_at) <= cutoff)
        .order_by(col(Order.id))
    ).all()
    done = []
    for order in orders:
        locked = get_order(session, order.id or 0, for_update=True)
        if locked.status != OrderStatus.shipped:
            continue
        if outstanding(locked, payments_of(session, locked.id or 0)) > 0:
            continue  # cash on delivery not yet recorded: settling would share out no money
        _deliver(session, locked, actor="system", note=f"delivered automatically after {days} days")
        done.append(locked.id or 0)
    return done


def expire_orders(session: Session, *, now: datetime | None = None) -> list[int]:
    """Unpaid orders past their reservation: stock released, order expired."""
    moment = now or utcnow()
    orders = session.scalars(
        select(Order)
        .where(col(Order.status) == OrderStatus.pending_payment, col(Order.reserved_until) < moment)
        .order_by(col(Order.id))
    ).all()
    done = []
    for order in orders:
        locked = get_order(session, order.id or 0, for_update=True)
        if locked.status != OrderStatus.pending_payment:
            continue
        lines = lines_of(session, locked.id or 0)
        for reservation in sorted(
            reservations_of(session, [line.id or 0 for line in lines]), key=lambda r: r.lot_id
        ):
            stock.release(session, reservation)
        transition(session, locked, OrderStatus.expired, actor="system", note="not paid in time")
        done.append(locked.id or 0)
    return done


def fulfilment_queue(
    session: Session, *, coop_id: int, actor: Actor
) -> list[tuple[Order, list[OrderLine]]]:
    """Orders with this cooperative's lines still to ship, oldest first: paid ones, and cash on
    delivery ones before payment (the courier collects the cash)."""
    if not (actor.reads_all or (actor.role == "manager" and actor.coop_id == coop_id)):
        refuse(actor, f"see cooperative {coop_id}'s fulfilment queue")
    rows = session.scalars(
        select(OrderLine)
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(
            col(OrderLine.coop_id) == coop_id,
            col(OrderLine.shipped_at).is_(None),
            or_(
                col(Order.status).in_(
                    [OrderStatus.paid.value, OrderStatus.partially_refunded.value]
                ),
                and_(
                    col(Order.status) == OrderStatus.pending_payment.value,
                    col(Order.payment_method).in_(SHIPS_BEFORE_PAYMENT_KEYS),
                ),
            ),
        )
        .order_by(col(OrderLine.order_id), col(OrderLine.id))
    ).all()
    by_order: dict[int, list[OrderLine]] = {}
    for line in rows:
        if line.refunded_amount < line.line_total:
            by_order.setdefault(line.order_id, []).append(line)
    return [(get_order(session, order_id), lines) for order_id, lines in by_order.items()]


def cash_to_record(session: Session, *, coop_id: int, actor: Actor) -> list[tuple[Order, int]]:
    """Cash-on-delivery orders this cooperative has shipped whose cash is not yet recorded, with
    what is still due, oldest first."""
    if not (actor.reads_all or (actor.role == "manager" and actor.coop_id == coop_id)):
        refuse(actor, f"see cooperative {coop_id}'s cash on delivery")
    orders = session.scalars(
        select(Order)
        .where(
            col(Order.payment_method).in_(SHIPS_BEFORE_PAYMENT_KEYS),
            col(Order.status).in_([OrderStatus.pending_payment.value, OrderStatus.shipped.value]),
            col(Order.id).in_(
                select(OrderLine.order_id).where(
                    col(OrderLine.coop_id) == coop_id, col(OrderLine.shipped_at).is_not(None)
                )
            ),
        )
        .order_by(col(Order.id))
    ).all()
    due = [(order, outstanding(order, payments_of(session, order.id or 0))) for order in orders]
    return [(order, amount) for order, amount in due if amount > 0]
