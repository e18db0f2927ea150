"""Order pages: cart (a cookie), checkout, the order page with its timeline and receipt, my orders,
the managers' fulfilment queue and packing list, and staff payment confirmation and refunds.

Every page works without JavaScript except the optional card page (Stripe.js, only when Stripe
keys are set). Every form carries the CSRF token; forms that create orders or move money also
carry an Idempotency-Key made when the form was shown, so a double submit does it once.
"""

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep, WritesDep, actor_of, client_address
from api.models import User
from api.policies import order_policy
from api.routers.orders import gateway_or_none
from api.settings import Settings
from catalog.models import Cooperative, Product, ProductStatus
from catalog.products import stock_by_product
from core.actor import Actor
from core.errors import DomainError, Forbidden
from frontend.confirmations import ConfirmedForm, confirm_page
from frontend.confirmations import confirmed as is_confirmed
from frontend.csrf import CsrfDep
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import (
    WebUserDep,
    money_formatter,
    page_router,
    render,
    sign_in_redirect,
    to_major,
    to_minor,
)
from governance import feedback
from governance.errors import GovernanceForbidden
from ledger.share_rules import SHARE_PARTS, PartDefinition
from orders import checkout, fulfilment, payments, refunds, views
from orders.access import access_token
from orders.bank_transfer import transfer_account
from orders.errors import OrderInvalid, OrderNeedsSignIn, PaymentProviderError
from orders.lifecycle import get_order, lines_of, payments_of
from orders.models import Order, OrderStatus
from orders.previews import cancellable, deliverable, settlement_preview
from orders.receipts import receipt
from orders.schemas import OrderCreate
from orders.stripe_gateway import StripeGateway

logger = logging.getLogger("hezuo.frontend.orders")

router = page_router()

CART_COOKIE = "hezuo_cart"
CART_MAX_LINES = 50
CART_MAX_QUANTITY = 10_000
_CART_ITEM = re.compile(r"^(\d{1,9})-(\d{1,5})$")

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
METHOD_NAMES = {
    "bank_transfer": N_("Bank transfer"),
    "cash_on_delivery": N_("Cash on delivery"),
    "stripe": N_("Pay online"),
}
# The Stripe payment methods, as settings.stripe_payment_methods names them.
CHANNEL_NAMES = {
    "card": N_("Card"),
    "alipay": N_("Alipay"),
    "wechat_pay": N_("WeChat Pay"),
}
ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "street")
FIELD_NAMES = {
    "recipient": N_("Recipient"),
    "phone": N_("Mobile phone"),
    "province": N_("Province"),
    "city": N_("City"),
    "district": N_("District / county"),
    "street": N_("Street address"),
    "note": N_("Note for the cooperative"),
    "email": N_("Email"),
    "payment_method": N_("Payment"),
}
MSG_CART_EMPTY = N_("Your cart is empty.")
MSG_BAD_AMOUNT = N_("Enter an amount in yuan, e.g. 68 or 68.50.")
MSG_FIELD_INVALID = N_("Please check this field.")
MSG_GUEST_EMAIL = N_("Enter your email so that we can send you the link to your order.")


# Small helpers


def _require_staff(user: User | None) -> None:
    if user is not None and not actor_of(user).reads_all:
        raise Forbidden("This page is for staff.")


def _order_url(order: Order, *, token: str | None) -> str:
    return f"/orders/{order.id}" + (f"?{urlencode({'token': token})}" if token else "")


# The cart: a cookie "12-2.15-1" (product id - quantity); prices are always read afresh.


def read_cart(request: Request) -> dict[int, int]:
    cart: dict[int, int] = {}
    for item in request.cookies.get(CART_COOKIE, "").split(".")[:CART_MAX_LINES]:
        match = _CART_ITEM.fullmatch(item)
        if match:
            product_id, quantity = int(match.group(1)), int(match.group(2))
            if product_id > 0 and 0 < quantity <= CART_MAX_QUANTITY:
                cart[product_id] = quantity
    return cart


