"""Household development plan pages (no JavaScript): the farmer's "my plan" with an agree button,
the social worker's households and a household's plan with the plan and review forms.

Who sees what follows governance/plans.py: a plan is shown only to its household, the social
workers assigned to it, its cooperative's manager and staff. No money controls here.
"""

from datetime import date
from typing import Annotated, Any, NoReturn

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.deps import SessionDep, actor_of
from api.models import User
from core.actor import Actor
from core.errors import Invalid
from core.time import to_reader_zone
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import FarmerPageDep, SocialWorkerPageDep
from frontend.i18n import N_
from frontend.plan_chart import Chart, build_chart, monthly_target
from frontend.problems import problem_message, validation_summary
from frontend.rendering import page_router, render, to_minor
from governance import monitoring, plans
from governance.errors import GovernanceNotFound
from ledger.base import utcnow
from training.models import Programme

router = page_router()
ALERT_REASONS = {
    "below_line": N_("Income below the line"),
    "income_drop": N_("Sharp drop in income"),
}
GOAL_KINDS = {
    "income": N_("Income"),
    "skills": N_("Skills"),
    "product": N_("A product"),
    "health": N_("Health expenses"),
    "schooling": N_("Schooling expenses"),
}


def _today(request: Request) -> date:
    return to_reader_zone(utcnow(), request.app.state.settings.timezone).date()


def chart_of(plan: plans.PlanRead | None) -> Chart | None:
    if plan is None:
        return None
    target = monthly_target([g.target_per_capita for g in plan.goals if g.kind == "income"])
    return build_chart(plan.months, target)


def _plan_or_none(session: Session, actor: Actor, household_id: int, today: date) -> Any:
    try:
        return plans.read_plan(session, actor=actor, household_id=household_id, today=today)
    except GovernanceNotFound:
        return None


# --- the household ---------------------------------------------------------------------------


@router.get("/plan", response_class=HTMLResponse)
def my_plan(request: Request, farmer: FarmerPageDep, session: SessionDep) -> Response:
    plan = _plan_or_none(session, farmer.actor, farmer.household_id, _today(request))
    context = {"plan": plan, "kinds": GOAL_KINDS, "chart": chart_of(plan)}
    return render(request, "plans/mine.html", context)


@router.post("/plan/agree")
def agree_to_my_plan(_csrf: CsrfDep, farmer: FarmerPageDep, session: SessionDep) -> Response:
    plans.agree(session, actor=farmer.actor, household_id=farmer.household_id)
    return RedirectResponse("/plan", status_code=303)


# --- the social worker -----------------------------------------------------------------------


@router.get("/social-work", response_class=HTMLResponse)
def worker_households(
    request: Request, worker: SocialWorkerPageDep, session: SessionDep
) -> Response:
    assert worker.id is not None
    served = plans.households_of_worker(session, worker.id)
    households = [
        {"household": h, "has_plan": plans.plan_of(session, h.id or 0) is not None} for h in served
    ]
    by_id = {h.id: h for h in served}
    alerts = [
        {
            "alert": a,
            "household": by_id[a.household_id],
            "has_plan": plans.plan_of(session, a.household_id) is not None,
        }
        for a in monitoring.alerts_for_worker(session, actor=actor_of(worker))
        if a.household_id in by_id
    ]
    context = {"households": households, "alerts": alerts, "reasons": ALERT_REASONS}
    return render(request, "plans/households.html", context)


def open_programmes(session: Session) -> list[Programme]:
    """Programmes a goal may link to: those taking or training people now."""
    query = (
        select(Programme)
        .where(col(Programme.status).in_(("open", "closed")))
        .order_by(col(Programme.id))
    )
    return list(session.scalars(query))


