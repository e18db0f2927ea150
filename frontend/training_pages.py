"""Training pages: programme list and detail (public), apply (farmer, phone), my trainings,
staff enrolment management with attendance, and the outcome report with a server-drawn SVG chart.

Labels go through gettext (`_()`, `N_()` tables here); programme titles through `T(value)`. Refusals from the services (no
seats, a fund too small, a missing attendance) are shown on the same page with their detail.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, actor_of
from api.models import User
from api.policies import training_config
from core.actor import Actor
from core.errors import DomainError, Forbidden, Unauthorized
from frontend.confirmations import ConfirmedForm, confirm_page
from frontend.confirmations import confirmed as is_confirmed
from frontend.csrf import CsrfDep
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, render
from ledger import service as ledger
from training import service
from training.config import TrainingConfig
from training.financing import funding_account_key
from training.models import EnrolmentStatus, FundingSource, ProgrammeStatus, Repayment
from training.schemas import EnrolmentCreate, OutcomeReport

router = page_router()

SKILL_NAMES = {
    "ecommerce": N_("E-commerce selling"),
    "organic_farming": N_("Organic farming"),
    "beekeeping": N_("Bee-keeping"),
    "processing": N_("Processing and packaging"),
    "bookkeeping": N_("Book-keeping"),
    "other": N_("Other"),
}
STATUS_NAMES = {
    "applied": N_("Applied"),
    "accepted": N_("Accepted"),
    "attending": N_("Attending"),
    "completed": N_("Completed"),
    "dropped": N_("Dropped"),
}


def _helpers(request: Request) -> dict[str, Any]:
    gettext = translator(request).gettext
    return {
        "skill_name": lambda key: gettext(SKILL_NAMES[key]) if key in SKILL_NAMES else key,
        "status_name": lambda key: gettext(STATUS_NAMES[key]) if key in STATUS_NAMES else key,
    }


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(request, template, {**_helpers(request), **context}, status_code=status_code)


def _today(request: Request) -> date:
    """Today where the reader is (settings.timezone), not where the server's clock is."""
    return datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


def _config(request: Request) -> TrainingConfig:
    config = getattr(request.app.state, "training_config", None)
    if config is None:
        config = request.app.state.training_config = training_config(request.app.state.settings)
    return config


def _signed_in(user: User | None) -> Actor:
    if user is None:
        raise Unauthorized("Sign in first.")
    return actor_of(user)


def _staff(user: User | None) -> Actor:
    actor = _signed_in(user)
    if not actor.reads_all:
        raise Forbidden("This page is for staff.")
    return actor


# Public: programmes