def _store_cart(response: Response, cart: Mapping[int, int], settings: Settings) -> None:
    if not cart:
        response.delete_cookie(CART_COOKIE, path="/", httponly=True, samesite="lax")
        return
    value = ".".join(f"{pid}-{qty}" for pid, qty in list(cart.items())[:CART_MAX_LINES])
    response.set_cookie(
        CART_COOKIE,
        value,
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def cart_lines(request: Request, session: Session, cart: Mapping[int, int]) -> list[dict[str, Any]]:
    """The cart's products that are still for sale, with today's price and stock."""
    if not cart:
        return []
    products = {
        p.id: p
        for p in session.scalars(select(Product).where(col(Product.id).in_(list(cart))))
        if p.status == ProductStatus.active
    }
    stock = stock_by_product(session, [pid for pid in products if pid is not None])
    lines = []
    for product_id, quantity in cart.items():
        product = products.get(product_id)
        if product is None:
            continue
        lines.append(
            {
                "product_id": product_id,
                "name": by_locale(request, product.name_zh, product.name_en),
                "unit": product.unit,
                "quantity": quantity,
                "unit_price": product.price_amount,
                "currency": product.currency,
                "total": product.price_amount * quantity,
                "stock": stock.get(product_id, 0),
            }
        )
    return lines


@router.post("/cart/add")
def cart_add(
    request: Request,
    _csrf: CsrfDep,
    session: SessionDep,
    settings: SettingsDep,
    product_id: Annotated[int, Form(gt=0, lt=10**9)],
    quantity: Annotated[int, Form(gt=0, le=CART_MAX_QUANTITY)] = 1,
) -> Response:
    product = session.get(Product, product_id)
    if product is None or product.status != ProductStatus.active:
        raise _not_for_sale(product_id)
    cart = read_cart(request)
    cart[product_id] = min(cart.get(product_id, 0) + quantity, CART_MAX_QUANTITY)
    response = RedirectResponse("/cart", status_code=303)
    _store_cart(response, cart, settings)
    return response


def _not_for_sale(product_id: int) -> DomainError:
    return OrderInvalid(f"Product {product_id} is not for sale.", loc=["form", "product_id"])


@router.post("/cart/update")
def cart_update(
    request: Request,
    _csrf: CsrfDep,
    settings: SettingsDep,
    product_id: Annotated[int, Form(gt=0, lt=10**9)],
    quantity: Annotated[int, Form(ge=0, le=CART_MAX_QUANTITY)],
) -> Response:
    """Set a line's quantity (0 removes it)."""
    cart = read_cart(request)
    if quantity == 0:
        cart.pop(product_id, None)
    elif product_id in cart:
        cart[product_id] = quantity
    response = RedirectResponse("/cart", status_code=303)
    _store_cart(response, cart, settings)
    return response


@router.get("/cart", response_class=HTMLResponse)
def cart_page(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    lines = cart_lines(request, session, read_cart(request))
    return render(request, "orders/cart.html", {"lines": lines, **_cart_totals(lines)})


def _cart_totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    currency = lines[0]["currency"] if lines else "CNY"
    return {"cart_total": sum(line["total"] for line in lines), "currency": currency}


# Checkout


def _checkout_page(
    request: Request,
    session: Session,
    settings: Settings,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    lines = cart_lines(request, session, read_cart(request))
    methods = ["bank_transfer", "cash_on_delivery"] + (
        ["stripe"] if settings.stripe_enabled else []
    )
    context = {
        "lines": lines,
        **_cart_totals(lines),
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "methods": methods,
        "online_channels": settings.stripe_payment_methods,
        "channel_names": CHANNEL_NAMES,
        "method_names": METHOD_NAMES,
        "field_names": FIELD_NAMES,
        "address_fields": ADDRESS_FIELDS,
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
    }
    return render(request, "orders/checkout.html", context, status_code=status_code)


@router.get("/checkout", response_class=HTMLResponse)
def checkout_form(
    request: Request, user: WebUserDep, session: SessionDep, settings: SettingsDep
) -> Response:
    return _checkout_page(request, session, settings, values={"payment_method": "bank_transfer"})


@router.post("/checkout", response_class=HTMLResponse)
async def checkout_submit(
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    form = await request.form()
    fields = (*ADDRESS_FIELDS, "note", "email", "payment_method", "idempotency_key")
    values = {name: str(form.get(name) or "").strip()[:500] for name in fields}
    cart = read_cart(request)
    if not cart:
        return _checkout_page(
            request, session, settings, values=values, problem=MSG_CART_EMPTY, status_code=422
        )
    if user is None and not values["email"]:
        return _checkout_page(
            request,
            session,
            settings,
            values=values,
            errors={"email": MSG_GUEST_EMAIL},
            status_code=422,
        )
    try:
        data = OrderCreate.model_validate(
            {
                "lines": [{"product_id": pid, "quantity": qty} for pid, qty in cart.items()],
                "shipping": {name: values[name] for name in ADDRESS_FIELDS},
                "payment_method": values["payment_method"],
                "email": values["email"] or None,
                "note": values["note"],
            }
        )
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            loc = [str(part) for part in item["loc"]]
            field = loc[-1] if loc[-1] in FIELD_NAMES else loc[0]
            errors[field if field in FIELD_NAMES else "payment_method"] = MSG_FIELD_INVALID
        return _checkout_page(
            request, session, settings, values=values, errors=errors, status_code=422
        )
    actor = actor_of(user)
    gateway = gateway_or_none(request, settings)
    try:
        order, created = checkout.place_order(
            session,
            data=data,
            actor=actor,
            idempotency_key=values["idempotency_key"] or None,
            policy=order_policy(settings),
            stripe_enabled=gateway is not None,
            language=translator(request).locale,
            client_address=client_address(request),
        )
    except DomainError as error:
        session.rollback()  # nothing half stored: this answer is a page, not an exception
        return _checkout_page(
            request,
            session,
            settings,
            values=values,
            problem=problem_message(request, error),
            status_code=error.status_code,
        )
    if created and order.payment_method == "stripe" and gateway is not None:
        # The order and its stock are committed before Stripe is asked, so no lot stays locked
        # while Stripe answers; if it fails, the pay page asks again.
        session.commit()
        _start_stripe_attempt(session, order.id or 0, gateway, actor_of(user))
    token = access_token(order, settings.secret_key) if user is None else None
    target = _order_url(order, token=token)
    if order.payment_method == "stripe" and order.status == OrderStatus.pending_payment:
        target = f"/orders/{order.id}/pay" + (f"?{urlencode({'token': token})}" if token else "")
    response = RedirectResponse(target, status_code=303)
    _store_cart(response, {}, settings)
    return response


# The order page


def _order_context(
    request: Request, session: Session, settings: Settings, order: Order, *, token_ok: bool
) -> dict[str, Any]:
    user: User | None = request.state.web_user
    actor = actor_of(user)
    body = views.order_read(session, order, secret_key=settings.secret_key, with_token=token_ok)
    coops = {
        c.id: c
        for c in session.scalars(
            select(Cooperative).where(
                col(Cooperative.id).in_({line.coop_id for line in body.lines})
            )
        )
    }
    is_buyer = token_ok or (actor.user_id is not None and order.buyer_user_id == actor.user_id)
    shipped_any = any(line.shipped for line in body.lines)
    refundable = refunds.refundable(payments_of(session, order.id or 0))
    return {
        "order": body,
        "token": body.access_token,
        "coops": {cid: by_locale(request, c.name_zh, c.name_en) for cid, c in coops.items()},
        "receipt_rows": _receipt_rows(request, session, order),
        "status_names": STATUS_NAMES,
        "method_names": METHOD_NAMES,
        "is_buyer": is_buyer,
        "can_cancel": is_buyer
        and not shipped_any
        and order.status in ("pending_payment", "paid", "partially_refunded"),
        "can_confirm": is_buyer
        and body.payment["amount_due"]["amount"] == 0
        and (
            order.status == "shipped"
            or (
                order.status == "partially_refunded" and order.shipped_at and not order.delivered_at
            )
        ),
        "can_pay_card": is_buyer
        and order.payment_method == "stripe"
        and order.status == "pending_payment"
        and settings.stripe_enabled,
        "is_staff": actor.is_staff,
        "transfer_to": transfer_account(session, order, marketplace=settings.bank_transfer_to),
        "rateable": feedback.rateable_line_ids(session, order, actor.user_id),
        "refundable": refundable,
        "refundable_major": to_major(refundable, order.currency),
        "idempotency_key": uuid.uuid4().hex,
    }


def _receipt_rows(request: Request, session: Session, order: Order) -> dict[str, Any]:
    """The posted split as people read it: households, each fund, the enterprise, fees, escrow."""
    made = receipt(session, order)
    coop_names: dict[str, str] = {}
    rows = []
    gettext = translator(request).gettext
    for part in made.split:
        kind, _, rest = part.party.partition(":")
        if kind == "household":
            # receipts.py labels a household by name only when it consented to be named.
            named = part.label != f"Member household {rest}"
            label = part.label if named else gettext("Member household %(code)s", code=rest)
        elif (share_part := _receipt_share_part(kind, rest)) is not None:
            coop_id = rest.partition(":")[2] if share_part.per_coop else ""
            if coop_id not in coop_names:
                coop = session.get(Cooperative, int(coop_id)) if coop_id.isdigit() else None
                coop_names[coop_id] = by_locale(request, coop.name_zh, coop.name_en) if coop else ""
            label = gettext(share_part.receipt_label, coop=coop_names[coop_id])
        elif kind == "fees":
            label = gettext("Payment processing fees")
        elif kind == "escrow":
            label = gettext("Held safely until you receive the goods")
        else:
            label = part.label
        rows.append({"party": part.party, "label": label, "amount": part.amount})
    return {
        "rows": rows,
        "paid": made.paid.amount,
        "total": sum(row["amount"] for row in rows),
        "currency": made.paid.currency,
    }


def _receipt_share_part(kind: str, rest: str) -> PartDefinition | None:
    """The share part a receipt party names: `fund:{fund}:{coop}` or a part's key (orders.receipts)."""
    for part in SHARE_PARTS:
        if part.per_coop and kind == "fund" and rest.partition(":")[0] == part.fund:
            return part
        if not part.per_coop and not part.per_household and kind == part.key:
            return part
    return None


def viewable_order(
    request: Request, session: Session, settings: Settings, order_id: int, token: str | None
) -> tuple[Order, bool]:
    return views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor_of(request.state.web_user),
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )


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
        return sign_in_redirect(request)
    context = _order_context(request, session, settings, order, token_ok=token_ok)
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


TokenQuery = Annotated[str | None, Query(max_length=100)]
TokenForm = Annotated[str | None, Form(max_length=100)]


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


def _start_stripe_attempt(
    session: Session, order_id: int, gateway: StripeGateway, actor: Actor
) -> None:
    """Ask Stripe for the order's PaymentIntent in a transaction of its own; a failure is logged
    and leaves the order payable (the pay page asks again)."""
    try:
        payments.start_stripe_attempt(
            session, order_id=order_id, gateway=gateway, actor=checkout.actor_label(actor)
        )
        session.commit()
    except PaymentProviderError:
        session.rollback()
        logger.warning("no PaymentIntent for order %s yet", order_id, exc_info=True)


def _after_action(
    request: Request,
    session: Session,
    settings: Settings,
    order_id: int,
    token: str | None,
    error: DomainError,
) -> Response:
    """A refused action: nothing kept, the order page again with the reason."""
    session.rollback()
    if isinstance(error, OrderNeedsSignIn):
        return sign_in_redirect(request)
    return _order_page(
        request,
        session,
        settings,
        order_id,
        token,
        problem=problem_message(request, error),
        status_code=error.status_code,
    )


def _back_to_order(order_id: int, token: str | None) -> RedirectResponse:
    suffix = f"?{urlencode({'token': token})}" if token else ""
    return RedirectResponse(f"/orders/{order_id}{suffix}", status_code=303)


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
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
        if not is_confirmed(confirmed) and cancellable(session, order):
            return _confirm_cancel(request, session, order, token)
        refunds.cancel_order(
            session,
            order_id=order_id,
            actor=actor_of(user),
            token_ok=token_ok,
            gateway=gateway_or_none(request, settings),
        )
    except DomainError as error:
        return _after_action(request, session, settings, order_id, token, error)
    return _back_to_order(order_id, token)


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
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
        if not is_confirmed(confirmed) and deliverable(session, order):
            return _confirm_delivery(request, session, order, token)
        fulfilment.deliver(session, order_id=order_id, actor=actor_of(user), token_ok=token_ok)
    except DomainError as error:
        return _after_action(request, session, settings, order_id, token, error)
    return _back_to_order(order_id, token)


@router.post("/orders/{order_id}/refund")
def order_refund(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reason: Annotated[str, Form(max_length=500)] = "",
    reference: Annotated[str, Form(max_length=100)] = "",
    confirmed: ConfirmedForm = "",
) -> Response:
    """Staff refund (full or partial, spread over the lines) from the order page."""
    if user is None:
        return sign_in_redirect(request)
    _require_staff(user)
    order = get_order(session, order_id)
    minor = to_minor(amount, order.currency)
    if minor is None:
        return _order_page(
            request,
            session,
            settings,
            order_id,
            None,
            problem=translator(request).gettext(MSG_BAD_AMOUNT),
            status_code=422,
        )
    if not is_confirmed(confirmed) and minor <= refunds.refundable(payments_of(session, order_id)):
        return _confirm_refund(
            request,
            session,
            order,
            amount=minor,
            fields={
                "amount": amount,
                "idempotency_key": idempotency_key,
                "reason": reason,
                "reference": reference,
            },
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
            actor=actor_of(user),
            gateway=gateway_or_none(request, settings),
        )
    except DomainError as error:
        return _after_action(request, session, settings, order_id, None, error)
    return _back_to_order(order_id, None)


# Confirmation steps: what the irreversible action does with the money, before it is done


def _confirm_delivery(
    request: Request, session: Session, order: Order, token: str | None
) -> Response:
    gettext = translator(request).gettext
    money = money_formatter(translator(request))
    preview = settlement_preview(session, order)
    consequences = [
        gettext("You confirm that the goods of order %(number)s arrived.", number=order.id),
        gettext(
            "The %(total)s held for this order is then shared out at once:",
            total=money(preview.total, order.currency),
        ),
    ]
    for part in SHARE_PARTS:
        if preview.parts[part.key]:
            share = money(preview.parts[part.key], order.currency)
            consequences.append(f"· {gettext(part.description)}: {share}")
    consequences.append(
        gettext("After that, a refund needs staff to take the shares back. Check the goods first.")
    )
    return confirm_page(
        request,
        title=gettext("I received the goods"),
        consequences=consequences,
        action=f"/orders/{order.id}/deliver",
        fields={"token": token},
        button=gettext("Yes, I received them: share out the money"),
        back=_order_url(order, token=token),
    )


def _confirm_cancel(
    request: Request, session: Session, order: Order, token: str | None
) -> Response:
    gettext = translator(request).gettext
    money = money_formatter(translator(request))
    back_amount = refunds.refundable(payments_of(session, order.id or 0))
    consequences = [
        gettext("Order %(number)s is cancelled and its goods go back on sale.", number=order.id)
    ]
    if back_amount:
        consequences.append(
            gettext(
                "The %(amount)s you paid is refunded: a card payment goes back to the card; "
                "for a bank transfer, staff send the money back to you.",
                amount=money(back_amount, order.currency),
            )
        )
    else:
        consequences.append(gettext("Nothing has been paid, so no money moves."))
    return confirm_page(
        request,
        title=gettext("Cancel the order"),
        consequences=consequences,
        action=f"/orders/{order.id}/cancel",
        fields={"token": token},
        button=gettext("Yes, cancel the order"),
        back=_order_url(order, token=token),
    )


def _confirm_refund(
    request: Request,
    session: Session,
    order: Order,
    *,
    amount: int,
    fields: dict[str, str | None],
) -> Response:
    gettext = translator(request).gettext
    money = money_formatter(translator(request))
    still = refunds.refundable(payments_of(session, order.id or 0))
    consequences = [
        gettext(
            "%(amount)s of order %(number)s goes back to the buyer (%(left)s can still be "
            "refunded).",
            amount=money(amount, order.currency),
            number=order.id,
            left=money(still, order.currency),
        ),
        gettext(
            "A card payment is refunded through the card provider; for a bank transfer or cash, "
            "send the money yourself and give its bank reference."
        ),
    ]
    if order.settlement_entry_id is not None:
        consequences.append(
            gettext(
                "The order is already settled: the households', funds' and enterprise's shares "
                "are taken back in proportion."
            )
        )
    return confirm_page(
        request,
        title=gettext("Refund"),
        consequences=consequences,
        action=f"/orders/{order.id}/refund",
        fields=fields,
        button=gettext("Yes, refund %(amount)s", amount=money(amount, order.currency)),
        back=f"/orders/{order.id}",
    )


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
        return sign_in_redirect(request, f"/orders/{order_id}")
    if user.role != "buyer":
        raise GovernanceForbidden("Only buyers rate what they bought.")
    try:
        if not stars.isdigit() or not 1 <= int(stars) <= 5:
            problem = translator(request).gettext(MSG_STARS)
            return order_page_with_problem(request, session, settings, order_id, problem, 422)
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
        session.rollback()
        return order_page_with_problem(
            request, session, settings, order_id, problem_message(request, error), error.status_code
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
        return sign_in_redirect(request)
    context = _order_context(request, session, settings, order, token_ok=token_ok)
    if not context["can_pay_card"] or not settings.stripe_publishable_key:
        return _back_to_order(order_id, token)
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
            return _after_action(request, session, settings, order_id, token, error)
        context = _order_context(request, session, settings, order, token_ok=token_ok)
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
        return _after_action(request, session, settings, order_id, token, error)
    return _back_to_order(order_id, token)


# My orders


@router.get("/me/orders", response_class=HTMLResponse)
def my_orders(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    if user is None:
        return sign_in_redirect(request)
    orders = views.buyer_orders(session, user_id=user.id or 0)
    rows = [{"order": o, "lines": lines_of(session, o.id or 0)} for o in orders]
    return render(request, "orders/mine.html", {"rows": rows, "status_names": STATUS_NAMES})


# Fulfilment (managers for their cooperative; staff name one)


def _fulfilment_coop(user: User, coop_id: int | None) -> int | None:
    if user.role == "manager":
        if coop_id is not None and coop_id != user.coop_id:
            raise Forbidden("You may only see your own cooperative's orders.")
        return user.coop_id
    if actor_of(user).reads_all:
        return coop_id
    raise Forbidden("This page is for cooperative managers and staff.")


def _queue_context(
    request: Request, session: Session, user: User, coop_id: int | None
) -> dict[str, Any]:
    coop = _fulfilment_coop(user, coop_id)
    coops = list(session.scalars(select(Cooperative).order_by(col(Cooperative.id))))
    queue = (
        fulfilment.fulfilment_queue(session, coop_id=coop, actor=actor_of(user))
        if coop is not None
        else []
    )
    cash = (
        [
            {
                "order": order,
                "due": due,
                "due_major": to_major(due, order.currency),
                "idempotency_key": uuid.uuid4().hex,
            }
            for order, due in fulfilment.cash_to_record(session, coop_id=coop, actor=actor_of(user))
        ]
        if coop is not None
        else []
    )
    names = {c.id: by_locale(request, c.name_zh, c.name_en) for c in coops}
    return {
        "queue": queue,
        "cash": cash,
        "coop_id": coop,
        "coop_names": names,
        "coops": coops,
        "method_names": METHOD_NAMES,
    }


@router.get("/manage/fulfilment", response_class=HTMLResponse)
def fulfilment_page(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query(gt=0)] = None,
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    context = _queue_context(request, session, user, coop_id)
    return render(request, "orders/fulfilment.html", {**context, "problem": None})


@router.get("/manage/fulfilment/packing-list", response_class=HTMLResponse)
def packing_list(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query(gt=0)] = None,
    order_id: Annotated[int | None, Query(gt=0)] = None,
) -> Response:
    """Printable: one sheet per order still to ship (or just `order_id`'s)."""
    if user is None:
        return sign_in_redirect(request)
    context = _queue_context(request, session, user, coop_id)
    if order_id is not None:
        context["queue"] = [(o, lines) for o, lines in context["queue"] if o.id == order_id]
    return render(request, "orders/packing_list.html", context)


@router.post("/manage/fulfilment/{order_id}/ship", response_class=HTMLResponse)
def ship_submit(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    carrier: Annotated[str, Form(max_length=50)] = "",
    tracking_number: Annotated[str, Form(max_length=60)] = "",
    coop_id: Annotated[int | None, Form(gt=0)] = None,
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    coop = _fulfilment_coop(user, coop_id)
    try:
        if not carrier.strip() or not tracking_number.strip():
            raise OrderInvalid(
                translator(request).gettext("Enter the carrier and the tracking number."),
                loc=["form", "tracking_number"],
            )
        fulfilment.ship_lines(
            session,
            order_id=order_id,
            actor=actor_of(user),
            carrier=carrier.strip(),
            tracking_number=tracking_number.strip(),
            coop_id=coop,
        )
    except DomainError as error:
        session.rollback()
        context = _queue_context(request, session, user, coop)
        context["problem"] = problem_message(request, error)
        return render(request, "orders/fulfilment.html", context, status_code=error.status_code)
    suffix = f"?coop_id={coop}" if user.role != "manager" and coop else ""
    return RedirectResponse(f"/manage/fulfilment{suffix}", status_code=303)


def _record_typed_payment(
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


@router.post("/manage/fulfilment/{order_id}/cash", response_class=HTMLResponse)
def cash_submit(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reference: Annotated[str, Form(max_length=100)] = "",
    coop_id: Annotated[int | None, Form(gt=0)] = None,
) -> Response:
    """The cash the courier collected on delivery, recorded by the manager (or staff)."""
    if user is None:
        return sign_in_redirect(request)
    coop = _fulfilment_coop(user, coop_id)
    order = get_order(session, order_id)
    try:
        _record_typed_payment(request, session, user, order, amount, reference, idempotency_key)
    except DomainError as error:
        session.rollback()
        context = _queue_context(request, session, user, coop)
        context["problem"] = problem_message(request, error)
        return render(request, "orders/fulfilment.html", context, status_code=error.status_code)
    suffix = f"?coop_id={coop}" if user.role != "manager" and coop else ""
    return RedirectResponse(f"/manage/fulfilment{suffix}#cash", status_code=303)


# Staff: confirm manual payments


def _payments_context(session: Session, q: str) -> dict[str, Any]:
    waiting = views.awaiting_manual_payment(session, search=q)
    rows = []
    for order in waiting:
        due = payments.outstanding(order, payments_of(session, order.id or 0))
        rows.append(
            {
                "order": order,
                "due": due,
                "due_major": to_major(due, order.currency),
                "idempotency_key": uuid.uuid4().hex,
            }
        )
    return {
        "rows": rows,
        "q": q,
        "flagged": views.flagged_orders(session),
        "status_names": STATUS_NAMES,
        "method_names": METHOD_NAMES,
        "problem": None,
    }


@router.get("/staff/payments", response_class=HTMLResponse)
def staff_payments(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    _require_staff(user)
    return render(request, "orders/staff_payments.html", _payments_context(session, q))


@router.post("/staff/payments/{order_id}", response_class=HTMLResponse)
def staff_record_payment(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reference: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    _require_staff(user)
    order = get_order(session, order_id)
    try:
        _record_typed_payment(request, session, user, order, amount, reference, idempotency_key)
    except DomainError as error:
        session.rollback()
        context = _payments_context(session, "")
        context["problem"] = problem_message(request, error)
        return render(request, "orders/staff_payments.html", context, status_code=error.status_code)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


def install_order_pages(app: FastAPI) -> None:
    app.include_router(router)
