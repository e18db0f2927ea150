"""The order page's confirmation steps: what an irreversible action does with the money, before
it is done (frontend/confirmations.py shows the page and posts the form again with confirmed=yes).

One mechanism: each step is a `Step` (the action's path, its title and button msgids, and what
it does to this order's money); `confirm(...)` renders any of them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from frontend.confirmations import confirm_page
from frontend.i18n import N_, translator
from frontend.rendering import money_formatter
from ledger.share_rules import SHARE_PARTS
from orders import refunds
from orders.lifecycle import payments_of
from orders.models import Order
from orders.previews import settlement_preview


@dataclass(frozen=True)
class Said:
    """What a step's texts are given: the translations, money formatting, the order, an amount."""

    gettext: Callable[..., str]
    money: Callable[[int], str]
    session: Session
    order: Order
    amount: int  # the refund's amount (0 for the other steps)


@dataclass(frozen=True)
class Step:
    action: str  # the order's path after /orders/{id}/
    title: str  # msgid
    button: str  # msgid (may use %(amount)s)
    consequences: Callable[[Said], list[str]]


def _delivery(said: Said) -> list[str]:
    _ = said.gettext
    preview = settlement_preview(said.session, said.order)
    lines = [
        _("You confirm that the goods of order %(number)s arrived.", number=said.order.id),
        _(
            "The %(total)s held for this order is then shared out at once:",
            total=said.money(preview.total),
        ),
    ]
    for part in SHARE_PARTS:
        if preview.parts[part.key]:
            lines.append(f"· {_(part.description)}: {said.money(preview.parts[part.key])}")
    lines.append(
        _("After that, a refund needs staff to take the shares back. Check the goods first.")
    )
    return lines


def _cancellation(said: Said) -> list[str]:
    _ = said.gettext
    back_amount = refunds.refundable(payments_of(said.session, said.order.id or 0))
    lines = [
        _("Order %(number)s is cancelled and its goods go back on sale.", number=said.order.id)
    ]
    if back_amount:
        lines.append(
            _(
                "The %(amount)s you paid is refunded: a card payment goes back to the card; "
                "for a bank transfer, staff send the money back to you.",
                amount=said.money(back_amount),
            )
        )
    else:
        lines.append(_("Nothing has been paid, so no money moves."))
    return lines


def _refund(said: Said) -> list[str]:
    _ = said.gettext
    still = refunds.refundable(payments_of(said.session, said.order.id or 0))
    lines = [
        _(
            "%(amount)s of order %(number)s goes back to the buyer (%(left)s can still be "
            "refunded).",
            amount=said.money(said.amount),
            number=said.order.id,
            left=said.money(still),
        ),
        _(
            "A card payment is refunded through the card provider; for a bank transfer or cash, "
            "send the money yourself and give its bank reference."
        ),
    ]
    if said.order.settlement_entry_id is not None:
        lines.append(
            _(
                "The order is already settled: the households', funds' and enterprise's shares "
                "are taken back in proportion."
            )
        )
    return lines


DELIVERY = Step(
    "deliver",
    N_("I received the goods"),
    N_("Yes, I received them: share out the money"),
    _delivery,
)
CANCELLATION = Step("cancel", N_("Cancel the order"), N_("Yes, cancel the order"), _cancellation)
REFUND = Step("refund", N_("Refund"), N_("Yes, refund %(amount)s"), _refund)


def confirm(
    request: Request,
    session: Session,
    order: Order,
    step: Step,
    *,
    fields: dict[str, str | None],
    back: str,
    amount: int = 0,
) -> Response:
    """The page asking to confirm `step` on `order`; confirming posts `fields` again."""
    gettext = translator(request).gettext
    format_money = money_formatter(translator(request))

    def money(minor: int) -> str:
        return format_money(minor, order.currency)

    said = Said(gettext, money, session, order, amount)
    return confirm_page(
        request,
        title=gettext(step.title),
        consequences=step.consequences(said),
        action=f"/orders/{order.id}/{step.action}",
        fields=fields,
        button=gettext(step.button, amount=money(amount)),
        back=back,
    )
