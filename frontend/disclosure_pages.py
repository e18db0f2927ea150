"""Staff publish a cooperative's monthly disclosure from a page (the API's rules, no JavaScript).

Final for a closed month, provisional (labelled so everywhere) for a month still open; a final
disclosure of an open month, a provisional one of a closed month, a month not begun and a second
disclosure of the same month are refused with a translated message and the form as it was typed.
Publishing takes two steps: the form answers with a confirmation page listing the figures that
will become public (computed now, from the ledger), which posts the same fields with
`confirmed=yes`. Only staff and administrators publish; a visitor is sent to sign in, any other
role gets the 403 page.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep
from catalog.models import Cooperative
from core.errors import DomainError
from frontend.confirmations import confirmed
from frontend.csrf import CsrfDep
from frontend.flash import redirect_with_notice
from frontend.forms import refuse
from frontend.guards import StaffPageDep
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import page_router, render
from governance import disclosures
from governance.errors import AlreadyPublished
from governance.models import Disclosure
from ledger import service as ledger

router = page_router()

PATH = "/staff/disclosures/new"
KINDS = ("final", "provisional")
MSG_FINAL_OPEN = N_(
    "%(period)s is still open: entries can still be dated in it, so its figures may change. "
    "Close the month first (reconciliation) for a final disclosure, or publish it as provisional."
)
MSG_PROVISIONAL_CLOSED = N_(
    "%(period)s is closed: its figures can no longer change, so publish it as final."
)
MSG_NOT_BEGUN = N_("%(period)s has not begun; a month can be disclosed from its first day on.")
MSG_BAD_PERIOD = N_("Write the month as YYYY-MM, e.g. 2026-11.")
MSG_NO_COOP = N_("Choose a cooperative from the list.")
MSG_NO_KIND = N_("Choose final or provisional.")
MSG_ALREADY = N_(
    "The %(period)s disclosure of this cooperative was already published; a published "
    "disclosure never changes."
)
MSG_PUBLISHED = N_("The %(period)s disclosure is published.")
MSG_PUBLISHED_PROVISIONAL = N_(
    "The %(period)s disclosure is published as provisional: it says so on every page, JSON and CSV."
)


@dataclass(frozen=True)
class PublishForm:
    """What was typed, kept as text so a refused form shows it again."""

    coop_id: str
    period: str
    kind: str


class Refusal(Exception):
    """A form that cannot be published: its translated message and HTTP status."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _reader_today(request: Request) -> date:
    return datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def _last_month(today: date) -> str:
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1).strftime("%Y-%m")


def _coops(session: Session) -> list[Cooperative]:
    return list(session.scalars(select(Cooperative).order_by(col(Cooperative.id))).all())


def _form_page(
    request: Request,
    session: Session,
    form: PublishForm,
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "governance/publish.html",
        {
            "form": form,
            "coops": _coops(session),
            "coop_name": lambda c: by_locale(request, c.name_zh, c.name_en),
            "closed_through": ledger.closed_through(session),
            "error": error,
        },
        status_code=status_code,
    )


@router.get(PATH, response_class=HTMLResponse)
def publish_form(
    request: Request,
    _staff: StaffPageDep,
    session: SessionDep,
    coop: Annotated[str, Query(max_length=20)] = "",
    period: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    month = period or _last_month(_reader_today(request))
    kind = "final" if ledger.is_closed(session, month) else "provisional"
    return _form_page(request, session, PublishForm(coop, month, kind))


def _checked(
    request: Request, session: Session, form: PublishForm
) -> tuple[Cooperative, disclosures.Month, bool]:
    """The cooperative, the month and whether it is provisional; a translated Refusal if not."""
    t = translator(request).gettext
    coop = session.get(Cooperative, int(form.coop_id)) if form.coop_id.isdigit() else None
    if coop is None:
        raise Refusal(t(MSG_NO_COOP))
    if form.kind not in KINDS:
        raise Refusal(t(MSG_NO_KIND))
    try:
        month = disclosures.month_of(form.period.strip())
    except DomainError:
        raise Refusal(t(MSG_BAD_PERIOD)) from None
    if month.first > _reader_today(request):
        raise Refusal(t(MSG_NOT_BEGUN, period=month.period))
    closed = ledger.is_closed(session, month.period)
    provisional = form.kind == "provisional"
    if not closed and not provisional:
        raise Refusal(t(MSG_FINAL_OPEN, period=month.period))
    if closed and provisional:
        raise Refusal(t(MSG_PROVISIONAL_CLOSED, period=month.period))
    if _published(session, coop.id or 0, month.period, request.app.state.settings.currency):
        raise Refusal(t(MSG_ALREADY, period=month.period), status_code=409)
    return coop, month, provisional


def _published(session: Session, coop_id: int, period: str, currency: str) -> bool:
    return (
        session.scalars(
            select(Disclosure.id).where(
                col(Disclosure.coop_id) == coop_id,
                col(Disclosure.period) == period,
                col(Disclosure.currency) == currency,
            )
        ).first()
        is not None
    )


def _confirm_page(
    request: Request,
    form: PublishForm,
    coop: Cooperative,
    report: dict[str, Any],
    provisional: bool,
) -> HTMLResponse:
    return render(
        request,
        "governance/publish_confirm.html",
        {
            "form": form,
            "coop": coop,
            "coop_label": by_locale(request, coop.name_zh, coop.name_en),
            "r": report,
            "rows": disclosures.report_rows(report),
            "provisional": provisional,
            "currency": report["currency"],
            "count_figures": disclosures.COUNT_FIGURES,
        },
    )


@router.post(PATH, response_class=HTMLResponse)
def publish_disclosure(
    request: Request,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    coop_id: Annotated[str, Form(max_length=20)] = "",
    period: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    confirmed_form: Annotated[str, Form(alias="confirmed", max_length=3)] = "",
) -> Response:
    """Check the form, ask to confirm with the figures that will be public, then publish."""
    form = PublishForm(coop_id.strip(), period.strip(), kind)
    try:
        coop, month, provisional = _checked(request, session, form)
        if not confirmed(confirmed_form):
            report = disclosures.build_report(
                session,
                coop_id=coop.id or 0,
                period=month.period,
                currency=settings.currency,
                min_group=settings.disclosure_min_group,
            )
            return _confirm_page(request, form, coop, report, provisional)
        disclosure = disclosures.publish(
            session,
            coop_id=coop.id or 0,
            period=month.period,
            currency=settings.currency,
            published_by=f"user:{user.id}",
            today=_reader_today(request),
            provisional=provisional,
            min_group=settings.disclosure_min_group,
        )
    except Refusal as refusal:
        return _form_page(
            request, session, form, error=refusal.message, status_code=refusal.status_code
        )
    except AlreadyPublished:  # published meanwhile, by another tab
        message = translator(request).gettext(MSG_ALREADY, period=form.period)
        refuse(lambda: _form_page(request, session, form, error=message, status_code=409))
    except DomainError as error:
        problem, status = problem_message(request, error), error.status_code
        refuse(lambda: _form_page(request, session, form, error=problem, status_code=status))
    t = translator(request).gettext
    notice = MSG_PUBLISHED_PROVISIONAL if provisional else MSG_PUBLISHED
    return redirect_with_notice(
        request, f"/disclosures/{disclosure.id}", notice=t(notice, period=month.period)
    )


def install_disclosure_pages(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["install_disclosure_pages", "router"]
