"""Staff pages for manual payments: the orders whose money staff have not yet seen (bank
transfers, cash on delivery, flagged orders) and recording a payment by hand."""

import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep
from core.errors import DomainError
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import StaffPageDep
from frontend.order_common import METHOD_NAMES, STATUS_NAMES, record_typed_payment
from frontend.problems import problem_message
from frontend.rendering import page_router, render, to_major
from orders import payments, views
from orders.lifecycle import get_order, payments_of

router = page_router()


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


def _payments_page(request: Request, session: Session, problem: str, status_code: int) -> Response:
    context = _payments_context(session, "")
    context["problem"] = problem
    return render(request, "orders/staff_payments.html", context, status_code=status_code)


@router.get("/staff/payments", response_class=HTMLResponse)
def staff_payments(
    request: Request,
    staff: StaffPageDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return render(request, "orders/staff_payments.html", _payments_context(session, q))


@router.post("/staff/payments/{order_id}", response_class=HTMLResponse)
def staff_record_payment(
    order_id: int,
    request: Request,
    _csrf: CsrfDep,
    staff: StaffPageDep,
    session: SessionDep,
    amount: Annotated[str, Form(max_length=20)],
    idempotency_key: Annotated[str, Form(min_length=1, max_length=255)],
    reference: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    order = get_order(session, order_id)
    try:
        record_typed_payment(request, session, staff, order, amount, reference, idempotency_key)
    except DomainError as error:
        problem, status_code = problem_message(request, error), error.status_code
        refuse(lambda: _payments_page(request, session, problem, status_code))
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


def install_order_staff_pages(app: FastAPI) -> None:
    app.include_router(router)