@router.get("/training", response_class=HTMLResponse)
def programme_list(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    actor = actor_of(user)
    found = service.list_programmes(session, actor=actor, status=None, after_id=None, limit=200)
    items = [service.programme_read(session, p, actor=actor) for p in found]
    return _page(request, "training/list.html", {"items": items})


def _detail(
    request: Request,
    session: Session,
    user: User | None,
    programme_id: int,
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    actor = actor_of(user)
    programme = service.visible_programme(session, actor=actor, programme_id=programme_id)
    read = service.programme_read(session, programme, actor=actor)
    mine = _own_enrolment(session, actor, programme_id)
    # One enrolment per household and programme: once applied (even if withdrawn since), the
    # page shows where it stands instead of an Apply button that could only answer 409.
    can_apply = (
        actor.role == "farmer"
        and actor.household_id is not None
        and programme.status == ProgrammeStatus.open
        and mine is None
    )
    return _page(
        request,
        "training/detail.html",
        {"p": read, "can_apply": can_apply, "mine": mine, "error": error},
        status_code,
    )


def _own_enrolment(session: Session, actor: Actor, programme_id: int) -> Any:
    """The signed-in farmer's household's enrolment in this programme, if any (its read)."""
    if actor.role != "farmer" or actor.household_id is None:
        return None
    for enrolment in service.list_for_household(
        session, actor=actor, household_id=actor.household_id, limit=200
    ):
        if enrolment.programme_id == programme_id:
            return service.enrolment_read(session, enrolment)
    return None


@router.get("/training/{programme_id}", response_class=HTMLResponse)
def programme_detail(
    programme_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    return _detail(request, session, user, programme_id)


@router.post("/training/{programme_id}/apply", response_class=HTMLResponse)
async def apply_submit(
    programme_id: int, request: Request, _csrf: CsrfDep, user: WebUserDep, session: SessionDep
) -> Response:
    if user is None:
        return RedirectResponse(f"/login?next=/training/{programme_id}", status_code=303)
    actor = actor_of(user)
    form = await request.form()
    repayment = Repayment.deduction if form.get("repayment") == "deduction" else Repayment.fund
    try:
        service.apply(
            session,
            actor=actor,
            programme_id=programme_id,
            data=EnrolmentCreate(repayment=repayment),
        )
    except DomainError as error:
        if isinstance(error, Forbidden | Unauthorized):
            raise
        session.rollback()
        return _detail(
            request,
            session,
            user,
            programme_id,
            error=problem_message(request, error),
            status_code=error.status_code,
        )
    return RedirectResponse("/me/training", status_code=303)


# A farmer's own trainings


@router.get("/me/training", response_class=HTMLResponse)
def my_training(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/me/training", status_code=303)
    actor = actor_of(user)
    if actor.household_id is None:
        raise Forbidden("This page is for farmers linked to a member household.")
    found = service.list_for_household(
        session, actor=actor, household_id=actor.household_id, limit=200
    )
    items = [service.enrolment_read(session, e) for e in found]
    return _page(request, "training/mine.html", {"items": items})


@router.post("/me/training/{enrolment_id}/drop", response_class=HTMLResponse)
def my_drop(
    enrolment_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    confirmed: ConfirmedForm = "",
) -> Response:
    """Give up an application or a seat, after a confirmation saying it is for good."""
    actor = _signed_in(user)
    enrolment = service.get_visible(session, actor=actor, enrolment_id=enrolment_id)
    if not is_confirmed(confirmed) and enrolment.status in (
        EnrolmentStatus.applied,
        EnrolmentStatus.accepted,
    ):
        gettext = translator(request).gettext
        read = service.enrolment_read(session, enrolment)
        title = by_locale(request, read.programme_title.zh, read.programme_title.en)
        consequences = [
            gettext("You give up your place in %(programme)s.", programme=title),
            gettext("You cannot apply to this programme again afterwards."),
        ]
        if enrolment.status == EnrolmentStatus.accepted:
            consequences.append(gettext("The seat's cost goes back to the fund that paid for it."))
        return confirm_page(
            request,
            title=gettext("Give up this training"),
            consequences=consequences,
            action=f"/me/training/{enrolment_id}/drop",
            fields={},
            button=gettext("Yes, give up my place"),
            back="/me/training",
        )
    service.drop(session, actor=actor, enrolment_id=enrolment_id, reason="withdrawn by the member")
    return RedirectResponse("/me/training", status_code=303)


# Staff: enrolments and attendance


@router.get("/staff/training", response_class=HTMLResponse)
def staff_programmes(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/staff/training", status_code=303)
    actor = _staff(user)
    found = service.list_programmes(session, actor=actor, status=None, after_id=None, limit=200)
    items = [service.programme_read(session, p, actor=actor) for p in found]
    return _page(request, "training/staff_list.html", {"items": items})


def _fund_balance(session: Session, programme: Any, coop_id: int | None) -> dict[str, Any] | None:
    if programme.funding_source == FundingSource.enterprise:
        return None
    if programme.funding_coop_id is None and coop_id is None:
        return None
    key = funding_account_key(programme, member_coop_id=coop_id)
    try:
        amount = ledger.balance(session, key).amount
    except DomainError:
        amount = 0
    return {"key": key, "amount": amount, "currency": programme.currency}


def _manage(
    request: Request,
    session: Session,
    actor: Actor,
    programme_id: int,
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    programme = service.get_programme(session, programme_id)
    read = service.programme_read(session, programme, actor=actor)
    priority = service.priority_list(
        session, actor=actor, programme_id=programme_id, config=_config(request)
    )
    enrolled = [
        service.enrolment_read(session, e)
        for e in service.list_for_programme(
            session, actor=actor, programme_id=programme_id, limit=200
        )
        if e.status != EnrolmentStatus.applied
    ]
    found = {row.coop_id for row in priority} | {row.coop_id for row in enrolled}
    coops: list[int | None] = [*sorted(found)] if found else [None]
    funds = [f for f in (_fund_balance(session, programme, c) for c in coops) if f]
    unique_funds = list({f["key"]: f for f in funds}.values())
    return _page(
        request,
        "training/manage.html",
        {
            "p": read,
            "priority": priority,
            "enrolled": enrolled,
            "funds": unique_funds,
            "today": _today(request),
            "error": error,
        },
        status_code,
    )


@router.get("/staff/training/{programme_id}", response_class=HTMLResponse)
def manage_page(
    programme_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    if user is None:
        return RedirectResponse(f"/login?next=/staff/training/{programme_id}", status_code=303)
    return _manage(request, session, _staff(user), programme_id)


@router.post("/staff/training/{programme_id}/enrolments/{enrolment_id}/{step}")
async def manage_step(
    programme_id: int,
    enrolment_id: int,
    step: str,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
) -> Response:
    actor = _staff(user)
    form = await request.form()
    try:
        if step == "accept":
            service.accept(session, actor=actor, enrolment_id=enrolment_id)
        elif step == "attendance":
            raw = str(form.get("session_id") or "")
            if not raw.isdigit():
                raise DomainError("Choose a session.")
            service.mark_attendance(
                session,
                actor=actor,
                enrolment_id=enrolment_id,
                session_id=int(raw),
                present=form.get("present", "1") == "1",
                today=_today(request),
            )
        elif step == "complete":
            number = str(form.get("certificate_number") or "").strip()
            if not number:
                raise DomainError("Enter the certificate number.")
            service.complete(
                session, actor=actor, enrolment_id=enrolment_id, certificate_number=number
            )
        elif step == "drop":
            service.drop(session, actor=actor, enrolment_id=enrolment_id, reason="by staff")
        else:
            return Response(status_code=404)
    except DomainError as error:
        if isinstance(error, Forbidden | Unauthorized):
            raise
        session.rollback()
        return _manage(
            request,
            session,
            actor,
            programme_id,
            error=problem_message(request, error),
            status_code=error.status_code,
        )
    return RedirectResponse(f"/staff/training/{programme_id}#e{enrolment_id}", status_code=303)


# Outcome report


def chart(report: OutcomeReport) -> dict[str, Any] | None:
    """Bar geometry for the SVG: mean settled income per person, before and after, per group."""
    groups = [("participants", report.participants), ("others", report.non_participants)]
    values = [
        (name, which, money.amount)
        for name, stats in groups
        for which, money in (("before", stats.mean_before), ("after", stats.mean_after))
        if money is not None
    ]
    if not values:
        return None
    top = max(max(v for _n, _w, v in values), 1)
    height, base, width = 160, 180, 46
    bars = []
    for index, (name, which, value) in enumerate(values):
        h = round(height * max(value, 0) / top)
        x = 40 + index * (width + 18) + (20 if index >= 2 else 0)
        bars.append(
            {"group": name, "which": which, "x": x, "y": base - h, "h": h, "w": width, "v": value}
        )
    return {"bars": bars, "base": base, "width": 40 + len(bars) * (width + 18) + 40}


@router.get("/training/{programme_id}/outcomes", response_class=HTMLResponse)
def outcomes_page(
    programme_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    actor = actor_of(user)
    programme = service.visible_programme(session, actor=actor, programme_id=programme_id)
    report = service.programme_report(
        session, actor=actor, programme_id=programme_id, config=_config(request)
    )
    return _page(
        request,
        "training/outcomes.html",
        {
            "p": service.programme_read(session, programme, actor=actor),
            "r": report,
            "chart": chart(report),
        },
    )


def install_training_pages(app: FastAPI) -> None:
    app.include_router(router)
