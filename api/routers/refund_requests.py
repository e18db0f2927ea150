"""Refund request HTTP routes: the buyer (or guest link) asks, staff list, approve or decline.

- `POST /api/v1/orders/{id}/refund-requests` (buyer, or `?token=` of a guest order) `{"reason",
  "amount"?, "currency"?, "lines"?: [{"line_id", "amount"}]}` → 201 request (only a reason: the
  whole order; another request still open, or more than is left to refund → 409).
- `GET /api/v1/orders/{id}/refund-requests` → the order's requests, for whoever may see the order
  (buyer or token, its cooperatives' managers, staff).
- `GET /api/v1/refund-requests?status=open&cursor=&limit=` (staff) → the queue, oldest first.
- `POST /api/v1/refund-requests/{id}/approve` (staff) `{"reference"?}` → the request, linked to the
  refund it made (201); again → 200 with the same. `.../decline` (staff) `{"reason"}` → the same way.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from fastapi.responses import JSONResponse

from api.answers import created_or_replayed
from api.deps import (
    CurrentUserDep,
    OptionalUserDep,
    PageDep,
    SessionDep,
    SettingsDep,
    actor_of,
    encode_cursor,
)
from api.gateways import GatewayDep
from api.routers.orders import Token
from orders import refund_requests, views
from orders.refund_request_models import RefundRequest
from orders.refund_request_schemas import (
    RefundRequestApprove,
    RefundRequestCreate,
    RefundRequestDecline,
    RefundRequestRead,
)

router = APIRouter(tags=["refund requests"])
API = "/api/v1"


def _body(session: SessionDep, request: RefundRequest) -> dict[str, object]:
    [read] = refund_requests.requests_read(session, [request])
    return read.model_dump(mode="json")


@router.post(
    f"{API}/orders/{{order_id}}/refund-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundRequestRead,
)
def create_refund_request(
    order_id: int,
    data: RefundRequestCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    token: Token = None,
) -> JSONResponse:
    actor = actor_of(user)
    _order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor,
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    made = refund_requests.request_refund(
        session,
        order_id=order_id,
        actor=actor,
        token_ok=token_ok,
        reason=data.reason,
        amount=data.amount,
        currency=data.currency,
        lines=[(line.line_id, line.amount) for line in data.lines] if data.lines else None,
    )
    return JSONResponse(_body(session, made), status_code=201)


@router.get(f"{API}/orders/{{order_id}}/refund-requests")
def order_refund_requests(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    token: Token = None,
) -> dict[str, object]:
    views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor_of(user),
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    found = refund_requests.requests_of_order(session, order_id)
    return {
        "items": [r.model_dump(mode="json") for r in refund_requests.requests_read(session, found)],
        "next_cursor": None,
    }


@router.get(f"{API}/refund-requests")
def list_refund_requests(
    session: SessionDep,
    user: CurrentUserDep,
    page: PageDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(open|approved|declined)$")
    ] = None,
) -> dict[str, object]:
    found = refund_requests.list_requests(
        session,
        actor=actor_of(user),
        status=status_,
        after_id=page.after_int(),
        limit=page.limit + 1,
    )
    more = len(found) > page.limit
    found = found[: page.limit]
    return {
        "items": [r.model_dump(mode="json") for r in refund_requests.requests_read(session, found)],
        "next_cursor": encode_cursor(found[-1].id or 0) if more and found else None,
    }


@router.post(
    f"{API}/refund-requests/{{request_id}}/approve",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundRequestRead,
)
def approve_refund_request(
    request_id: int,
    session: SessionDep,
    user: CurrentUserDep,
    gateway: GatewayDep,
    data: Annotated[RefundRequestApprove | None, Body()] = None,
) -> JSONResponse:
    """Makes the refund (201); approving an approved request answers with it again (200)."""
    made, now = refund_requests.approve_request(
        session,
        request_id=request_id,
        actor=actor_of(user),
        reference=data.reference if data is not None else "",
        gateway=gateway,
    )
    return created_or_replayed(_body(session, made), now)


@router.post(f"{API}/refund-requests/{{request_id}}/decline", response_model=RefundRequestRead)
def decline_refund_request(
    request_id: int, data: RefundRequestDecline, session: SessionDep, user: CurrentUserDep
) -> JSONResponse:
    made, _now = refund_requests.decline_request(
        session, request_id=request_id, actor=actor_of(user), reason=data.reason
    )
    return JSONResponse(_body(session, made))
