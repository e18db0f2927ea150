"""Refund requests: the buyer (or the holder of the order's signed link) asks for money back; staff decide.

A request only records what was asked. Approving it makes the staff refund of orders/refunds.py
(`refund_order`) with the request's amount or lines, under an idempotency key made from the
request's id, and links that refund; approving again answers with the same request and refund.
The status moves only here: open → approved | declined. At most one request per order is open
(checked here, and by a partial unique index should two arrive at once).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.actor import Actor
from core.errors import Conflict, NotFound
from core.text import N_
from orders import notices, refunds
from orders.access import require_buyer, require_reader, require_staff
from orders.errors import OrderInvalid, RefundRefused
from orders.lifecycle import get_order, lines_of, payments_of
from orders.models import Order, OrderStatus
from orders.refund_request_models import (
    REASON_MAX,
    RefundRequest,
    RefundRequestLine,
    RefundRequestScope,
    RefundRequestStatus,
    mark_decided,
)
from orders.refund_request_schemas import RefundRequestLineRead, RefundRequestRead
from orders.schemas import MoneyRead
from orders.stripe_gateway import StripeGateway

# The order states in which money can still come back (the same as a staff refund's).
REQUESTABLE: tuple[OrderStatus, ...] = tuple(refunds.REFUNDABLE)


class RefundRequestNotFound(NotFound):
    type_slug = "refund-request-not-found"

    def __init__(self, request_id: int) -> None:
        super().__init__(f"No refund request {request_id} here.")


class RefundRequestRefused(Conflict):
    """The order cannot take a request now (its state, or another request is still open)."""

    type_slug = "refund-request-refused"
    msgid = N_("A refund cannot be asked for now.")


class IllegalRefundRequestTransition(Conflict):
    type_slug = "illegal-refund-request-transition"
    msgid = N_("The refund request has already been answered.")

    def __init__(self, request: RefundRequest, action: str) -> None:
        super().__init__(
            f"Refund request {request.id} is {request.status}: it cannot be {action} now.",
            errors=[{"loc": ["refund_request", "status"], "msg": request.status}],
        )
        self.current = request.status


@dataclass(frozen=True)
class Refundable:
    """What can still come back on an order: in all, and on each line."""

    total: int
    per_line: dict[int, int]


def still_refundable(session: Session, order: Order) -> Refundable:
    """The same bound a staff refund checks: what the lines have left and the payments hold."""
    left = {
        line.id or 0: max(line.line_total - line.refunded_amount, 0)
        for line in lines_of(session, order.id or 0)
    }
    held = refunds.refundable(payments_of(session, order.id or 0))
    return Refundable(total=min(sum(left.values()), held), per_line=left)


def open_request_of(session: Session, order_id: int) -> RefundRequest | None:
    return session.scalars(
        select(RefundRequest).where(
            col(RefundRequest.order_id) == order_id,
            col(RefundRequest.status) == RefundRequestStatus.open,
        )
    ).first()


def may_request(session: Session, order: Order) -> bool:
    """Whether a new request would be taken now (the buyer's page offers the form only then)."""
    return (
        order.status in REQUESTABLE
        and open_request_of(session, order.id or 0) is None
        and still_refundable(session, order).total > 0
    )


def _reason(text: str, loc: list[str | int]) -> str:
    reason = text.strip()
    if not reason:
        raise OrderInvalid("Say why, in a few words.", loc=loc)
    if len(reason) > REASON_MAX:
        raise OrderInvalid(f"Keep it to {REASON_MAX} characters.", loc=loc)
    return reason


def request_refund(
    session: Session,
    *,
    order_id: int,
    actor: Actor,
    token_ok: bool,
    reason: str,
    amount: int | None = None,
    currency: str | None = None,
    lines: Sequence[tuple[int, int]] | None = None,
) -> RefundRequest:
    """The buyer asks: the whole order (no amount, no lines), an amount, or amounts on lines."""
    order = get_order(session, order_id, for_update=True)
    require_buyer(actor, order, token_ok=token_ok, allow_staff=False)
    text = _reason(reason, ["body", "reason"])
    if order.status not in REQUESTABLE:
        raise RefundRequestRefused(
            f"Order {order_id} is {order.status}: only a paid, shipped, delivered or settled "
            "order can have a refund request"
            + (" (cancel it instead)." if order.status == OrderStatus.pending_payment else "."),
            errors=[{"loc": ["order", "status"], "msg": order.status}],
        )
    if currency is not None and currency != order.currency:
        raise OrderInvalid(f"This order was paid in {order.currency}.", loc=["body", "currency"])
    already = open_request_of(session, order_id)
    if already is not None:
        raise _already_open(already)
    available = still_refundable(session, order)
    if available.total <= 0:
        raise RefundRefused(f"Nothing is left to refund on order {order_id}.")
    scope, asked, per_line = _what_is_asked(order_id, available, amount, lines)
    request = RefundRequest(
        order_id=order_id,
        scope=scope.value,
        amount=asked,
        currency=order.currency,
        reason=text,
        requested_by=f"user:{actor.user_id}" if actor.user_id is not None else "guest",
        requested_by_user_id=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
            for line_id, line_amount in per_line.items():
                session.add(
                    RefundRequestLine(
                        request_id=request.id or 0, line_id=line_id, amount=line_amount
                    )
                )
            session.flush()
    except IntegrityError:  # another request for this order was opened meanwhile
        raced = open_request_of(session, order_id)
        if raced is None:
            raise
        raise _already_open(raced) from None
    notices.refund_requested(session, order, request_id=request.id or 0, amount=asked)
    return request


def _already_open(request: RefundRequest) -> RefundRequestRefused:
    return RefundRequestRefused(
        f"Refund request {request.id} for order {request.order_id} is still open: "
        "staff will answer it first.",
        errors=[{"loc": ["order", "refund_requests"], "msg": f"request {request.id} is open"}],
    )


def _what_is_asked(
    order_id: int,
    available: Refundable,
    amount: int | None,
    lines: Sequence[tuple[int, int]] | None,
) -> tuple[RefundRequestScope, int, dict[int, int]]:
    if lines:
        per_line: dict[int, int] = {}
        for index, (line_id, line_amount) in enumerate(lines):
            if line_id not in available.per_line:
                raise OrderInvalid(
                    f"Order {order_id} has no line {line_id}.",
                    loc=["body", "lines", index, "line_id"],
                )
            if line_amount <= 0:
                raise OrderInvalid(
                    "Each line's amount must be more than zero.",
                    loc=["body", "lines", index, "amount"],
                )
            per_line[line_id] = per_line.get(line_id, 0) + line_amount
        total = sum(per_line.values())
        if amount is not None and amount != total:
            raise OrderInvalid(
                "The lines' amounts must sum to the amount asked.", loc=["body", "amount"]
            )
        for line_id, line_amount in per_line.items():
            if line_amount > available.per_line[line_id]:
                left = available.per_line[line_id]
                raise RefundRefused(
                    f"Line {line_id} has only {left} left to refund.",
                    errors=[{"loc": ["body", "lines"], "msg": f"line {line_id}: at most {left}"}],
                )
        _within(order_id, available, total)
        return RefundRequestScope.lines, total, per_line
    if amount is not None:
        _within(order_id, available, amount)
        return RefundRequestScope.amount, amount, {}
    return RefundRequestScope.whole_order, available.total, {}


def _within(order_id: int, available: Refundable, amount: int) -> None:
    if amount > available.total:
        raise RefundRefused(
            f"At most {available.total} can still be refunded on order {order_id}; "
            f"{amount} is more than was paid and not yet refunded.",
            errors=[{"loc": ["body", "amount"], "msg": f"at most {available.total}"}],
        )


def get_request(session: Session, request_id: int, *, for_update: bool = False) -> RefundRequest:
    query = select(RefundRequest).where(col(RefundRequest.id) == request_id)
    if for_update:
        query = query.with_for_update()  # PostgreSQL: one decision at a time
    request = session.scalars(query.execution_options(populate_existing=True)).first()
    if request is None:
        raise RefundRequestNotFound(request_id)
    return request


def request_lines(
    session: Session, request_ids: Sequence[int]
) -> dict[int, list[RefundRequestLine]]:
    found: dict[int, list[RefundRequestLine]] = {request_id: [] for request_id in request_ids}
    if request_ids:
        for line in session.scalars(
            select(RefundRequestLine)
            .where(col(RefundRequestLine.request_id).in_(list(request_ids)))
            .order_by(col(RefundRequestLine.id))
        ):
            found[line.request_id].append(line)
    return found


def approve_request(
    session: Session,
    *,
    request_id: int,
    actor: Actor,
    reference: str = "",
    gateway: StripeGateway | None,
) -> tuple[RefundRequest, bool]:
    """Staff approve: the refund is made and linked; (request, approved now). Again → the same."""
    require_staff(actor, "approve a refund request")
    request = get_request(session, request_id, for_update=True)
    if request.status == RefundRequestStatus.approved:
        return request, False
    if request.status != RefundRequestStatus.open:
        raise IllegalRefundRequestTransition(request, "approved")
    chosen = [
        (line.line_id, line.amount) for line in request_lines(session, [request_id])[request_id]
    ]
    amount = request.amount
    if request.scope == RefundRequestScope.whole_order:
        # Everything still refundable now (a staff refund may have happened since the request).
        amount = still_refundable(session, get_order(session, request.order_id)).total
        if amount <= 0:
            raise RefundRefused(
                f"Nothing is left to refund on order {request.order_id}; decline the request."
            )
    refund, _ = refunds.refund_order(
        session,
        order_id=request.order_id,
        amount=amount,
        currency=request.currency,
        reason=f"refund request {request.id}: {request.reason}"[:500],
        reference=reference.strip(),
        lines=chosen or None,
        idempotency_key=f"refund-request:{request.id}",
        actor=actor,
        gateway=gateway,
        answering_request_id=request.id,
    )
    _decide(request, RefundRequestStatus.approved, actor)
    request.refund_id = refund.id
    session.add(request)
    session.flush()
    return request, True


def decline_request(
    session: Session, *, request_id: int, actor: Actor, reason: str
) -> tuple[RefundRequest, bool]:
    """Staff decline with a reason the buyer reads; (request, declined now). Again → the same."""
    require_staff(actor, "decline a refund request")
    text = _reason(reason, ["body", "reason"])
    request = get_request(session, request_id, for_update=True)
    if request.status == RefundRequestStatus.declined:
        return request, False
    if request.status != RefundRequestStatus.open:
        raise IllegalRefundRequestTransition(request, "declined")
    _decide(request, RefundRequestStatus.declined, actor)
    request.decline_reason = text
    session.add(request)
    session.flush()
    return request, True


def _decide(request: RefundRequest, to: RefundRequestStatus, actor: Actor) -> None:
    mark_decided(request, to, actor.user_id)


def requests_of_order(session: Session, order_id: int) -> list[RefundRequest]:
    """An order's requests, oldest first (the caller has checked who may see the order)."""
    return list(
        session.scalars(
            select(RefundRequest)
            .where(col(RefundRequest.order_id) == order_id)
            .order_by(col(RefundRequest.id))
        )
    )


def list_requests(
    session: Session, *, actor: Actor, status: str | None, after_id: int | None, limit: int
) -> list[RefundRequest]:
    """Staff's queue, oldest first, optionally of one status."""
    require_reader(actor, "see refund requests")
    query = select(RefundRequest)
    if status:
        query = query.where(col(RefundRequest.status) == status)
    if after_id is not None:
        query = query.where(col(RefundRequest.id) > after_id)
    return list(session.scalars(query.order_by(col(RefundRequest.id)).limit(limit)))


def requests_read(session: Session, requests: Sequence[RefundRequest]) -> list[RefundRequestRead]:
    lines = request_lines(session, [r.id or 0 for r in requests])
    return [_read(r, lines[r.id or 0]) for r in requests]


def _read(request: RefundRequest, lines: list[RefundRequestLine]) -> RefundRequestRead:
    def money(amount: int) -> MoneyRead:
        return MoneyRead(amount=amount, currency=request.currency)

    return RefundRequestRead(
        id=request.id or 0,
        order_id=request.order_id,
        status=request.status,
        scope=request.scope,
        amount=money(request.amount),
        lines=[
            RefundRequestLineRead(line_id=line.line_id, amount=money(line.amount)) for line in lines
        ]
        if request.scope == RefundRequestScope.lines
        else None,
        reason=request.reason,
        requested_by=request.requested_by,
        created_at=request.created_at,
        decided_by=f"user:{request.decided_by_user_id}"
        if request.decided_by_user_id is not None
        else None,
        decided_at=request.decided_at,
        decline_reason=request.decline_reason,
        refund_id=request.refund_id,
    )
