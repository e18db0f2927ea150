"""What orders tell people, recorded in the same transaction as the change (notify's outbox)."""

import json
from collections.abc import Mapping
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from ledger.share_rules import household_of
from notify import outbox
from notify.kinds import Kind
from notify.models import Notification
from orders.access import access_token
from orders.bank_transfer import coop_transfer_account
from orders.models import Order, OrderStatus
from orders.payment_methods import method_of

STATUS_KINDS = {
    OrderStatus.paid: Kind.order_paid,
    OrderStatus.shipped: Kind.order_shipped,
    OrderStatus.delivered: Kind.order_delivered,
}


def _buyer(order: Order, language: str | None = None) -> outbox.Audience:
    if order.buyer_user_id is not None:
        return outbox.to_user(order.buyer_user_id)
    return outbox.to_guest(email=order.guest_email, language=language)


def _basics(order: Order, path: str) -> dict[str, object]:
    return {
        "order_id": order.id,
        "reference": order.reference_code,
        "amount": order.total_amount,
        "currency": order.currency,
        "payment_method": order.payment_method,
        "path": path,
    }


def order_placed(session: Session, order: Order, *, language: str | None, link_secret: str) -> None:
    """The buyer's confirmation; a guest's carries the signed order link (their only way back).

    A bank transfer to a cooperative that receives directly names that cooperative's account
    (`payee`), as the order page does; otherwise the e-mail names the marketplace's (notify's
    configured payee)."""
    path = f"/orders/{order.id}"
    if order.buyer_user_id is None and link_secret:
        path += "?" + urlencode({"token": access_token(order, link_secret)})
    payload = _basics(order, path)
    if order.reserved_until is not None:
        payload["pay_by"] = order.reserved_until.isoformat()
    if method_of(order.payment_method).payee == "bank_account":
        own = coop_transfer_account(session, order)
        if own is not None:
            payload["payee"] = {"name": own.payee, "bank": own.bank, "account": own.account}
    outbox.record(
        session,
        kind=Kind.order_placed,
        event_key=f"order:{order.id}:placed",
        audiences=[_buyer(order, language)],
        payload=payload,
    )


def status_changed(session: Session, order: Order, to: OrderStatus) -> None:
    kind = STATUS_KINDS.get(to)
    if kind is None:
        return
    placed = _placed_notice(session, order)
    path = str(placed.get("path", f"/orders/{order.id}"))
    language = str(placed["language"]) if placed.get("language") else None
    outbox.record(
        session,
        kind=kind,
        event_key=f"order:{order.id}:{to.value}",
        audiences=[_buyer(order, language)],
        payload=_basics(order, path),
    )


def _placed_notice(session: Session, order: Order) -> Mapping[str, object]:
    """The guest's link and language, as the order confirmation recorded them."""
    row = session.scalars(
        select(Notification).where(col(Notification.event_key) == f"order:{order.id}:placed")
    ).first()
    if row is None:
        return {}
    return {**json.loads(row.payload), "language": row.language}


def shares_credited(
    session: Session, order: Order, credits: Mapping[str, int], entry_id: int
) -> None:
    """Each producing household: its share of a settled sale (money: inbox, SMS, e-mail)."""
    for account, amount in sorted(credits.items()):
        household_id = household_of(account)
        if household_id is None or amount <= 0:
            continue
        outbox.record(
            session,
            kind=Kind.share_credited,
            event_key=f"settlement:{entry_id}:household:{household_id}",
            audiences=[outbox.to_household(household_id)],
            payload={
                "order_id": order.id,
                "household_id": household_id,
                "amount": amount,
                "currency": order.currency,
            },
        )


def refund_requested(session: Session, order: Order, *, request_id: int, amount: int) -> None:
    """Staff: a buyer's refund request waits for a decision."""
    outbox.record(
        session,
        kind=Kind.refund_requested,
        event_key=f"refund-request:{request_id}",
        audiences=[outbox.to_staff()],
        payload={"reference": order.reference_code, "amount": amount, "currency": order.currency},
    )


def refund_decided(session: Session, order: Order, *, refund_id: int, amount: int) -> None:
    placed = _placed_notice(session, order)
    language = str(placed["language"]) if placed.get("language") else None
    payload = _basics(order, str(placed.get("path", f"/orders/{order.id}")))
    payload["amount"] = amount
    outbox.record(
        session,
        kind=Kind.refund_decided,
        event_key=f"refund:{refund_id}",
        audiences=[_buyer(order, language)],
        payload=payload,
    )
