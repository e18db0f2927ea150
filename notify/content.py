"""The words of each message, in the recipient's language, from the gettext catalog.

A message is a subject, a few lines, and a link built from the public base URL (never from a
request's Host). Money is integer minor units, formatted as on the pages; times in the
configured zone.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from babel.dates import format_date, format_datetime

from core.money import format_minor
from core.time import to_reader_zone
from notify.config import Payee
from notify.i18n import babel_locale, translations_for
from notify.kinds import Kind


@dataclass(frozen=True)
class Message:
    subject: str
    lines: list[str]
    link: str  # absolute URL ("" when there is nothing to open)
    link_label: str

    def text(self) -> str:
        parts = [self.subject, "", *self.lines]
        if self.link:
            parts += ["", f"{self.link_label}: {self.link}"]
        return "\n".join(parts) + "\n"

    def sms_text(self) -> str:
        return " ".join([self.subject, *self.lines[:1], self.link]).strip()


@dataclass(frozen=True)
class Context:
    public_url: str
    timezone: str
    payee: Payee | None = None


class Words:
    """gettext and formatters for one language."""

    def __init__(self, language: str, context: Context) -> None:
        self.language = language
        self.context = context
        self._translations = translations_for(language)
        self._locale = babel_locale(language)

    def __call__(self, message: str, **values: object) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def money(self, amount: int, currency: str) -> str:
        return format_minor(amount, currency, self.language)  # as on the pages

    def time(self, iso: str) -> str:
        moment = to_reader_zone(datetime.fromisoformat(iso), self.context.timezone)
        return str(format_datetime(moment, format="medium", locale=self._locale))

    def day(self, iso: str) -> str:
        return str(format_date(date.fromisoformat(iso), format="medium", locale=self._locale))

    def url(self, path: str) -> str:
        return self.context.public_url.rstrip("/") + path if path else ""


Render = Callable[[Words, Mapping[str, Any]], Message]


def _payee(_: Words, p: Mapping[str, Any]) -> Payee | None:
    """The order's own payee (a cooperative that receives directly), else the marketplace's."""
    own = p.get("payee")
    if isinstance(own, Mapping) and own.get("name") and own.get("account"):
        return Payee(
            name=str(own["name"]), bank=str(own.get("bank") or ""), account=str(own["account"])
        )
    return _.context.payee


def _order_placed(_: Words, p: Mapping[str, Any]) -> Message:
    total = _.money(p["amount"], p["currency"])
    lines = [_("Order %(reference)s, total %(total)s.", reference=p["reference"], total=total)]
    if p.get("payment_method") == "bank_transfer":
        lines.append(
            _(
                "Please transfer %(total)s and write the reference %(reference)s with the payment.",
                total=total,
                reference=p["reference"],
            )
        )
        payee = _payee(_, p)
        if payee is not None:
            lines.append(_("Payee: %(name)s", name=payee.name))
            if payee.bank:
                lines.append(_("Bank: %(bank)s", bank=payee.bank))
            lines.append(_("Account: %(account)s", account=payee.account))
        if p.get("pay_by"):
            lines.append(_("Please pay by %(time)s.", time=_.time(p["pay_by"])))
    elif p.get("payment_method") == "cash_on_delivery":
        lines.append(_("You pay %(total)s in cash on delivery.", total=total))
    return Message(
        _("Thank you for your order %(reference)s", reference=p["reference"]),
        lines,
        _.url(p.get("path", "")),
        _("Your order (keep this link)"),
    )


def _order_paid(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Payment received for order %(reference)s", reference=p["reference"]),
        [_("We received %(total)s.", total=_.money(p["amount"], p["currency"]))],
        _.url(p.get("path", "")),
        _("Your order"),
    )


def _order_shipped(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Order %(reference)s is on its way", reference=p["reference"]),
        [_("The cooperative has shipped your order.")],
        _.url(p.get("path", "")),
        _("Your order"),
    )


def _order_delivered(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Order %(reference)s is delivered", reference=p["reference"]),
        [_("Thank you. You can see where your money went on the order page.")],
        _.url(p.get("path", "")),
        _("Your order"),
    )


def _share_credited(_: Words, p: Mapping[str, Any]) -> Message:
    share = _.money(p["amount"], p["currency"])
    return Message(
        _("Your share of %(share)s is credited", share=share),
        [_("A sale was settled: %(share)s is credited to your household.", share=share)],
        _.url("/me/income"),
        _("My income"),
    )


def _refund_decided(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Refund for order %(reference)s", reference=p["reference"]),
        [_("%(amount)s is refunded to you.", amount=_.money(p["amount"], p["currency"]))],
        _.url(p.get("path", "")),
        _("Your order"),
    )


def _payout_paid(_: Words, p: Mapping[str, Any]) -> Message:
    amount = _.money(p["amount"], p["currency"])
    return Message(
        _("Payout of %(amount)s paid", amount=amount),
        [_("%(amount)s was paid out to your household.", amount=amount)],
        _.url("/me/income"),
        _("My income"),
    )


def _payout_failed(_: Words, p: Mapping[str, Any]) -> Message:
    amount = _.money(p["amount"], p["currency"])
    return Message(
        _("Payout of %(amount)s failed", amount=amount),
        [_("The payout could not be made; the money stays on your household's balance.")],
        _.url("/me/income"),
        _("My income"),
    )


def _enrolment_accepted(_: Words, p: Mapping[str, Any]) -> Message:
    title = p.get("title_en") if _.language == "en" and p.get("title_en") else p["title_zh"]
    return Message(
        _("Your place in %(programme)s is confirmed", programme=title),
        [_("Your seat is paid for; see the sessions on your trainings page.")],
        _.url("/me/training"),
        _("My trainings"),
    )


def _hearing_opened(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("A change of the share rule is proposed"),
        [
            _(
                "Comments are open until %(day)s; the vote ends on %(end)s.",
                day=_.day(p["comment_until"]),
                end=_.day(p["vote_until"]),
            ),
        ],
        _.url(f"/hearings/{p['hearing_id']}"),
        _("Read and comment"),
    )


def _refund_requested(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("A refund request waits: order %(reference)s", reference=p["reference"]),
        [_("%(amount)s asked.", amount=_.money(p["amount"], p["currency"]))],
        _.url("/staff/refund-requests"),
        _("Refund requests"),
    )


def _alert_raised(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("A household needs attention: %(code)s", code=p["member_code"]),
        [_("Monitoring raised an alert on %(day)s.", day=_.day(p["as_of"]))],
        _.url(f"/staff/alerts/{p['alert_id']}"),
        _("Open the alert"),
    )


def _password_reset_code(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Your Hezuo code: %(code)s", code=p["code"]),
        [
            _(
                "It is valid for %(minutes)s minutes. Nobody from Hezuo will ask you for it.",
                minutes=p["minutes"],
            )
        ],
        "",
        "",
    )


def _plan_review_proposed(_: Words, p: Mapping[str, Any]) -> Message:
    first = not p.get("has_plan")
    return Message(
        _("Plan review proposed: %(code)s", code=p["member_code"]),
        [
            _("Monitoring raised an alert on %(day)s.", day=_.day(p["as_of"])),
            _("This household has no plan yet: open one with them.")
            if first
            else _("Review this household's plan with them."),
        ],
        _.url(f"/social-work/households/{p['household_id']}"),
        _("Open the plan"),
    )


def _payout_details_changed(_: Words, p: Mapping[str, Any]) -> Message:
    return Message(
        _("Your payout details were changed"),
        [
            _(
                "From %(time)s your payouts go to the account ending %(tail)s.",
                time=_.time(p["changed_at"]),
                tail=p["account_tail"] or "-",
            ),
            _("If you did not ask for this, call your cooperative at once."),
        ],
        _.url("/me/income"),
        _("My income"),
    )


RENDERERS: dict[str, Render] = {
    Kind.order_placed: _order_placed,
    Kind.order_paid: _order_paid,
    Kind.order_shipped: _order_shipped,
    Kind.order_delivered: _order_delivered,
    Kind.share_credited: _share_credited,
    Kind.refund_decided: _refund_decided,
    Kind.payout_paid: _payout_paid,
    Kind.payout_failed: _payout_failed,
    Kind.payout_details_changed: _payout_details_changed,
    Kind.enrolment_accepted: _enrolment_accepted,
    Kind.hearing_opened: _hearing_opened,
    Kind.refund_requested: _refund_requested,
    Kind.alert_raised: _alert_raised,
    Kind.password_reset_code: _password_reset_code,
    Kind.plan_review_proposed: _plan_review_proposed,
}


def render(kind: str, payload: str | Mapping[str, Any], language: str, context: Context) -> Message:
    data = json.loads(payload) if isinstance(payload, str) else payload
    return RENDERERS[kind](Words(language, context), data)
