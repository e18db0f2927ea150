"""Refund request pages: the buyer's form (from the order page's link, guests with the order's token)
and staff's list of requests with approve and decline forms.

Every page works without JavaScript and every form carries the CSRF token. Approving is
idempotent per request (orders/refund_requests.py), so a double submit refunds once.
"""

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep, actor_of
from api.routers.orders import gateway_or_none
from api.settings import Settings
from core.errors import DomainError
from frontend.confirmations import ConfirmedForm, confirm_page
from frontend.confirmations import confirmed as is_confirmed
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import StaffPageDep, require_sign_in
from frontend.i18n import N_, by_locale, translator
from frontend.order_pages import viewable_order
from frontend.problems import problem_message
from frontend.rendering import (
    WebUserDep,
    money_formatter,
    page_router,
    render,
    to_major,
    to_minor,
)
from orders import refund_requests
from orders.access import access_token, is_buyer
from orders.errors import OrderInvalid, OrderNeedsSignIn
from orders.lifecycle import get_order, lines_of
from orders.models import Order, OrderLine
from orders.refund_request_models import REASON_MAX, RefundRequestStatus

router = page_router()

SCOPES = ("whole_order", "amount", "lines")
STATUSES = tuple(s.value for s in RefundRequestStatus)

REQUEST_STATUS_NAMES = {
    "open": N_("Waiting for staff"),
    "approved": N_("Approved: refunded"),
    "declined": N_("Declined"),
}
SCOPE_NAMES = {
    "whole_order": N_("The whole order"),
    "amount": N_("Part of the order"),
    "lines": N_("Chosen products"),
}
MSG_REASON = N_("Say why, in a few words.")
MSG_REASON_LONG = N_("Keep it to %(count)s characters.")
MSG_AMOUNT = N_("Enter an amount in yuan, e.g. 68 or 68.50.")
MSG_AT_MOST = N_("At most %(amount)s can still be refunded.")
MSG_CHOOSE_LINE = N_("Enter an amount for at least one product.")
MSG_SCOPE = N_("Choose what you want back.")


def _with_token(path: str, token: str | None) -> str:
    return path + (f"?{urlencode({'token': token})}" if token else "")


# The buyer's form


def _line_rows(
    request: Request, lines: list[OrderLine], left: dict[int, int]
) -> list[dict[str, Any]]:
    return [
        {
            "id": line.id,
            "name": by_locale(request, line.product_name_zh, line.product_name_en),
            "quantity": line.quantity,
            "unit": line.unit,
            "total": line.line_total,
            "left": left.get(line.id or 0, 0),
        }
        for line in lines
    ]


