"""A household's feedback on the help it received, and a cooperative's public impact page.

`/me/feedback`: the farmer's completed trainings not rated yet and the services it may rate this
month, each with a 1–5 rating and a comment (anonymous to the provider; governance/
beneficiary_feedback.py). `/coops/{id}/impact`: the figures of governance/impact.py over twelve
months, a small bar chart of households above the income line, public where privacy allows.
"""

from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import SessionDep, actor_of
from api.models import User
from catalog.models import Cooperative
from core.errors import DomainError, Forbidden, NotFound
from frontend.community_forms import refusal, today_of
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import SignedInDep
from frontend.i18n import N_, by_locale
from frontend.rendering import WebUserDep, page_router, render
from governance import beneficiary_feedback, impact

router = page_router()
SERVICES = {
    "cooperative": N_("The cooperative's services"),
    "enterprise": N_("The social enterprise's services"),
    "social_work": N_("Social work"),
}
CHART_WIDTH = 300


def _farmer(user: User) -> int:
    if user.role != "farmer" or user.household_id is None:
        raise Forbidden("Only a member household gives feedback on the help it received.")
    return user.household_id


def _feedback_page(
    request: Request,
    session: Session,
    household_id: int,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = today_of(request)
    rated = beneficiary_feedback.rated_services(session, household_id, today)
    context = {
        "trainings": beneficiary_feedback.rateable_enrolments(session, household_id),
        "services": {k: v for k, v in SERVICES.items() if k not in rated},
        "values": values or {},
        "error": error,
    }
    return render(request, "community/feedback.html", context, status_code=status_code)


@router.get("/me/feedback", response_class=HTMLResponse)
def my_feedback(request: Request, user: SignedInDep, session: SessionDep) -> Response:
    return _feedback_page(request, session, _farmer(user))


@router.post("/me/feedback", response_class=HTMLResponse)
def give_feedback(  # noqa: PLR0913 - form fields
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    subject: Annotated[str, Form(max_length=40)] = "",
    stars: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    household_id = _farmer(user)
    values = {"subject": subject, "stars": stars, "comment": comment}
    kind, _, key = subject.partition(":")
    try:
        data = beneficiary_feedback.FeedbackCreate(
            enrolment_id=int(key) if kind == "enrolment" and key.isdigit() else None,
            service=key if kind == "service" else None,
            stars=int(stars) if stars.isdigit() else 0,
            comment=comment,
        )
        beneficiary_feedback.give(
            session,
            actor=actor_of(user),
            household_id=household_id,
            data=data,
            today=today_of(request),
        )
    except (DomainError, ValidationError) as error:
        problem, status = refusal(request, error)
        refuse(
            lambda: _feedback_page(
                request,
                session,
                household_id,
                values=values,
                error=problem,
                status_code=status,
            )
        )
    return RedirectResponse("/me/feedback?thanks=1", status_code=303)


# --- Impact -----------------------------------------------------------------------------------


def _bars(months: list[dict[str, Any]], households: int) -> list[dict[str, Any]]:
    """One bar per month: households above the line against all (none when withheld)."""
    bars = []
    for index, month in enumerate(months):
        above = month["income"]["above_line"]
        width = 0 if above is None or not households else above * CHART_WIDTH // households
        bars.append({"y": index * 22, "width": width, "label": month["period"], "value": above})
    return bars


@router.get("/coops/{coop_id}/impact", response_class=HTMLResponse)
def impact_page(coop_id: int, request: Request, user: WebUserDep, session: SessionDep) -> Response:
    coop = session.get(Cooperative, coop_id)
    if coop is None:
        raise NotFound(f"No cooperative {coop_id}.")
    figures = impact.impact(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        today=today_of(request),
        min_group=request.app.state.settings.disclosure_min_group,
    )
    context = {
        "coop": coop,
        "coop_name": by_locale(request, coop.name_zh, coop.name_en),
        "f": figures,
        "bars": _bars(figures["months"], figures["households"]),
        "chart_height": 22 * len(figures["months"]),
    }
    return render(request, "community/impact.html", context)


def install_impact_pages(app: FastAPI) -> None:
    app.include_router(router)