def _plan_page(
    request: Request,
    session: Session,
    user: User,
    household_id: int,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor = actor_of(user)
    today = _today(request)
    household = plans.visible_household(session, actor, household_id)
    plan = _plan_or_none(session, actor, household_id, today)
    context = {
        "household": household,
        "plan": plan,
        "chart": chart_of(plan),
        "kinds": GOAL_KINDS,
        "may_write": plans.is_assigned(session, actor, household_id),
        "programmes": open_programmes(session),
        "values": values or {},
        "error": error,
    }
    return render(request, "plans/household.html", context, status_code=status_code)


@router.get("/social-work/households/{household_id}", response_class=HTMLResponse)
def household_plan(
    household_id: int, request: Request, worker: SocialWorkerPageDep, session: SessionDep
) -> Response:
    return _plan_page(request, session, worker, household_id)


def _refuse_plan(
    request: Request,
    session: Session,
    worker: User,
    household_id: int,
    values: dict[str, str],
    error: ValidationError | Invalid,
) -> NoReturn:
    """The plan page again with what was typed and why it was refused; nothing is stored."""
    if isinstance(error, Invalid):
        message = problem_message(request, error)
    else:
        message = validation_summary(request, error.errors())
    refuse(
        lambda: _plan_page(
            request, session, worker, household_id, values=values, error=message, status_code=422
        )
    )


def _goal(values: dict[str, str]) -> plans.GoalCreate:
    target = to_minor(values["target"], "CNY") if values["target"].strip() else None
    if values["target"].strip() and target is None:
        raise Invalid(
            "The target is not an amount in yuan.",
            msgid=N_("The target is not an amount in yuan."),
        )
    programme = values.get("programme_id", "")
    return plans.GoalCreate(
        kind=values["kind"],
        description=values["description"],
        target_per_capita=target,
        target_on=values["target_on"] or None,
        programme_id=int(programme) if programme.isdigit() else None,
    )


@router.post("/social-work/households/{household_id}", response_class=HTMLResponse)
def save_plan(  # noqa: PLR0913 - form fields
    household_id: int,
    request: Request,
    _csrf: CsrfDep,
    worker: SocialWorkerPageDep,
    session: SessionDep,
    kind: Annotated[str, Form(max_length=16)],
    description: Annotated[str, Form(max_length=500)] = "",
    target: Annotated[str, Form(max_length=20)] = "",
    target_on: Annotated[str, Form(max_length=10)] = "",
    review_on: Annotated[str, Form(max_length=10)] = "",
    programme_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    values = {
        "kind": kind,
        "description": description,
        "target": target,
        "target_on": target_on,
        "review_on": review_on,
        "programme_id": programme_id,
    }
    actor, today = actor_of(worker), _today(request)
    try:
        goal = _goal(values)
        if plans.plan_of(session, household_id) is None:
            data = plans.PlanCreate(review_on=review_on, goals=[goal])
            plans.create_plan(
                session, actor=actor, household_id=household_id, data=data, today=today
            )
        else:
            plans.add_goal(session, actor=actor, household_id=household_id, goal=goal, today=today)
    except (ValidationError, Invalid) as error:
        _refuse_plan(request, session, worker, household_id, values, error)
    return RedirectResponse(f"/social-work/households/{household_id}", status_code=303)


@router.post("/social-work/households/{household_id}/reviews", response_class=HTMLResponse)
def save_review(
    household_id: int,
    request: Request,
    _csrf: CsrfDep,
    worker: SocialWorkerPageDep,
    session: SessionDep,
    note: Annotated[str, Form(max_length=2000)] = "",
    next_review_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {"note": note, "next_review_on": next_review_on}
    try:
        data = plans.ReviewCreate(note=note, next_review_on=next_review_on)
        plans.record_review(
            session,
            actor=actor_of(worker),
            household_id=household_id,
            data=data,
            today=_today(request),
        )
    except (ValidationError, Invalid) as error:
        _refuse_plan(request, session, worker, household_id, values, error)
    return RedirectResponse(f"/social-work/households/{household_id}", status_code=303)


def install_plan_pages(app: FastAPI) -> None:
    app.include_router(router)
