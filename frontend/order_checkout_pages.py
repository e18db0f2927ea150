"""Cart and checkout pages: the cart (a cookie), the checkout form, and placing the order.

Prices and stock are always read afresh; the checkout form carries an Idempotency-Key made when
it was shown, so a double submit places one order. Placing goes through orders.placing, the
same flow as the API: the order is committed before Stripe is asked for a payment.
"""

import re
import uuid
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep, actor_of, client_address
from api.gateways import gateway_or_none
from api.policies import order_policy
from api.settings import Settings
from catalog.models import Product, ProductStatus
from catalog.products import stock_by_product
from core.errors import DomainError
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.i18n import N_, by_locale, translator
from frontend.order_common import CHANNEL_NAMES, METHOD_NAMES, order_url
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, render
from orders.access import access_token
from orders.errors import OrderInvalid
from orders.models import OrderStatus
from orders.payment_methods import METHODS, is_online, offered
from orders.placing import place_and_start_payment
from orders.schemas import OrderCreate

router = page_router()

CART_COOKIE = "hezuo_cart"
CART_MAX_LINES = 50
CART_MAX_QUANTITY = 10_000
_CART_ITEM = re.compile(r"^(\d{1,9})-(\d{1,5})$")

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
MSG_FIELD_INVALID = N_("Please check this field.")
MSG_GUEST_EMAIL = N_("Enter your email so that we can send you the link to your order.")


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
    context = {
        "lines": lines,
        **_cart_totals(lines),
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "methods": offered(online_enabled=settings.stripe_enabled),
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
    return _checkout_page(request, session, settings, values={"payment_method": METHODS[0].key})


class _Refused(Exception):
    """The checkout form comes back: field errors or one problem, and the status to answer."""

    def __init__(
        self, status_code: int, *, errors: dict[str, str] | None = None, problem: str | None = None
    ) -> None:
        super().__init__(problem or "")
        self.status_code, self.errors, self.problem = status_code, errors, problem


def _order_data(values: Mapping[str, str], cart: Mapping[int, int], signed_in: bool) -> OrderCreate:
    """The API's order shape from the form (raises _Refused for what the form must show again)."""
    if not cart:
        raise _Refused(422, problem=MSG_CART_EMPTY)
    if not signed_in and not values["email"]:
        raise _Refused(422, errors={"email": MSG_GUEST_EMAIL})
    try:
        return OrderCreate.model_validate(
            {
                "lines": [{"product_id": pid, "quantity": qty} for pid, qty in cart.items()],
                "shipping": {name: values[name] for name in ADDRESS_FIELDS},
                "payment_method": values["payment_method"],
                "email": values["email"] or None,
                "note": values["note"],
            }
        )
    except ValidationError as error:
        raise _Refused(422, errors=_field_errors(error)) from error


def _field_errors(error: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        field = loc[-1] if loc[-1] in FIELD_NAMES else loc[0]
        errors[field if field in FIELD_NAMES else "payment_method"] = MSG_FIELD_INVALID
    return errors


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
    try:
        data = _order_data(values, read_cart(request), signed_in=user is not None)
        order, _created = place_and_start_payment(
            session,
            data=data,
            actor=actor_of(user),
            idempotency_key=values["idempotency_key"] or None,
            policy=order_policy(settings),
            gateway=gateway_or_none(request, settings),
            language=translator(request).locale,
            client_address=client_address(request),
        )
    except _Refused as refused:
        errors, problem, status_code = refused.errors, refused.problem, refused.status_code
        refuse(
            lambda: _checkout_page(
                request,
                session,
                settings,
                values=values,
                errors=errors,
                problem=problem,
                status_code=status_code,
            )
        )
    except DomainError as error:
        problem, status_code = problem_message(request, error), error.status_code
        refuse(
            lambda: _checkout_page(
                request, session, settings, values=values, problem=problem, status_code=status_code
            )
        )
    token = access_token(order, settings.secret_key) if user is None else None
    target = order_url(order.id, token=token)
    if is_online(order.payment_method) and order.status == OrderStatus.pending_payment:
        target = f"/orders/{order.id}/pay" + (f"?{urlencode({'token': token})}" if token else "")
    response = RedirectResponse(target, status_code=303)
    _store_cart(response, {}, settings)
    return response


def install_order_checkout_pages(app: FastAPI) -> None:
    app.include_router(router)