def _form_page(
    request: Request,
    session: Session,
    settings: Settings,
    order: Order,
    *,
    token_ok: bool,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    actor = actor_of(request.state.web_user)
    available = refund_requests.still_refundable(session, order)
    found = refund_requests.requests_of_order(session, order.id or 0)
    buyer = is_buyer(actor, order, token_ok=token_ok)
    context = {
        "order": order,
        "token": access_token(order, settings.secret_key) if token_ok else None,
        "lines": _line_rows(request, lines_of(session, order.id or 0), available.per_line),
        "available": available.total,
        "requests": refund_requests.requests_read(session, found),
        "can_request": buyer and refund_requests.may_request(session, order),
        "values": values or {"scope": "whole_order"},
        "errors": errors or {},
        "problem": problem,
        "reason_max": REASON_MAX,
        "status_names": REQUEST_STATUS_NAMES,
        "scope_names": SCOPE_NAMES,
        "scopes": SCOPES,
    }
    return render(request, "orders/refund_request_form.html", context, status_code=status_code)


TokenQuery = Annotated[str | None, Query(max_length=100)]


@router.get("/orders/{order_id}/refund-request", response_class=HTMLResponse)
def refund_request_form(
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
    return _form_page(request, session, settings, order, token_ok=token_ok)


def _read_form(
    request: Request, form: dict[str, str], order: Order, available: refund_requests.Refundable
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form as the service wants it (reason, amount, lines), and per-field errors."""
    gettext = translator(request).gettext
    money = to_major(available.total, order.currency)
    errors: dict[str, str] = {}
    reason = form.get("reason", "").strip()
    if not reason:
        errors["reason"] = gettext(MSG_REASON)
    elif len(reason) > REASON_MAX:
        errors["reason"] = gettext(MSG_REASON_LONG, count=REASON_MAX)
    asked: dict[str, Any] = {"reason": reason, "amount": None, "lines": None}
    scope = form.get("scope", "")
    if scope == "amount":
        amount = to_minor(form.get("amount", ""), order.currency)
        if amount is None:
            errors["amount"] = gettext(MSG_AMOUNT)
        elif amount > available.total:
            errors["amount"] = gettext(MSG_AT_MOST, amount=money)
        asked["amount"] = amount
    elif scope == "lines":
        chosen: list[tuple[int, int]] = []
        for line_id, left in available.per_line.items():
            text = form.get(f"line_{line_id}", "").strip()
            if not text:
                continue
            amount = to_minor(text, order.currency)
            if amount is None:
                errors[f"line_{line_id}"] = gettext(MSG_AMOUNT)
            elif amount > left:
                errors[f"line_{line_id}"] = gettext(
                    MSG_AT_MOST, amount=to_major(left, order.currency)
                )
            else:
                chosen.append((line_id, amount))
        if not chosen and not any(key.startswith("line_") for key in errors):
            errors["lines"] = gettext(MSG_CHOOSE_LINE)
        asked["lines"] = chosen
    elif scope != "whole_order":
        errors["scope"] = gettext(MSG_SCOPE)
    return asked, errors


@router.post("/orders/{order_id}/refund-request", response_class=HTMLResponse)
async def refund_request_submit(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    raw = await request.form()
    form = {key: str(value)[: REASON_MAX + 10] for key, value in raw.items() if key != "csrf_token"}
    token = form.get("token") or None
    try:
        order, token_ok = viewable_order(request, session, settings, order_id, token)
    except OrderNeedsSignIn:
        require_sign_in(request, request.url.path)  # the form's own page
    available = refund_requests.still_refundable(session, order)
    asked, errors = _read_form(request, form, order, available)
    if errors:
        return _form_page(
            request,
            session,
            settings,
            order,
            token_ok=token_ok,
            values=form,
            errors=errors,
            status_code=422,
        )
    try:
        refund_requests.request_refund(
            session,
            order_id=order_id,
            actor=actor_of(user),
            token_ok=token_ok,
            reason=asked["reason"],
            amount=asked["amount"],
            currency=order.currency,
            lines=asked["lines"],
        )
    except DomainError as error:  # nothing kept: the form again, with the reason
        problem, status = problem_message(request, error), error.status_code
        refuse(
            lambda: _form_page(
                request,
                session,
                settings,
                order,
                token_ok=token_ok,
                values=form,
                problem=problem,
                status_code=status,
            )
        )
    return RedirectResponse(
        _with_token(f"/orders/{order_id}/refund-request", token if token_ok else None),
        status_code=303,
    )


# Staff: the requests and their decisions


def _staff_context(request: Request, session: Session, status: str) -> dict[str, Any]:
    actor = actor_of(request.state.web_user)
    found = refund_requests.list_requests(
        session, actor=actor, status=status or None, after_id=None, limit=200
    )
    reads = refund_requests.requests_read(session, found)
    order_ids = {r.order_id for r in found}
    orders = {o.id: o for o in session.scalars(select(Order).where(col(Order.id).in_(order_ids)))}
    line_names = {
        line.id: by_locale(request, line.product_name_zh, line.product_name_en)
        for line in session.scalars(select(OrderLine).where(col(OrderLine.order_id).in_(order_ids)))
    }
    rows = []
    for read, row in zip(reads, found, strict=True):
        order = orders[row.order_id]
        rows.append(
            {
                "request": read,
                "order": order,
                "available": refund_requests.still_refundable(session, order).total
                if row.status == RefundRequestStatus.open
                else None,
            }
        )
    return {
        "rows": rows,
        "status": status,
        "statuses": STATUSES,
        "line_names": line_names,
        "status_names": REQUEST_STATUS_NAMES,
        "scope_names": SCOPE_NAMES,
        "reason_max": REASON_MAX,
        "problem": None,
    }


StatusQuery = Annotated[str, Query(pattern="^(open|approved|declined|)$")]


@router.get("/staff/refund-requests", response_class=HTMLResponse)
def staff_refund_requests(
    request: Request, user: StaffPageDep, session: SessionDep, status: StatusQuery = "open"
) -> Response:
    return render(
        request, "orders/staff_refund_requests.html", _staff_context(request, session, status)
    )


def _after_decision(request: Request, session: Session, error: DomainError | None) -> Response:
    if error is None:
        return RedirectResponse("/staff/refund-requests", status_code=303)
    problem, status = problem_message(request, error), error.status_code

    def the_list_again() -> Response:
        context = _staff_context(request, session, "open")
        context["problem"] = problem
        return render(request, "orders/staff_refund_requests.html", context, status_code=status)

    refuse(the_list_again)


@router.post("/staff/refund-requests/{request_id}/approve", response_class=HTMLResponse)
def staff_approve(
    request_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    reference: Annotated[str, Form(max_length=100)] = "",
    confirmed: ConfirmedForm = "",
) -> Response:
    if not is_confirmed(confirmed) and _still_open(session, request_id):
        return _confirm_approval(request, session, request_id, reference)
    try:
        refund_requests.approve_request(
            session,
            request_id=request_id,
            actor=actor_of(user),
            reference=reference,
            gateway=gateway_or_none(request, settings),
        )
    except DomainError as error:
        return _after_decision(request, session, error)
    return _after_decision(request, session, None)


def _still_open(session: Session, request_id: int) -> bool:
    return refund_requests.get_request(session, request_id).status == RefundRequestStatus.open


def _confirm_approval(
    request: Request, session: Session, request_id: int, reference: str
) -> Response:
    """What approving does with the money, before it is done."""
    translate = translator(request)
    money = money_formatter(translate)
    asked = refund_requests.get_request(session, request_id)
    order = get_order(session, asked.order_id)
    consequences = [
        translate.gettext(
            "%(amount)s of order %(number)s goes back to the buyer now.",
            amount=money(asked.amount, asked.currency),
            number=order.id,
        ),
        translate.gettext(
            "A card payment is refunded through the card provider; for a bank transfer or cash, "
            "send the money yourself and give its bank reference."
        ),
    ]
    if order.settlement_entry_id is not None:
        consequences.append(
            translate.gettext(
                "The order is already settled: the households', funds' and enterprise's shares "
                "are taken back in proportion."
            )
        )
    return confirm_page(
        request,
        title=translate.gettext("Approve and refund"),
        consequences=consequences,
        action=f"/staff/refund-requests/{request_id}/approve",
        fields={"reference": reference},
        button=translate.gettext(
            "Yes, refund %(amount)s", amount=money(asked.amount, asked.currency)
        ),
        back=f"/staff/refund-requests#request-{request_id}",
    )


@router.post("/staff/refund-requests/{request_id}/decline", response_class=HTMLResponse)
def staff_decline(
    request_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
) -> Response:
    try:
        if not reason.strip():
            raise OrderInvalid(translator(request).gettext(MSG_REASON), loc=["form", "reason"])
        refund_requests.decline_request(
            session, request_id=request_id, actor=actor_of(user), reason=reason
        )
    except DomainError as error:
        return _after_decision(request, session, error)
    return _after_decision(request, session, None)


def install_refund_request_pages(app: FastAPI) -> None:
    app.include_router(router)
