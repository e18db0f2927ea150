"""Taking money: manual payments recorded by staff or a manager, Stripe attempts, and the one completion.

The browser's return and Stripe's webhook both end in `complete_stripe_payment`, which locks the
order, re-reads the attempt and does nothing if it already succeeded, so a payment completes once.
"""

import hashlib
import json
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.actor import Actor
from ledger.base import utcnow
from orders import stock
from orders.access import require_staff_or_manager
from orders.checkout import check_idempotency_key
from orders.errors import IdempotencyKeyReused, IllegalTransition, OrderInvalid, PaymentRefused
from orders.lifecycle import captured, get_order, lines_of, payments_of, reservations_of, transition
from orders.models import (
    LotReservation,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Provider,
    ReservationState,
)
from orders.payment_methods import BANK_TRANSFER, is_online, ships_before_payment
from orders.postings import post_payment, post_processing_fee
from orders.stripe_gateway import IntentView, StripeGateway

PAYABLE = (OrderStatus.pending_payment, OrderStatus.expired)


def coop_ids_of(session: Session, order_id: int) -> set[int]:
    return {line.coop_id for line in lines_of(session, order_id)}


def outstanding(order: Order, payments: list[Payment]) -> int:
    return max(order.total_amount - captured(payments), 0)


def record_manual_payment(
    session: Session,
    *,
    order_id: int,
    amount: int,
    currency: str,
    reference: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> tuple[Payment, bool]:
    """Record money received by hand; (payment, created now).

    With an Idempotency-Key the same key and body answer with the original payment, and the
    same key with another body is refused (409). The key and the body's hash are kept on the
    payment row, unique per order. The order row lock serializes retries of one order; should two
    still race to insert, the unique constraint stops the second, which answers with the first.
    """
    order = get_order(session, order_id, for_update=True)
    require_staff_or_manager(actor, coop_ids_of(session, order_id), "record a payment")
    key = digest = None
    if idempotency_key is not None:
        key = check_idempotency_key(idempotency_key)
        digest = manual_request_hash(amount, currency, reference)
        replay = _manual_replay(session, order_id, key, digest)
        if replay is not None:
            return replay, False
    if order.status not in PAYABLE and not _collected_on_delivery(order):
        raise IllegalTransition(order_id, order.status, "paid")
    if currency != order.currency:
        raise OrderInvalid(
            f"This order is paid in {order.currency}, not {currency}.", loc=["body", "currency"]
        )
    due = outstanding(order, payments_of(session, order_id))
    if amount > due:
        raise PaymentRefused(
            f"Only {due} {order.currency} (minor units) is still due on order {order_id}; "
            f"{amount} would be more than the order's total.",
            errors=[{"loc": ["body", "amount"], "msg": f"at most {due}"}],
        )
    who = f"user:{actor.user_id}"
    # A manual payment on an online order (staff saw the money arrive) is recorded as a transfer.
    method = order.payment_method if not is_online(order.payment_method) else BANK_TRANSFER.key
    payment = Payment(
        order_id=order_id,
        provider=Provider.manual.value,
        method=method,
        status=PaymentStatus.succeeded.value,
        currency=currency,
        amount_authorized=amount,
        amount_captured=amount,
        reference=reference,
        recorded_by=who,
        completed_at=utcnow(),
        idempotency_key=key,
        request_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        if key is None or digest is None:
            raise
        winner = _manual_replay(session, order_id, key, digest)
        if winner is None:
            raise
        return winner, False
    _money_received(session, order, payment, actor=who)
    return payment, True


def _collected_on_delivery(order: Order) -> bool:
    """Cash on delivery shipped before payment: the courier's cash is recorded after shipping."""
    return ships_before_payment(order.payment_method) and order.status == OrderStatus.shipped


def manual_request_hash(amount: int, currency: str, reference: str) -> str:
    """What a retry under the same key must repeat: the amount, currency and reference."""
    return hashlib.sha256(
        json.dumps([amount, currency, reference], ensure_ascii=False).encode()
    ).hexdigest()


def _manual_replay(session: Session, order_id: int, key: str, digest: str) -> Payment | None:
    """The payment already recorded on this order under `key`; 409 if its body was another."""
    payment = session.scalars(
        select(Payment)
        .where(col(Payment.order_id) == order_id, col(Payment.idempotency_key) == key)
        .execution_options(populate_existing=True)
    ).first()
    if payment is None:
        return None
    if payment.request_hash != digest:
        raise IdempotencyKeyReused()
    return payment


def start_stripe_attempt(
    session: Session, *, order_id: int, gateway: StripeGateway, actor: str
) -> Payment:
    """A new PaymentIntent for what is still due (a declined card leaves the order payable)."""
    order = get_order(session, order_id, for_update=True)
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(order_id, order.status, "paid")
    payments = payments_of(session, order_id)
    due = outstanding(order, payments)
    if due == 0:
        raise PaymentRefused(f"Order {order_id} is already paid in full.")
    payment = Payment(
        order_id=order_id,
        provider=Provider.stripe.value,
        # The buyer picks among several methods on Stripe's side; name it only when it is one.
        method=(
            gateway.payment_method_types[0]
            if len(gateway.payment_method_types) == 1
            else Provider.stripe.value
        ),
        currency=order.currency,
        recorded_by=actor,
    )
    session.add(payment)
    session.flush()
    intent = gateway.create_payment_intent(
        amount=due, currency=order.currency, order_id=order_id, payment_id=payment.id or 0
    )
    payment.payment_intent_id = intent.id
    payment.client_secret = intent.client_secret
    session.add(payment)
    session.flush()
    return payment


def complete_stripe_payment(
    session: Session, *, intent: IntentView, gateway: StripeGateway, actor: str
) -> Payment | None:
    """Apply a freshly fetched PaymentIntent to its attempt, once. None when it is not ours."""
    payment = session.scalars(
        select(Payment).where(col(Payment.payment_intent_id) == intent.id)
    ).first()
    if payment is None:
        return None
    order = get_order(session, payment.order_id, for_update=True)
    payment = session.scalars(
        select(Payment)
        .where(col(Payment.id) == payment.id)
        .execution_options(populate_existing=True)
    ).one()
    if payment.status == PaymentStatus.succeeded:
        return payment  # the other path got here first
    if intent.status == "succeeded":
        payment.status = PaymentStatus.succeeded.value
        payment.amount_authorized = intent.amount
        payment.amount_captured = intent.amount_received
        payment.failure_message = None
        payment.completed_at = utcnow()
        session.add(payment)
        session.flush()
        _money_received(session, order, payment, actor=actor, gateway=gateway)
        fee = gateway.processing_fee(intent.id)
        if fee:  # the emulator's fee is 0; a fee it cannot tell is posted by no one (logged)
            post_processing_fee(
                session,
                payment_id=payment.id or 0,
                order_id=order.id or 0,
                provider=payment.provider,
                amount=fee,
                currency=payment.currency,
                created_by=actor,
                on=date.today(),
            )
    elif intent.status == "requires_capture":
        payment.amount_authorized = intent.amount
    elif intent.failure_message:
        payment.status = PaymentStatus.failed.value
        payment.failure_message = intent.failure_message
    session.add(payment)
    session.flush()
    return payment


def _money_received(
    session: Session,
    order: Order,
    payment: Payment,
    *,
    actor: str,
    gateway: StripeGateway | None = None,
) -> None:
    """Post the payment; mark the order paid when covered (or refund it when it came too late)."""
    payment.ledger_entry_id = post_payment(
        session,
        payment_id=payment.id or 0,
        order_id=order.id or 0,
        provider=payment.provider,
        amount=payment.amount_captured,
        currency=payment.currency,
        created_by=actor,
        on=date.today(),
    )
    session.add(payment)
    if outstanding(order, payments_of(session, order.id or 0)) > 0:
        return
    if _collected_on_delivery(order):
        return  # already on its way; delivery settles it
    if order.status == OrderStatus.pending_payment:
        mark_paid(session, order, actor=actor)
    elif order.status == OrderStatus.expired and _sell_again(session, order):
        transition(
            session,
            order,
            OrderStatus.paid,
            actor=actor,
            note="paid after its reservation expired; stock was still there",
        )
    else:
        from orders.refunds import refund_late_payment

        refund_late_payment(session, order=order, actor=actor, gateway=gateway)


def mark_paid(session: Session, order: Order, *, actor: str) -> None:
    lines = lines_of(session, order.id or 0)
    for reservation in reservations_of(session, [line.id or 0 for line in lines]):
        stock.consume(session, reservation)
    order.reserved_until = None
    transition(session, order, OrderStatus.paid, actor=actor)


def _sell_again(session: Session, order: Order) -> bool:
    """Re-take an expired order's stock; all of it or none."""
    lines = lines_of(session, order.id or 0)
    reservations = reservations_of(session, [line.id or 0 for line in lines])
    done: list[LotReservation] = []
    for reservation in sorted(reservations, key=lambda r: r.lot_id):
        if reservation.state != ReservationState.released:
            continue
        if not stock.sell_again(session, reservation):
            for taken in done:
                stock.release(session, taken)
            return False
        done.append(reservation)
    order.reserved_until = None
    return True


def attempt_of_order(session: Session, *, order_id: int, payment_intent_id: str) -> Payment:
    payment = session.scalars(
        select(Payment).where(
            col(Payment.order_id) == order_id, col(Payment.payment_intent_id) == payment_intent_id
        )
    ).first()
    if payment is None:
        raise OrderInvalid(
            f"Order {order_id} has no payment attempt {payment_intent_id!r}.",
            loc=["body", "payment_intent_id"],
        )
    return payment
