"""Orders and payments HTTP routes (docs/api.md "Orders and payments"): parse, name the actor, call a service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse

from api.answers import created_or_replayed
from api.deps import (
    CurrentUserDep,
    OptionalUserDep,
    PageDep,
    SessionDep,
    SettingsDep,
    StaffDep,
    actor_of,
    client_address,
    encode_cursor,
)

# gateway_or_none re-exported for frontend/refund_request_pages.py (until it imports api.gateways).
from api.gateways import GatewayDep
from api.gateways import gateway_or_none as gateway_or_none
from api.policies import order_policy
from api.settings import Settings
from ledger.share_rules import ShareParts
from orders import checkout, fulfilment, payments, placing, refunds, share_rules, views, webhooks
from orders.access import require_buyer
from orders.config import OrderPolicy
from orders.errors import StripeDisabled
from orders.lifecycle import get_order
from orders.models import ShareRule
from orders.receipts import receipt
from orders.schemas import (
    ManualPaymentIn,
    OrderCreate,
    OrderRead,
    PaymentRead,
    ReceiptRead,
    RefundIn,
    RefundRead,
    ShareRuleIn,
    ShareRuleRead,
    ShipIn,
    StripeReturnIn,
)
from orders.schemas import ShareParts as SharePartsIn
from orders.stripe_gateway import StripeGateway

router = APIRouter(tags=["orders"])
API = "/api/v1"

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
Token = Annotated[str | None, Query(max_length=100)]


def policy_of(request: Request) -> OrderPolicy:
    """The orders policy the composition root built from the settings (api/app.py)."""
    policy = getattr(request.app.state, "order_policy", None)
    if policy is None:
        policy = request.app.state.order_policy = order_policy(request.app.state.settings)
    return policy


PolicyDep = Annotated[OrderPolicy, Depends(policy_of)]


def _gateway(gateway: StripeGateway | None) -> StripeGateway:
    if gateway is None:
        raise StripeDisabled()
    return gateway


def _read(session: SessionDep, order_id: int, settings: Settings, *, with_token: bool) -> OrderRead:
    return views.order_read(
        session, get_order(session, order_id), secret_key=settings.secret_key, with_token=with_token
    )


@router.post(f"{API}/orders", status_code=status.HTTP_201_CREATED, response_model=OrderRead)
def place_order(
    request: Request,
    data: OrderCreate,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
    gateway: GatewayDep,
    user: OptionalUserDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    order, created = placing.place_and_start_payment(
        session,
        data=data,
        actor=actor_of(user),
        idempotency_key=idempotency_key,
        policy=policy,
        gateway=gateway,
        client_address=client_address(request),
    )
    # Committed before the answer is read back: the hot lot's row and the unpaid-cap locks are
    # held only while the order is placed (a retry with the same key answers the same order).
    session.commit()
    body = views.order_read(session, order, secret_key=settings.secret_key, with_token=user is None)
    return created_or_replayed(body, created)


@router.get(f"{API}/orders")
def list_orders(
    session: SessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
    page: PageDep,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
) -> dict[str, object]:
    orders = views.list_orders(
        session,
        actor=actor_of(user),
        after_id=page.after_int(),
        limit=page.limit + 1,
        status=status_,
    )
    more = len(orders) > page.limit
    orders = orders[: page.limit]
    return {
        "items": [
            views.order_read(
                session, o, secret_key=settings.secret_key, with_token=False
            ).model_dump(mode="json")
            for o in orders
        ],
        "next_cursor": encode_cursor(orders[-1].id or 0) if more and orders else None,
    }


@router.get(f"{API}/orders/{{order_id}}", response_model=OrderRead)
def read_order(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    token: Token = None,
) -> OrderRead:
    order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor_of(user),
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    return views.order_read(session, order, secret_key=settings.secret_key, with_token=token_ok)


@router.get(f"{API}/orders/{{order_id}}/receipt", response_model=ReceiptRead)
def order_receipt(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    token: Token = None,
) -> ReceiptRead:
    order, _ = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor_of(user),
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    return receipt(session, order)


@router.post(
    f"{API}/orders/{{order_id}}/payments/manual",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
)
def record_manual_payment(
    order_id: int,
    data: ManualPaymentIn,
    session: SessionDep,
    user: CurrentUserDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Same Idempotency-Key and body → the original payment (200); another body → 409."""
    payment, created = payments.record_manual_payment(
        session,
        order_id=order_id,
        amount=data.amount,
        currency=data.currency,
        reference=data.reference,
        actor=actor_of(user),
        idempotency_key=idempotency_key,
    )
    body = views.payment_read(payment).model_dump(mode="json")
    return created_or_replayed(body, created)


@router.post(
    f"{API}/orders/{{order_id}}/payments/stripe",
    status_code=status.HTTP_201_CREATED,
    response_model=PaymentRead,
)
def new_stripe_attempt(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    gateway: GatewayDep,
    token: Token = None,
) -> PaymentRead:
    actor = actor_of(user)
    order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor,
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    require_buyer(actor, order, token_ok=token_ok, allow_staff=False)
    payment = payments.start_stripe_attempt(
        session, order_id=order_id, gateway=_gateway(gateway), actor=checkout.actor_label(actor)
    )
    return views.payment_read(payment)


