"""Refunds and cancellations: money back through the provider it came by, never more than was taken.

Before settlement a refund is Dr deposits / Cr clearing; after settlement the settlement is first
reversed in proportion (orders/settlement.py). Stripe refunds go through the gateway as the very
last step, once the refund, its ledger entries and the order's state are written (a failure in any
of those never reaches Stripe), with an idempotency key from the refund's own key, so a retry of a
request whose commit was lost gets Stripe's first refund back; manual refunds are recorded with a
reference.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from core.actor import Actor
from ledger.allocation import allocate
from orders import notices, stock
from orders.access import require_buyer, require_staff
from orders.checkout import check_idempotency_key
from orders.errors import IdempotencyKeyReused, IllegalTransition, OrderInvalid, RefundRefused
from orders.lifecycle import get_order, lines_of, payments_of, reservations_of, transition
from orders.models import Order, OrderLine, OrderStatus, Payment, PaymentStatus, Provider, Refund
from orders.postings import post_refund
from orders.refund_request_models import RefundRequest, RefundRequestStatus, mark_decided
from orders.settlement import unsettle_for_refund
from orders.stripe_gateway import StripeGateway

REFUNDABLE = (
    OrderStatus.paid,
    OrderStatus.shipped,
    OrderStatus.delivered,
    OrderStatus.settled,
    OrderStatus.partially_refunded,
)


@dataclass(frozen=True)
class ProviderRefund:
    """A Stripe refund to ask for once everything else about the refund is written."""

    payment_intent_id: str
    amount: int
    idempotency_key: str


def refundable(payments: list[Payment]) -> int:
    return sum(
        p.amount_captured - p.amount_refunded
        for p in payments
        if p.status == PaymentStatus.succeeded
    )


def refund_order(
    session: Session,
    *,
    order_id: int,
    amount: int,
    currency: str,
    reason: str,
    reference: str,
    lines: list[tuple[int, int]] | None,
    idempotency_key: str | None,
    actor: Actor,
    gateway: StripeGateway | None,
    answering_request_id: int | None = None,
) -> tuple[Refund, bool]:
    """A staff refund, full or partial, by line or spread over the lines; (refund, created now).

    ``answering_request_id``: the buyer's refund request this refund approves (left open here)."""
    key = check_idempotency_key(idempotency_key)
    require_staff(actor, "refund an order")
    order = get_order(session, order_id, for_update=True)
    digest = hashlib.sha256(
        json.dumps([amount, currency, reason, reference, lines], sort_keys=True).encode()
    ).hexdigest()
    existing = session.scalars(
        select(Refund).where(col(Refund.order_id) == order_id, col(Refund.idempotency_key) == key)
    ).first()
    if existing is not None:
        if existing.request_hash != digest:
            raise IdempotencyKeyReused()
        return existing, False
    if order.status not in REFUNDABLE:
        raise IllegalTransition(order_id, order.status, "refunded")
    if currency != order.currency:
        raise OrderInvalid(f"This order was paid in {order.currency}.", loc=["body", "currency"])
    per_line = _per_line(session, order, amount, lines)
    refund, calls = _refund(
        session,
        order=order,
        per_line=per_line,
        reason=reason,
        reference=reference,
        key=key,
        digest=digest,
        actor=f"user:{actor.user_id}",
        gateway=gateway,
    )
    payments = payments_of(session, order_id)
    fully = refundable(payments) == 0
    transition(
        session,
        order,
        OrderStatus.refunded if fully else OrderStatus.partially_refunded,
        actor=f"user:{actor.user_id}",
        note=reason,
    )
    if fully and order.shipped_at is None:
        _release_stock(session, order)
    if fully:
        _close_open_requests(
            session, order_id, NOTHING_LEFT, actor.user_id, keep=answering_request_id
        )
    _refund_at_provider(session, refund, calls, gateway)
    return refund, True


def _per_line(
    session: Session, order: Order, amount: int, lines: list[tuple[int, int]] | None
) -> dict[int, int]:
    order_lines = {line.id or 0: line for line in lines_of(session, order.id or 0)}
    left = {
        line_id: line.line_total - line.refunded_amount for line_id, line in order_lines.items()
    }
    available = min(sum(left.values()), refundable(payments_of(session, order.id or 0)))
    if amount > available:
        raise RefundRefused(
            f"At most {available} can still be refunded on order {order.id}; {amount} is more "
            "than was paid and not yet refunded.",
            errors=[{"loc": ["body", "amount"], "msg": f"at most {available}"}],
        )
    if lines is None:
        ids = sorted(left)
        return {
            i: a for i, a in zip(ids, allocate(amount, [left[i] for i in ids]), strict=True) if a
        }
    return _named_lines(order, set(order_lines), left, amount, lines)


