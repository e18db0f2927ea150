"""Place an order, commit it, then ask Stripe: the one flow the API and the checkout page both call.

The order and its stock are committed before Stripe is asked, so no lot stays locked while Stripe
answers. If Stripe fails, the order stays payable without a PaymentIntent yet (the API's
POST .../payments/stripe and the pay page ask again); the failure is logged, never raised.
"""

import logging

from sqlmodel import Session

from core.actor import Actor
from orders import checkout, payments
from orders.config import OrderPolicy
from orders.errors import PaymentProviderError
from orders.models import Order
from orders.payment_methods import is_online
from orders.schemas import OrderCreate
from orders.stripe_gateway import StripeGateway

logger = logging.getLogger("hezuo.orders.placing")


def place_and_start_payment(
    session: Session,
    *,
    data: OrderCreate,
    actor: Actor,
    idempotency_key: str | None,
    policy: OrderPolicy,
    gateway: StripeGateway | None,
    language: str | None = None,
    client_address: str | None = None,
) -> tuple[Order, bool]:
    """The order (new, or the original for a replayed key) and whether it was created now; a new
    online order is committed and its first PaymentIntent asked for in a transaction of its own."""
    order, created = checkout.place_order(
        session,
        data=data,
        actor=actor,
        idempotency_key=idempotency_key,
        policy=policy,
        stripe_enabled=gateway is not None,
        language=language,
        client_address=client_address,
    )
    if created and gateway is not None and is_online(order.payment_method):
        session.commit()
        _ask_stripe(session, order, gateway, actor)
    return order, created


def _ask_stripe(session: Session, order: Order, gateway: StripeGateway, actor: Actor) -> None:
    order_id = order.id or 0
    try:
        payments.start_stripe_attempt(
            session, order_id=order_id, gateway=gateway, actor=checkout.actor_label(actor)
        )
        session.commit()
    except PaymentProviderError:
        session.rollback()
        logger.warning("no PaymentIntent for order %s yet", order_id, exc_info=True)