@router.post(f"{API}/orders/{{order_id}}/payments/stripe/return", response_model=OrderRead)
def stripe_return(
    order_id: int,
    data: StripeReturnIn,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    gateway: GatewayDep,
    token: Token = None,
) -> OrderRead:
    """The browser's return from Stripe: the same completion as the webhook (whichever is first)."""
    actor = actor_of(user)
    order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor,
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    require_buyer(actor, order, token_ok=token_ok, allow_staff=True)
    stripe = _gateway(gateway)
    attempt = payments.attempt_of_order(
        session, order_id=order_id, payment_intent_id=data.payment_intent_id
    )
    intent = stripe.retrieve_payment_intent(attempt.payment_intent_id or "")
    payments.complete_stripe_payment(
        session, intent=intent, gateway=stripe, actor=checkout.actor_label(actor)
    )
    return _read(session, order_id, settings, with_token=token_ok)


@router.post(f"{API}/payments/stripe/webhook")
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, gateway: GatewayDep
) -> dict[str, str]:
    payload = await request.body()
    from fastapi.concurrency import run_in_threadpool

    outcome = await run_in_threadpool(
        webhooks.receive_stripe_event,
        session,
        payload=payload,
        signature=request.headers.get("Stripe-Signature"),
        secret=settings.stripe_webhook_secret,
        gateway=_gateway(gateway),
    )
    return {"status": outcome}


@router.post(f"{API}/orders/{{order_id}}/ship", response_model=OrderRead)
def ship(
    order_id: int, data: ShipIn, session: SessionDep, settings: SettingsDep, user: CurrentUserDep
) -> OrderRead:
    fulfilment.ship_lines(
        session,
        order_id=order_id,
        actor=actor_of(user),
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        coop_id=data.coop_id,
    )
    return _read(session, order_id, settings, with_token=False)


@router.post(f"{API}/orders/{{order_id}}/deliver", response_model=OrderRead)
def deliver(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    token: Token = None,
) -> OrderRead:
    actor = actor_of(user)
    order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor,
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    fulfilment.deliver(session, order_id=order_id, actor=actor, token_ok=token_ok)
    return _read(session, order_id, settings, with_token=token_ok)


@router.post(f"{API}/orders/{{order_id}}/cancel", response_model=OrderRead)
def cancel(
    order_id: int,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    gateway: GatewayDep,
    token: Token = None,
) -> OrderRead:
    actor = actor_of(user)
    order, token_ok = views.order_for_viewer(
        session,
        order_id=order_id,
        actor=actor,
        token=token,
        secret_key=settings.secret_key,
        token_days=settings.guest_token_days,
    )
    refunds.cancel_order(
        session, order_id=order_id, actor=actor, token_ok=token_ok, gateway=gateway
    )
    return _read(session, order_id, settings, with_token=token_ok)


@router.post(
    f"{API}/orders/{{order_id}}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundRead,
)
def refund(
    order_id: int,
    data: RefundIn,
    session: SessionDep,
    user: CurrentUserDep,
    gateway: GatewayDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    made, created = refunds.refund_order(
        session,
        order_id=order_id,
        amount=data.amount,
        currency=data.currency,
        reason=data.reason,
        reference=data.reference,
        lines=[(line.line_id, line.amount) for line in data.lines]
        if data.lines is not None
        else None,
        idempotency_key=idempotency_key,
        actor=actor_of(user),
        gateway=gateway,
    )
    body = RefundRead(
        id=made.id or 0,
        order_id=made.order_id,
        amount=views.money(made.amount, made.currency),
        reason=made.reason,
        reference=made.reference,
        after_settlement=made.after_settlement,
        created_at=made.created_at,
    )
    return created_or_replayed(body, created)


@router.get(f"{API}/coops/{{coop_id}}/fulfilment")
def fulfilment_queue(
    coop_id: int, session: SessionDep, settings: SettingsDep, user: CurrentUserDep
) -> dict[str, object]:
    queue = fulfilment.fulfilment_queue(session, coop_id=coop_id, actor=actor_of(user))
    items = []
    for order, lines in queue:
        items.append(
            {
                "order_id": order.id,
                "status": order.status,
                "reference_code": order.reference_code,
                "shipping": {
                    "recipient": order.recipient,
                    "phone": order.phone,
                    "province": order.province,
                    "city": order.city,
                    "district": order.district,
                    "street": order.street,
                },
                "note": order.note,
                "lines": [
                    {
                        "id": line.id,
                        "product_id": line.product_id,
                        "name": {"zh": line.product_name_zh, "en": line.product_name_en},
                        "unit": line.unit,
                        "quantity": line.quantity,
                    }
                    for line in lines
                ],
            }
        )
    return {"items": items, "next_cursor": None}


@router.put(
    f"{API}/coops/{{coop_id}}/share-rule",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareRuleRead,
)
def put_share_rule(
    coop_id: int, data: ShareRuleIn, session: SessionDep, user: StaffDep, policy: PolicyDep
) -> ShareRuleRead:
    rule = share_rules.set_share_rule(
        session,
        coop_id=coop_id,
        effective_from=data.effective_from,
        parts=ShareParts(**data.parts.model_dump()),
        fee_bearer=data.fee_bearer,
        created_by=f"user:{user.id}",
        policy=policy,
    )
    return _rule_read(rule)


@router.get(f"{API}/coops/{{coop_id}}/share-rules")
def get_share_rules(coop_id: int, session: SessionDep, user: StaffDep) -> dict[str, object]:
    rules = share_rules.list_share_rules(session, coop_id=coop_id)
    return {"items": [_rule_read(r).model_dump(mode="json") for r in rules], "next_cursor": None}


def _rule_read(rule: ShareRule) -> ShareRuleRead:
    return ShareRuleRead(
        id=rule.id or 0,
        coop_id=rule.coop_id,
        version=rule.version,
        effective_from=rule.effective_from,
        parts=SharePartsIn(**ShareParts.of_row(rule).as_dict()),
        fee_bearer=rule.fee_bearer,
        created_at=rule.created_at,
    )