def _named_lines(
    order: Order,
    line_ids: set[int],
    left: dict[int, int],
    amount: int,
    lines: list[tuple[int, int]],
) -> dict[int, int]:
    """The amounts the request gives per line, checked against the order and what is left."""
    per_line: dict[int, int] = {}
    for index, (line_id, line_amount) in enumerate(lines):
        if line_id not in line_ids:
            raise OrderInvalid(
                f"Order {order.id} has no line {line_id}.", loc=["body", "lines", index, "line_id"]
            )
        per_line[line_id] = per_line.get(line_id, 0) + line_amount
    if sum(per_line.values()) != amount:
        raise OrderInvalid(
            "The lines' amounts must sum to the refund's amount.", loc=["body", "lines"]
        )
    for line_id, line_amount in per_line.items():
        if line_amount > left[line_id]:
            raise RefundRefused(
                f"Line {line_id} has only {left[line_id]} left to refund.",
                errors=[
                    {"loc": ["body", "lines"], "msg": f"line {line_id}: at most {left[line_id]}"}
                ],
            )
    return per_line


def _refund(
    session: Session,
    *,
    order: Order,
    per_line: dict[int, int],
    reason: str,
    reference: str,
    key: str,
    digest: str,
    actor: str,
    gateway: StripeGateway | None,
) -> tuple[Refund, list[ProviderRefund]]:
    """Write the refund, its ledger entries and line amounts; the Stripe calls still to make."""
    amount = sum(per_line.values())
    payments = [
        p for p in payments_of(session, order.id or 0) if p.status == PaymentStatus.succeeded
    ]
    first = next(p for p in payments if p.amount_captured > p.amount_refunded)
    refund = Refund(
        order_id=order.id or 0,
        payment_id=first.id or 0,
        amount=amount,
        currency=order.currency,
        reason=reason,
        reference=reference,
        after_settlement=order.settlement_entry_id is not None,
        idempotency_key=key,
        request_hash=digest,
        created_by=actor,
    )
    session.add(refund)
    session.flush()
    notices.refund_decided(session, order, refund_id=refund.id or 0, amount=amount)
    if refund.after_settlement:
        unsettle_for_refund(
            session, order=order, refund_id=refund.id or 0, per_line=per_line, actor=actor
        )
    lines = {line.id: line for line in lines_of(session, order.id or 0)}
    for line_id, line_amount in per_line.items():
        line = lines[line_id]
        line.refunded_amount += line_amount
        session.add(line)
    calls = _give_back_over(
        session,
        order=order,
        payments=payments,
        refund=refund,
        per_line=per_line,
        actor=actor,
        gateway=gateway,
    )
    session.flush()
    return refund, calls


def _give_back_over(
    session: Session,
    *,
    order: Order,
    payments: list[Payment],
    refund: Refund,
    per_line: dict[int, int],
    actor: str,
    gateway: StripeGateway | None,
) -> list[ProviderRefund]:
    """The refund taken from the payments in turn; the Stripe calls still to make."""
    left = refund.amount
    calls: list[ProviderRefund] = []
    for payment in payments:
        take = min(left, payment.amount_captured - payment.amount_refunded)
        if take <= 0:
            continue
        call = _give_back(
            session,
            order=order,
            payment=payment,
            refund=refund,
            amount=take,
            per_line=per_line,
            actor=actor,
            gateway=gateway,
        )
        if call is not None:
            calls.append(call)
        left -= take
        if left == 0:
            break
    return calls


def _give_back(
    session: Session,
    *,
    order: Order,
    payment: Payment,
    refund: Refund,
    amount: int,
    actor: str,
    gateway: StripeGateway | None,
    per_line: dict[int, int] | None = None,
) -> ProviderRefund | None:
    provider_refund = None
    if payment.provider == Provider.stripe:
        if gateway is None or payment.payment_intent_id is None:
            raise RefundRefused("Card refunds need Stripe to be configured here.")
        # From the refund's own idempotency key, so that a retry of a request whose transaction
        # was lost after Stripe answered gets Stripe's first refund back rather than a second.
        request = hashlib.sha256(refund.idempotency_key.encode()).hexdigest()[:32]
        provider_refund = ProviderRefund(
            payment_intent_id=payment.payment_intent_id,
            amount=amount,
            idempotency_key=f"hezuo-refund-{order.id}-{payment.id}-{request}",
        )
    payment.amount_refunded += amount
    session.add(payment)
    session.flush()
    post_refund(
        session,
        refund_id=refund.id or 0,
        payment_id=payment.id or 0,
        order_id=order.id or 0,
        provider=payment.provider,
        amount=amount,
        currency=order.currency,
        created_by=actor,
        on=date.today(),
        per_line=per_line,
    )
    return provider_refund


