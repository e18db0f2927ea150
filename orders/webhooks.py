"""Stripe's webhook: verify the signature, store the event once by id (the inbox), then act on a
freshly fetched PaymentIntent, never on the event's copy of it."""

import json

import stripe
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from ledger.base import utcnow
from orders.errors import BadWebhookSignature
from orders.models import WebhookEvent
from orders.payments import complete_stripe_payment
from orders.stripe_gateway import StripeGateway

HANDLED_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.amount_capturable_updated",
    "payment_intent.processing",
)


def receive_stripe_event(
    session: Session,
    *,
    payload: bytes,
    signature: str | None,
    secret: str | None,
    gateway: StripeGateway,
) -> str:
    """'handled', 'duplicate' or 'ignored'. A bad or missing signature raises (400, nothing stored)."""
    if not secret:
        raise BadWebhookSignature("Stripe webhooks are not configured here (no webhook secret).")
    try:
        event = StripeGateway.verify_event(payload, signature, secret)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadWebhookSignature(f"The Stripe-Signature is missing or wrong: {error}") from None
    if not _insert_once(session, event_id=event.id, type_=event.type, payload=payload):
        stored = session.scalars(
            select(WebhookEvent).where(col(WebhookEvent.event_id) == event.id)
        ).one()
        if stored.handled_at is not None:
            return "duplicate"
    stored = session.scalars(
        select(WebhookEvent)
        .where(col(WebhookEvent.event_id) == event.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if stored.handled_at is not None:
        return "duplicate"
    outcome = "ignored"
    if event.type in HANDLED_TYPES and event.object_id:
        intent = gateway.retrieve_payment_intent(event.object_id)
        if (
            complete_stripe_payment(session, intent=intent, gateway=gateway, actor="stripe")
            is not None
        ):
            outcome = "handled"
    stored.handled_at = utcnow()
    session.add(stored)
    session.flush()
    return outcome


def _insert_once(session: Session, *, event_id: str, type_: str, payload: bytes) -> bool:
    values = {
        "provider": "stripe",
        "event_id": event_id,
        "type": type_,
        "payload": json.dumps(json.loads(payload)),
        "received_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(WebhookEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
    )
    result = session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
