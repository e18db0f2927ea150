"""Orders as the API and pages show them, and the reads with their authorization."""

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from core.actor import Actor
from ledger.share_rules import ShareParts
from orders.access import access_token, require_viewer, token_matches
from orders.lifecycle import (
    captured,
    events_of,
    get_order,
    lines_of,
    payment_status,
    payments_of,
    refunded,
    reservations_of,
)
from orders.models import Order, OrderLine, Payment, PaymentStatus, Provider
from orders.payment_methods import MANUAL_KEYS, SHIPS_BEFORE_PAYMENT_KEYS, is_online
from orders.schemas import EventRead, LineRead, MoneyRead, OrderRead, PaymentRead


def order_for_viewer(
    session: Session,
    *,
    order_id: int,
    actor: Actor,
    token: str | None,
    secret_key: str,
    token_days: int,
) -> tuple[Order, bool]:
    order = get_order(session, order_id)
    token_ok = token_matches(order, token, secret_key, days=token_days)
    require_viewer(
        actor, order, {line.coop_id for line in lines_of(session, order_id)}, token_ok=token_ok
    )
    return order, token_ok


def list_orders(
    session: Session, *, actor: Actor, after_id: int | None, limit: int, status: str | None
) -> list[Order]:
    """Newest first: a buyer's own orders, a manager's cooperative's, all for staff."""
    query = select(Order)
    if actor.reads_all:
        pass
    elif actor.role == "manager" and actor.coop_id is not None:
        query = query.where(
            col(Order.id).in_(
                select(col(OrderLine.order_id)).where(col(OrderLine.coop_id) == actor.coop_id)
            )
        )
    else:
        query = query.where(col(Order.buyer_user_id) == actor.user_id)
    if status:
        query = query.where(col(Order.status) == status)
    if after_id is not None:
        query = query.where(col(Order.id) < after_id)
    return list(session.scalars(query.order_by(col(Order.id).desc()).limit(limit)))


def money(amount: int, currency: str) -> MoneyRead:
    return MoneyRead(amount=amount, currency=currency)


def payment_read(payment: Payment) -> PaymentRead:
    return PaymentRead(
        id=payment.id or 0,
        order_id=payment.order_id,
        provider=payment.provider,
        method=payment.method,
        status=payment.status,
        authorized=money(payment.amount_authorized, payment.currency),
        captured=money(payment.amount_captured, payment.currency),
        refunded=money(payment.amount_refunded, payment.currency),
        reference=payment.reference,
        payment_intent_id=payment.payment_intent_id,
        client_secret=payment.client_secret,
        failure_message=payment.failure_message,
        created_at=payment.created_at,
    )


def payment_summary(order: Order, payments: list[Payment]) -> dict[str, object]:
    derived = payment_status(order, payments)
    due = max(order.total_amount - captured(payments), 0)
    if is_online(order.payment_method):
        attempts = [p for p in payments if p.provider == Provider.stripe]
        latest = attempts[-1] if attempts else None
        summary: dict[str, object] = {
            "provider": "stripe",
            "method": latest.method if latest else None,
            "payment_intent_id": latest.payment_intent_id if latest else None,
            "client_secret": latest.client_secret
            if latest and latest.status == PaymentStatus.pending
            else None,
            "status": latest.status if latest else "none",
            "failure_message": latest.failure_message if latest else None,
        }
    else:
        summary = {
            "provider": "manual",
            "method": order.payment_method,
            "reference_code": order.reference_code,
            "status": derived,
        }
    summary["payment_status"] = derived
    summary["amount_due"] = {"amount": due, "currency": order.currency}
    return summary


def order_read(session: Session, order: Order, *, secret_key: str, with_token: bool) -> OrderRead:
    lines = lines_of(session, order.id or 0)
    reservations = reservations_of(session, [line.id or 0 for line in lines])
    payments = payments_of(session, order.id or 0)
    return OrderRead(
        id=order.id or 0,
        status=order.status,
        payment_status=payment_status(order, payments),
        payment_method=order.payment_method,
        reference_code=order.reference_code,
        total=money(order.total_amount, order.currency),
        paid=money(captured(payments), order.currency),
        refunded=money(refunded(payments), order.currency),
        lines=[
            _line_read(line, [r for r in reservations if r.line_id == line.id], order.currency)
            for line in lines
        ],
        shipping={
            "recipient": order.recipient,
            "phone": order.phone,
            "province": order.province,
            "city": order.city,
            "district": order.district,
            "street": order.street,
        },
        note=order.note,
        email=order.guest_email,
        access_token=access_token(order, secret_key) if with_token else None,
        payment=payment_summary(order, payments),
        reserved_until=order.reserved_until,
        flagged=order.flagged,
        flag_reason=order.flag_reason,
        timeline=[
            EventRead(
                from_status=e.from_status,
                to_status=e.to_status,
                actor=e.actor,
                note=e.note,
                at=e.at,
            )
            for e in events_of(session, order.id or 0)
        ],
        created_at=order.created_at,
    )


def _line_read(line: OrderLine, reservations: list, currency: str) -> LineRead:  # type: ignore[type-arg]
    return LineRead(
        id=line.id or 0,
        product_id=line.product_id,
        coop_id=line.coop_id,
        name={"zh": line.product_name_zh, "en": line.product_name_en},
        unit=line.unit,
        quantity=line.quantity,
        unit_price=money(line.unit_price, currency),
        total=money(line.line_total, currency),
        refunded=money(line.refunded_amount, currency),
        shipped=line.shipped_at is not None,
        carrier=line.carrier,
        tracking_number=line.tracking_number,
        lots=[{"lot_id": r.lot_id, "quantity": r.quantity, "state": r.state} for r in reservations],
        share_rule={
            "id": line.share_rule_id,
            "parts": ShareParts.of_row(line, prefix="rule_").as_dict(),
            "fee_bearer": line.rule_fee_bearer,
        },
    )


def buyer_orders(session: Session, *, user_id: int, limit: int = 100) -> list[Order]:
    """A signed-in buyer's own orders, newest first (whatever their role)."""
    return list(
        session.scalars(
            select(Order)
            .where(col(Order.buyer_user_id) == user_id)
            .order_by(col(Order.id).desc())
            .limit(limit)
        )
    )


def awaiting_manual_payment(session: Session, *, search: str = "", limit: int = 100) -> list[Order]:
    """Orders paid by hand (bank transfer, cash on delivery) whose money staff have not yet seen.

    Expired ones too: a transfer that arrives late is still recorded (and refunded if the stock is
    gone). `search` is an order number or a transfer reference code.
    """
    query = select(Order).where(
        or_(
            and_(
                col(Order.status).in_(["pending_payment", "expired"]),
                col(Order.payment_method).in_(MANUAL_KEYS),
            ),
            # Cash on delivery shipped before payment, its cash not yet recorded.
            and_(
                col(Order.status) == "shipped",
                col(Order.payment_method).in_(SHIPS_BEFORE_PAYMENT_KEYS),
            ),
        )
    )
    term = search.strip().upper()
    if term:
        if term.isdigit():
            query = query.where(col(Order.id) == int(term))
        else:
            query = query.where(col(Order.reference_code) == term)
    found = session.scalars(query.order_by(col(Order.id).desc()).limit(limit))
    return [
        order
        for order in found
        if order.status != "shipped"
        or captured(payments_of(session, order.id or 0)) < order.total_amount
    ]


def flagged_orders(session: Session, *, limit: int = 50) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(col(Order.flagged).is_(True))
            .order_by(col(Order.id).desc())
            .limit(limit)
        )
    )
