"""Fulfilment pages: a cooperative manager's queue of orders to ship (staff name the cooperative),
printable packing lists, marking lines shipped, and recording the cash a courier collected."""

import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from api.deps import SessionDep, actor_of
from api.models import User
from catalog.models import Cooperative
from core.errors import DomainError, Forbidden
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import ManagerOrStaffPageDep
from frontend.i18n import by_locale, translator
from frontend.order_common import METHOD_NAMES, record_typed_payment
from frontend.problems import problem_message
from frontend.rendering import page_router, render, to_major
from orders import fulfilment
from orders.errors import OrderInvalid
from orders.lifecycle import get_order
from orders.payment_methods import SHIPS_BEFORE_PAYMENT_KEYS

router = page_router()


# Fulfilment (managers for their cooperative; staff name one)


def _fulfilment_coop(user: User, coop_id: int | None) -> int | None:
    """The cooperative the page is about: a manager's own (the guard let only managers and staff
    in); staff name one."""
    if actor_of(user).reads_all:
        return coop_id
    if coop_id is not None and coop_id != user.coop_id:
        raise Forbidden("You may only see your own cooperative's orders.")
    return user.coop_id


def _queue_page(
    request: Request, session: Session, user: User, coop_id: int | None, problem: str, status: int
) -> Response:
    """The queue again, leading with why a form was refused."""
    context = _queue_context(request, session, user, coop_id)
    context["problem"] = problem
    return render(request, "orders/fulfilment.html", context, status_code=status)


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
        "ships_before_payment": SHIPS_BEFORE_PAYMENT_KEYS,
    }


@router.get("/manage/fulfilment", response_class=HTMLResponse)
def fulfilment_page(
    request: Request,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query(gt=0)] = None,
) -> Response:
    context = _queue_context(request, session, user, coop_id)
    return render(request, "orders/fulfilment.html", {**context, "problem": None})


@router.get("/manage/fulfilment/packing-list", response_class=HTMLResponse)
def packing_list(
    request: Request,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query(gt=0)] = None,
    order_id: Annotated[int | None, Query(gt=0)] = None,
) -> Response:
    """Printable: one sheet per order still to ship (or just `order_id`'s)."""
    context = _queue_context(request, session, user, coop_id)
    if order_id is not None:
        context["queue"] = [(o, lines) for o, lines in context["queue"] if o.id == order_id]
    return render(request, "orders/packing_list.html", context)


@router.post("/manage/fulfilment/{order_id}/ship", response_class=HTMLResponse)
def ship_submit(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    carrier: Annotated[str, Form(max_length=50)] = "",
    tracking_number: Annotated[str, Form(max_length=60)] = "",
    coop_id: Annotated[int | None, Form(gt=0)] = None,
) -> Response:
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
        problem, status_code = problem_message(request, error), error.status_code
        refuse(lambda: _queue_page(request, session, user, coop, problem, status_code))
    suffix = f"?coop_id={coop}" if user.role != "manager" and coop else ""
    return RedirectResponse(f"/manage/fulfilment{suffix}", status_code=303)


@router.post("/manage/fulfilment/{order_id}/cash", response_class=HTMLResponse)
def cash_submit(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reference: Annotated[str, Form(max_length=100)] = "",
    coop_id: Annotated[int | None, Form(gt=0)] = None,
) -> Response:
    """The cash the courier collected on delivery, recorded by the manager (or staff)."""
    coop = _fulfilment_coop(user, coop_id)
    order = get_order(session, order_id)
    try:
        record_typed_payment(request, session, user, order, amount, reference, idempotency_key)
    except DomainError as error:
        problem, status_code = problem_message(request, error), error.status_code
        refuse(lambda: _queue_page(request, session, user, coop, problem, status_code))
    suffix = f"?coop_id={coop}" if user.role != "manager" and coop else ""
    return RedirectResponse(f"/manage/fulfilment{suffix}#cash", status_code=303)


def install_order_fulfilment_pages(app: FastAPI) -> None:
    app.include_router(router)
