"""What the order page shows: the order as its reader may see it, what they may do with it now,
where a transfer goes, and the receipt of how the money was shared out."""

import uuid
from typing import Any

from fastapi import Request
from sqlmodel import Session, col, select

from api.deps import actor_of
from api.models import User
from api.settings import Settings
from catalog.models import Cooperative
from frontend.i18n import by_locale, translator
from frontend.order_common import METHOD_NAMES, STATUS_NAMES
from frontend.rendering import to_major
from governance import feedback
from ledger.share_rules import SHARE_PARTS, PartDefinition
from orders import refunds, views
from orders.bank_transfer import transfer_account
from orders.lifecycle import payments_of
from orders.models import Order
from orders.payment_methods import method_of
from orders.receipts import receipt


def order_context(
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
    method = method_of(order.payment_method)
    refundable = refunds.refundable(payments_of(session, order.id or 0))
    return {
        "order": body,
        "token": body.access_token,
        "coops": {cid: by_locale(request, c.name_zh, c.name_en) for cid, c in coops.items()},
        "receipt_rows": _receipt_rows(request, session, order),
        "status_names": STATUS_NAMES,
        "method_names": METHOD_NAMES,
        "method": method,
        "is_buyer": is_buyer,
        "can_cancel": is_buyer and _cancellable_now(order, body),
        "can_confirm": is_buyer and _confirmable_now(order, body),
        "can_pay_card": is_buyer and _payable_online_now(order, settings),
        "is_staff": actor.is_staff,
        "transfer_to": transfer_account(session, order, marketplace=settings.bank_transfer_to)
        if method.payee == "bank_account"
        else None,
        "rateable": feedback.rateable_line_ids(session, order, actor.user_id),
        "refundable": refundable,
        "refundable_major": to_major(refundable, order.currency),
        "idempotency_key": uuid.uuid4().hex,
    }


def _cancellable_now(order: Order, body: Any) -> bool:
    shipped_any = any(line.shipped for line in body.lines)
    return not shipped_any and order.status in ("pending_payment", "paid", "partially_refunded")


def _confirmable_now(order: Order, body: Any) -> bool:
    """Paid in full and on its way (also after a partial refund of a shipped order)."""
    if body.payment["amount_due"]["amount"] != 0:
        return False
    if order.status == "shipped":
        return True
    return bool(
        order.status == "partially_refunded" and order.shipped_at and not order.delivered_at
    )


def _payable_online_now(order: Order, settings: Settings) -> bool:
    return (
        method_of(order.payment_method).online
        and order.status == "pending_payment"
        and settings.stripe_enabled
    )


def _receipt_share_part(kind: str, rest: str) -> PartDefinition | None:
    """The share part a receipt party names: `fund:{fund}:{coop}` or a part's key (orders.receipts)."""
    for part in SHARE_PARTS:
        if part.per_coop and kind == "fund" and rest.partition(":")[0] == part.fund:
            return part
        if not part.per_coop and not part.per_household and kind == part.key:
            return part
    return None


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