def _refund_at_provider(
    session: Session, refund: Refund, calls: list[ProviderRefund], gateway: StripeGateway | None
) -> None:
    """The last step of a refund: Stripe moves the money only once our side is all written."""
    for call in calls:
        assert gateway is not None  # _give_back refused Stripe refunds without a gateway
        made = gateway.refund(
            payment_intent_id=call.payment_intent_id,
            amount=call.amount,
            idempotency_key=call.idempotency_key,
        )
        refund.provider_refund_id = made.id
    if calls:
        session.add(refund)
        session.flush()


# What a buyer's open refund request is answered with when the money came back another way
# (stored text, shown as staff's answer: both languages).
NOTHING_LEFT = (
    "订单已全额退款，无需再退。The order has been refunded in full; nothing is left to refund."
)
CANCELLED = (
    "订单已取消，已付款项已退回。The order was cancelled and what was paid has been returned."
)


def _close_open_requests(
    session: Session, order_id: int, answer: str, decided_by: int | None, *, keep: int | None
) -> None:
    """Answer the order's open refund request (if any, and not the one being approved)."""
    for request in session.scalars(
        select(RefundRequest).where(
            col(RefundRequest.order_id) == order_id,
            col(RefundRequest.status) == RefundRequestStatus.open.value,
        )
    ):
        if request.id == keep:
            continue
        mark_decided(request, RefundRequestStatus.declined, decided_by)
        request.decline_reason = answer
        session.add(request)
    session.flush()


def _release_stock(session: Session, order: Order) -> None:
    lines = lines_of(session, order.id or 0)
    for reservation in sorted(
        reservations_of(session, [line.id or 0 for line in lines]), key=lambda r: r.lot_id
    ):
        stock.release(session, reservation)


def cancel_order(
    session: Session, *, order_id: int, actor: Actor, token_ok: bool, gateway: StripeGateway | None
) -> Order:
    """The buyer (or staff) cancels before shipping: stock released, money refunded if paid."""
    order = get_order(session, order_id, for_update=True)
    require_buyer(actor, order, token_ok=token_ok, allow_staff=True)
    if order.shipped_at is not None or any(line.shipped_at for line in lines_of(session, order_id)):
        raise IllegalTransition(order_id, order.status, "cancelled (it has been shipped)")
    if order.status not in (
        OrderStatus.pending_payment,
        OrderStatus.paid,
        OrderStatus.partially_refunded,
    ):
        raise IllegalTransition(order_id, order.status, "cancelled")
    who = f"user:{actor.user_id}" if actor.user_id is not None else "guest"
    due_back = refundable(payments_of(session, order_id))
    refund: Refund | None = None
    calls: list[ProviderRefund] = []
    if due_back:
        per_line = _spread(session, order, due_back)
        refund, calls = _refund(
            session,
            order=order,
            per_line=per_line,
            reason="cancelled by " + who,
            reference="",
            key=f"cancel:{order_id}",
            digest="cancel",
            actor=who,
            gateway=gateway,
        )
    _release_stock(session, order)
    order.reserved_until = None
    transition(session, order, OrderStatus.cancelled, actor=who)
    _close_open_requests(session, order_id, CANCELLED, actor.user_id, keep=None)
    if refund is not None:
        _refund_at_provider(session, refund, calls, gateway)
    return order


def _spread(session: Session, order: Order, amount: int) -> dict[int, int]:
    lines = lines_of(session, order.id or 0)
    left = [line.line_total - line.refunded_amount for line in lines]
    parts = allocate(amount, left)
    return {line.id or 0: part for line, part in zip(lines, parts, strict=True) if part}


def refund_late_payment(
    session: Session, *, order: Order, actor: str, gateway: StripeGateway | None
) -> None:
    """A payment that arrived after the order expired (stock gone) or was cancelled: all back, flagged."""
    due_back = refundable(payments_of(session, order.id or 0))
    refund: Refund | None = None
    calls: list[ProviderRefund] = []
    if due_back:
        refund, calls = _refund(
            session,
            order=order,
            per_line=_spread_unrefunded(session, order, due_back),
            reason="paid after the reservation expired and the stock was gone",
            reference="automatic",
            key=f"late:{order.id}:{due_back}",
            digest="late",
            actor=actor,
            gateway=gateway,
        )
    order.flagged = True
    order.flag_reason = (
        f"Payment arrived while the order was {order.status}; it was refunded automatically."
    )
    session.add(order)
    if order.status == OrderStatus.expired:
        transition(session, order, OrderStatus.refunded, actor=actor, note=order.flag_reason)
    if refund is not None:
        _refund_at_provider(session, refund, calls, gateway)


def _spread_unrefunded(session: Session, order: Order, amount: int) -> dict[int, int]:
    lines: list[OrderLine] = lines_of(session, order.id or 0)
    left = [max(line.line_total - line.refunded_amount, 0) for line in lines]
    if sum(left) < amount:  # a cancelled order's lines were already refunded once
        left = [line.line_total for line in lines]
    parts = allocate(amount, left)
    return {line.id or 0: part for line, part in zip(lines, parts, strict=True) if part}
