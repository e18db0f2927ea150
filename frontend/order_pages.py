"""The buyer's order pages: the order with its timeline and receipt, cancelling it, confirming
delivery, a staff refund from it, rating what arrived, paying by card, and "my orders".

Every page works without JavaScript except the optional card page (Stripe.js, only when Stripe
keys are set). Every form carries the CSRF token; the refund form also carries an
Idempotency-Key made when the form was shown, so a double submit refunds once. Irreversible
actions ask first (frontend/order_confirmations.py).
"""

from collections.abc import Callable
from typing import Annotated, NoReturn
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep, WritesDep, actor_of
from api.gateways import gateway_or_none
from api.settings import Settings
from core.errors import DomainError
from frontend import order_confirmations
from frontend.confirmations import ConfirmedForm
from frontend.confirmations import confirmed as is_confirmed
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import SignedInDep, StaffPageDep, require_sign_in
from frontend.i18n import N_, translator
from frontend.order_common import (
    CHANNEL_NAMES,
    MSG_BAD_AMOUNT,
    STATUS_NAMES,
    TokenForm,
    TokenQuery,
    back_to_order,
    order_url,
    viewable_order,
)
from frontend.order_context import order_context
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, render, to_minor
from governance import feedback
from governance.errors import GovernanceForbidden
from orders import checkout, fulfilment, payments, refunds, views
from orders.errors import OrderNeedsSignIn
from orders.lifecycle import get_order, lines_of, payments_of
from orders.models import Order
from orders.previews import cancellable, deliverable
from orders.stripe_gateway import StripeGateway

__all__ = ["viewable_order"]  # frontend/refund_request_pages.py reads orders through it

router = page_router()


# The order page


