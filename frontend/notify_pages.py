"""Notification pages: each user's inbox and channel choices, one-click unsubscribe, staff's outbox.

A user sees only the inbox rows addressed to their own user id; only staff see the outbox (e-mail
and SMS rows: waiting, failed, dead) and may send a failed or dead row again. No JavaScript: every
action is a form with its CSRF token (the unsubscribe link is authorised by its signature instead,
because mail clients post it without a page).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep
from api.models import STAFF_ROLES, User
from api.policies import delivery_config
from api.settings import Settings
from frontend.csrf import CsrfDep
from frontend.guards import SignedInDep, StaffPageDep
from frontend.i18n import N_, SUPPORTED_LOCALES, translator
from frontend.rendering import page_router, render
from notify import inbox
from notify.content import Context
from notify.content import render as render_message
from notify.delivery import ready_channels
from notify.kinds import UNSUBSCRIBABLE, Kind
from notify.models import Notification, Status
from notify.unsubscribe import signature_ok

router = page_router()

KIND_NAMES: dict[str, str] = {
    Kind.order_placed: N_("Order placed"),
    Kind.order_paid: N_("Payment received"),
    Kind.order_shipped: N_("Order shipped"),
    Kind.order_delivered: N_("Order delivered"),
    Kind.share_credited: N_("Share credited"),
    Kind.refund_decided: N_("Refund"),
    Kind.payout_paid: N_("Payout paid"),
    Kind.payout_failed: N_("Payout failed"),
    Kind.payout_details_changed: N_("Payout details changed"),
    Kind.enrolment_accepted: N_("Training place confirmed"),
    Kind.hearing_opened: N_("Share-rule hearing opened"),
    Kind.refund_requested: N_("Refund request waiting"),
    Kind.alert_raised: N_("Household alert raised"),
    Kind.password_reset_code: N_("Password reset code"),
    Kind.plan_review_proposed: N_("Plan review proposed"),
}
CHANNEL_NAMES = {"inbox": N_("Inbox"), "email": N_("E-mail"), "sms": N_("SMS")}
STATUS_NAMES = {
    "pending": N_("Waiting"),
    "sent": N_("Sent"),
    "failed": N_("Failed (address refused)"),
    "dead": N_("Gave up (dead letter)"),
}
MSG_SAVED = N_("Your choices are saved.")
MSG_RETRIED = N_("Notification %(id)s will be sent again.")
MSG_UNSUBSCRIBED = N_("You will no longer get these e-mails.")
MSG_BAD_LINK = N_("This unsubscribe link is not valid.")
MSG_BAD_LANGUAGE = N_("Choose a language from the list.")


@dataclass(frozen=True)
class InboxItem:
    id: int
    subject: str
    lines: list[str]
    link: str
    link_label: str
    at: str
    unread: bool


def _when(value: datetime | None, settings: Settings, locale: str) -> str:
    if value is None:
        return ""
    moment = value.astimezone(ZoneInfo(settings.timezone))
    return str(format_datetime(moment, format="short", locale=locale.replace("-", "_")))


def _items(rows: list[Notification], settings: Settings, locale: str) -> list[InboxItem]:
    config = delivery_config(settings)
    context = Context(config.public_url, config.timezone, config.payee)
    items = []
    for row in rows:
        message = render_message(row.kind, row.payload, locale, context)
        items.append(
            InboxItem(
                id=row.id or 0,
                subject=message.subject,
                lines=message.lines,
                link=message.link,
                link_label=message.link_label,
                at=_when(row.created_at, settings, locale),
                unread=row.read_at is None,
            )
        )
    return items


@router.get("/inbox")
def inbox_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: SignedInDep
) -> Response:
    rows = inbox.inbox(session, user.id or 0)
    locale = translator(request).locale
    return render(
        request,
        "notify/inbox.html",
        {"items": _items(rows, settings, locale)},
    )


@router.post("/inbox/read-all")
def read_all(request: Request, _csrf: CsrfDep, session: SessionDep, user: SignedInDep) -> Response:
    inbox.mark_all_read(session, user.id or 0)
    return RedirectResponse("/inbox", status_code=303)


@router.post("/inbox/{notification_id}/read")
def read_one(
    request: Request, notification_id: int, _csrf: CsrfDep, session: SessionDep, user: SignedInDep
) -> Response:
    inbox.mark_read(session, user.id or 0, notification_id)
    return RedirectResponse("/inbox", status_code=303)


# Channel choices and language


@router.get("/me/notifications")
def preferences_page(request: Request, session: SessionDep, user: SignedInDep) -> Response:
    return _preferences(request, session, user, saved=bool(request.query_params.get("saved")))


def _preferences(
    request: Request,
    session: Session,
    user: User,
    *,
    saved: bool = False,
    error: str = "",
    status_code: int = 200,
) -> Response:
    by_kind: dict[str, list[inbox.Choice]] = {}
    for choice in inbox.choices(
        session,
        user.id or 0,
        staff=user.role in STAFF_ROLES,
        social_worker=user.role == "social_worker",
    ):
        by_kind.setdefault(choice.kind, []).append(choice)
    return render(
        request,
        "notify/preferences.html",
        {
            "by_kind": by_kind,
            "kind_names": KIND_NAMES,
            "channel_names": CHANNEL_NAMES,
            "languages": SUPPORTED_LOCALES,
            "msg": MSG_SAVED if saved else "",
            "error": error,
        },
        status_code=status_code,
    )


@router.post("/me/notifications")
def save_preferences(
    request: Request,
    _csrf: CsrfDep,
    session: SessionDep,
    user: SignedInDep,
    on: Annotated[list[str] | None, Form()] = None,
    language: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if language and language not in SUPPORTED_LOCALES:  # the form again, nothing stored
        return _preferences(request, session, user, error=MSG_BAD_LANGUAGE, status_code=422)
    enabled = {tuple(value.split(":", 1)) for value in (on or []) if ":" in value}
    inbox.set_choices(session, user.id or 0, {(k, c) for k, c in enabled})
    if language:
        user.language = language
        session.add(user)
    return RedirectResponse("/me/notifications?saved=1", status_code=303)


# One-click unsubscribe (RFC 8058): the signed link is the authority, no sign-in or CSRF token.


@router.get("/notifications/unsubscribe")
def unsubscribe_page(
    request: Request,
    settings: SettingsDep,
    e: Annotated[str, Query(max_length=254)] = "",
    k: Annotated[str, Query(max_length=40)] = "",
    s: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    ok = k in KIND_NAMES and signature_ok(settings.secret_key, e, k, s)
    return render(
        request,
        "notify/unsubscribe.html",
        {"ok": ok, "kind_name": KIND_NAMES.get(k, ""), "query": request.url.query, "done": False},
        status_code=200 if ok else 400,
    )


@router.post("/notifications/unsubscribe")
def unsubscribe(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    e: Annotated[str, Query(max_length=254)] = "",
    k: Annotated[str, Query(max_length=40)] = "",
    s: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    ok = k in KIND_NAMES and k in UNSUBSCRIBABLE and signature_ok(settings.secret_key, e, k, s)
    if ok:
        for user in session.scalars(select(User).where(col(User.email) == e.lower())):
            inbox.switch_off(session, user.id or 0, k, "email")
    return render(
        request,
        "notify/unsubscribe.html",
        {"ok": ok, "kind_name": KIND_NAMES.get(k, ""), "query": "", "done": ok},
        status_code=200 if ok else 400,
    )


# Staff: the outbox


@router.get("/staff/notifications")
def outbox_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffPageDep,
    status: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    chosen = status if status in STATUS_NAMES else ""
    rows = inbox.outbox(session, status=chosen or None)
    locale = translator(request).locale
    ready = ready_channels(delivery_config(settings))
    return render(
        request,
        "notify/outbox.html",
        {
            "rows": rows,
            "chosen": chosen,
            "summary": inbox.outbox_summary(session),
            "duplicates": inbox.possible_duplicates(session),
            "ready": ready,
            "status_names": STATUS_NAMES,
            "kind_names": KIND_NAMES,
            "channel_names": CHANNEL_NAMES,
            "when": lambda value: _when(value, settings, locale),
            "retryable": (Status.failed.value, Status.dead.value),
            # Only a row number is ever shown, never text from the address.
            "msg": retried
            if (retried := request.query_params.get("retried", "")).isdigit()
            else "",
        },
    )


@router.post("/staff/notifications/{notification_id}/retry")
def retry(
    request: Request, notification_id: int, _csrf: CsrfDep, session: SessionDep, user: StaffPageDep
) -> Response:
    inbox.retry(session, notification_id)
    return RedirectResponse(f"/staff/notifications?retried={notification_id}", status_code=303)


def install_notify_pages(app: FastAPI) -> None:
    app.include_router(router)
