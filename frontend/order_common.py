"""What the order pages share: status and payment-method names, the viewer's order, links back to
it, and money typed in 元 and recorded by hand.

The pages themselves are split by who uses them: order_checkout_pages.py (cart and checkout),
order_pages.py (the buyer's order), order_fulfilment_pages.py (managers' queue) and
order_staff_pages.py (staff confirming manual payments).
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from api.deps import actor_of
from api.models import User
from api.settings import Settings
from frontend.i18n import N_, translator
from frontend.rendering import to_minor
from orders import payments, views
from orders.errors import OrderInvalid
from orders.models import Order
from orders.payment_methods import LABELS

STATUS_NAMES = {
    "pending_payment": N_("Waiting for payment"),
    "paid": N_("Paid"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "settled": N_("Settled: the money has been shared out"),
    "expired": N_("Expired (not paid in time)"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
    "partially_refunded": N_("Partly refunded"),
}
# Each payment method's label msgid, from the registry (orders/payment_methods.py).
METHOD_NAMES = LABELS
# The Stripe payment methods, as settings.stripe_payment_methods names them.
CHANNEL_NAMES = {
    "card": N_("Card"),
    "alipay": N_("Alipay"),
    "wechat_pay": N_("WeChat Pay"),
}
MSG_BAD_AMOUNT = N_("Enter an amount in yuan, e.g. 68 or 68.50.")

TokenQuery = Annotated[str | None, Query(max_length=100)]
TokenForm = Annotated[str | None, Form(max_length=100)]


def order_url(order_id: int | None, *, token: str | None) -> str:
    return f"/orders/{order_id}" + (f"?{urlencode({'token': token})}" if token else "")


def back_to_order(order_id: int, token: str | None) -> RedirectResponse:
    return RedirectResponse(order_url(order_id, token=token), status_code=303)


def viewable_order(
    request: Request, session: Session, settings: Settings, order_id: int, token: str | None
) -> tuple[Order, bool]:
    """The order the page's reader may see, and whether they came with its guest link."""
    return views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor_of(request.state.web_user),
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )


def record_typed_payment(
    request: Request,
    session: Session,
    user: User,
    order: Order,
    amount: str,
    reference: str,
    idempotency_key: str,
) -> None:
    """Money received by hand, typed in 元 on a page (cash on delivery, a transfer staff saw)."""
    minor = to_minor(amount, order.currency)
    if minor is None:
        raise OrderInvalid(translator(request).gettext(MSG_BAD_AMOUNT), loc=["form", "amount"])
    payments.record_manual_payment(
        session,
        order_id=order.id or 0,
        amount=minor,
        currency=order.currency,
        reference=reference.strip(),
        actor=actor_of(user),
        idempotency_key=idempotency_key,
    )