def _order_page(
    request: Request,
    session: Session,
    settings: Settings,
    order_id: int,
    token: str | None,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
    except OrderNeedsSignIn:
        require_sign_in(request)
    context = order_context(request, session, settings, order, token_ok=token_ok)
    context["problem"] = problem
    return render(request, "orders/order.html", context, status_code=status_code)


def order_page_with_problem(
    request: Request,
    session: Session,
    settings: Settings,
    order_id: int,
    problem: str,
    status_code: int,
) -> Response:
    """The (signed-in reader's) order page again, leading with a refusal."""
    return _order_page(
        request, session, settings, order_id, None, problem=problem, status_code=status_code
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    order_id: int,
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
) -> Response:
    return _order_page(request, session, settings, order_id, token)


def _after_action(
    request: Request,
    session: Session,
    settings: Settings,
    order_id: int,
    token: str | None,
    error: DomainError,
) -> NoReturn:
    """A refused action: nothing kept (refuse), the order page again with the reason; a visitor
    whose link does not open the order is sent to sign in."""
    if isinstance(error, OrderNeedsSignIn):
        require_sign_in(request, order_url(order_id, token=None))
    problem, status_code = problem_message(request, error), error.status_code
    refuse(
        lambda: _order_page(
            request, session, settings, order_id, token, problem=problem, status_code=status_code
        )
    )


# The buyer's irreversible actions: asked first (when they would do something), then done.

Act = Callable[[Order, bool], object]  # (the order, came with its guest link)
Asks = Callable[[Session, Order], bool]  # whether the action would do something to confirm


def _buyer_action(
    request: Request,
    session: Session,
    settings: Settings,
    order_id: int,
    token: str | None,
    confirmed: str,
    step: order_confirmations.Step,
    asks: Asks,
    act: Act,
) -> Response:
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
        if not is_confirmed(confirmed) and asks(session, order):
            return order_confirmations.confirm(
                request,
                session,
                order,
                step,
                fields={"token": token},
                back=order_url(order.id, token=token),
            )
        act(order, token_ok)
    except DomainError as error:
        _after_action(request, session, settings, order_id, token, error)
    return back_to_order(order_id, token)


@router.post("/orders/{order_id}/cancel")
def order_cancel(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenForm = None,
    confirmed: ConfirmedForm = "",
) -> Response:
    def cancel(order: Order, token_ok: bool) -> object:
        return refunds.cancel_order(
            session,
            order_id=order_id,
            actor=actor_of(user),
            token_ok=token_ok,
            gateway=gateway_or_none(request, settings),
        )

    step = order_confirmations.CANCELLATION
    return _buyer_action(
        request, session, settings, order_id, token, confirmed, step, cancellable, cancel
    )


@router.post("/orders/{order_id}/deliver")
def order_deliver(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenForm = None,
    confirmed: ConfirmedForm = "",
) -> Response:
    def deliver(order: Order, token_ok: bool) -> object:
        return fulfilment.deliver(
            session, order_id=order_id, actor=actor_of(user), token_ok=token_ok
        )

    step = order_confirmations.DELIVERY
    return _buyer_action(
        request, session, settings, order_id, token, confirmed, step, deliverable, deliver
    )


@router.post("/orders/{order_id}/refund")
def order_refund(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    staff: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reason: Annotated[str, Form(max_length=500)] = "",
    reference: Annotated[str, Form(max_length=100)] = "",
    confirmed: ConfirmedForm = "",
) -> Response:
    """Staff refund (full or partial, spread over the lines) from the order page."""
    order = get_order(session, order_id)
    minor = to_minor(amount, order.currency)
    if minor is None:
        problem = translator(request).gettext(MSG_BAD_AMOUNT)
        refuse(lambda: order_page_with_problem(request, session, settings, order_id, problem, 422))
    if not is_confirmed(confirmed) and minor <= refunds.refundable(payments_of(session, order_id)):
        fields: dict[str, str | None] = {
            "amount": amount,
            "idempotency_key": idempotency_key,
            "reason": reason,
            "reference": reference,
        }
        return order_confirmations.confirm(
            request,
            session,
            order,
            order_confirmations.REFUND,
            fields=fields,
            back=f"/orders/{order.id}",
            amount=minor,
        )
    try:
        refunds.refund_order(
            session,
            order_id=order_id,
            amount=minor,
            currency=order.currency,
            reason=reason.strip(),
            reference=reference.strip(),
            lines=None,
            idempotency_key=idempotency_key,
            actor=actor_of(staff),
            gateway=gateway_or_none(request, settings),
        )
    except DomainError as error:
        _after_action(request, session, settings, order_id, None, error)
    return back_to_order(order_id, None)


# A buyer rates what they bought, once it has arrived (the API's rules: only the order's own
# buyer, a delivered order, each line once, 1 to 5 stars).

MSG_STARS = N_("Choose from 1 to 5 stars.")


@router.post("/orders/{order_id}/lines/{line_id}/rating")
def rate_submit(
    order_id: int,
    line_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    stars: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if user is None:
        require_sign_in(request, f"/orders/{order_id}")
    if user.role != "buyer":
        raise GovernanceForbidden("Only buyers rate what they bought.")
    try:
        if not stars.isdigit() or not 1 <= int(stars) <= 5:
            problem = translator(request).gettext(MSG_STARS)
            refuse(
                lambda: order_page_with_problem(request, session, settings, order_id, problem, 422)
            )
        feedback.rate_line(
            session,
            actor=actor_of(user),
            order_id=order_id,
            line_id=line_id,
            stars=int(stars),
            comment=comment,
        )
    except DomainError as error:
        if isinstance(error, GovernanceForbidden):
            raise
        problem, status_code = problem_message(request, error), error.status_code
        refuse(
            lambda: order_page_with_problem(
                request, session, settings, order_id, problem, status_code
            )
        )
    return RedirectResponse(f"/orders/{order_id}#rate", status_code=303)


# Card payment (only when Stripe is configured)

STRIPE_CSP = (
    "default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; "
    "connect-src 'self' https://api.stripe.com; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


@router.get("/orders/{order_id}/pay", response_class=HTMLResponse, dependencies=[WritesDep])
def card_page(
    order_id: int,
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
) -> Response:
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
    except OrderNeedsSignIn:
        require_sign_in(request)
    context = order_context(request, session, settings, order, token_ok=token_ok)
    if not context["can_pay_card"] or not settings.stripe_publishable_key:
        return back_to_order(order_id, token)
    if not context["order"].payment.get("client_secret"):
        # No attempt waiting (a declined card, or Stripe did not answer at checkout): a new one.
        gateway = gateway_or_none(request, settings)
        assert gateway is not None  # can_pay_card needs Stripe configured
        try:
            payments.start_stripe_attempt(
                session,
                order_id=order_id,
                gateway=gateway,
                actor=checkout.actor_label(actor_of(user)),
            )
        except DomainError as error:
            _after_action(request, session, settings, order_id, token, error)
        context = order_context(request, session, settings, order, token_ok=token_ok)
    return_query = urlencode({"token": token}) if token else ""
    context.update(
        {
            "publishable_key": settings.stripe_publishable_key,
            "online_channels": settings.stripe_payment_methods,
            "channel_names": CHANNEL_NAMES,
            "client_secret": context["order"].payment.get("client_secret") or "",
            "return_url": str(request.base_url).rstrip("/")
            + f"/orders/{order_id}/pay/return"
            + (f"?{return_query}" if return_query else ""),
            "problem": None,
        }
    )
    return render(
        request, "orders/pay.html", context, headers={"Content-Security-Policy": STRIPE_CSP}
    )


@router.get("/orders/{order_id}/pay/return", dependencies=[WritesDep])
def card_return(
    order_id: int,
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    payment_intent: Annotated[str, Query(min_length=3, max_length=100)],
    token: TokenQuery = None,
) -> Response:
    """Stripe sends the browser back here; the same idempotent completion as the webhook."""
    gateway: StripeGateway | None = gateway_or_none(request, settings)
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
        if gateway is not None:
            attempt = payments.attempt_of_order(
                session, order_id=order_id, payment_intent_id=payment_intent
            )
            intent = gateway.retrieve_payment_intent(attempt.payment_intent_id or "")
            payments.complete_stripe_payment(
                session, intent=intent, gateway=gateway, actor=checkout.actor_label(actor_of(user))
            )
    except DomainError as error:
        _after_action(request, session, settings, order_id, token, error)
    return back_to_order(order_id, token)


# My orders


@router.get("/me/orders", response_class=HTMLResponse)
def my_orders(request: Request, user: SignedInDep, session: SessionDep) -> Response:
    orders = views.buyer_orders(session, user_id=user.id or 0)
    rows = [{"order": o, "lines": lines_of(session, o.id or 0)} for o in orders]
    return render(request, "orders/mine.html", {"rows": rows, "status_names": STATUS_NAMES})


def install_order_pages(app: FastAPI) -> None:
    app.include_router(router)
