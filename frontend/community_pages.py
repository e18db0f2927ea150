"""Group and community work pages (no JavaScript): consultations (public results once closed,
a member household's answer form), the cooperative's community page for its manager and staff
(groups, consultations, replies), a group's page for those who run it (sessions, attendance,
notes) and the social worker's groups.

Who may do what is decided in governance/groups.py and governance/consultations.py; a refused
form comes back with what was typed and a message in the reader's language (4xx).
"""

from typing import Annotated, Any, NoReturn

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.deps import SessionDep, actor_of
from api.models import User
from catalog.models import Cooperative, Household, HouseholdStatus
from catalog.permissions import manages_coop
from core.errors import DomainError, Forbidden, NotFound
from frontend.community_forms import message, refusal, today_of
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import SignedInDep
from frontend.i18n import N_, by_locale
from frontend.rendering import WebUserDep, page_router, render
from governance import consultations, groups
from governance.community_models import Consultation
from training.models import Programme

router = page_router()
PHASES = {"upcoming": N_("Not open yet"), "open": N_("Open"), "closed": N_("Closed")}


def _coop(session: Session, coop_id: int) -> Cooperative:
    coop = session.get(Cooperative, coop_id)
    if coop is None:
        raise NotFound(f"No cooperative {coop_id}.")
    return coop


def open_programmes(session: Session) -> list[Programme]:
    """Programmes a group may be tied to: those taking or training people now."""
    query = (
        select(Programme)
        .where(col(Programme.status).in_(("open", "closed")))
        .order_by(col(Programme.id))
    )
    return list(session.scalars(query))


def _households(session: Session, coop_id: int) -> list[Household]:
    query = (
        select(Household)
        .where(
            col(Household.coop_id) == coop_id,
            col(Household.status) == HouseholdStatus.active.value,
        )
        .order_by(col(Household.id))
    )
    return list(session.scalars(query))


# --- Consultations: public --------------------------------------------------------------------


@router.get("/coops/{coop_id}/consultations", response_class=HTMLResponse)
def coop_consultations(coop_id: int, request: Request, session: SessionDep) -> Response:
    coop = _coop(session, coop_id)
    today = today_of(request)
    items = [
        consultations.consultation_read(session, c, today)
        for c in consultations.list_for_coop(session, coop_id)
    ]
    context = {
        "coop_name": by_locale(request, coop.name_zh, coop.name_en),
        "coop": coop,
        "items": items,
        "phases": PHASES,
    }
    return render(request, "community/consultations.html", context)


def _consultation_page(
    request: Request,
    session: Session,
    user: User | None,
    consultation: Consultation,
    *,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    assert consultation.id is not None
    today = today_of(request)
    coop = _coop(session, consultation.coop_id)
    household_id = user.household_id if user is not None and user.role == "farmer" else None
    member = household_id is not None and user is not None and user.coop_id == coop.id
    mine = (
        consultations.answer_of(session, consultation.id, household_id)
        if household_id is not None
        else None
    )
    context = {
        "c": consultations.consultation_read(session, consultation, today),
        "coop": coop,
        "coop_name": by_locale(request, coop.name_zh, coop.name_en),
        "phases": PHASES,
        "may_answer": member and mine is None,
        "mine": mine,
        "may_reply": user is not None and manages_coop(actor_of(user), coop.id or 0),
        "values": values or {},
        "error": error,
    }
    return render(request, "community/consultation.html", context, status_code=status_code)


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation_page(
    consultation_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    row = consultations.get_consultation(session, consultation_id)
    return _consultation_page(request, session, user, row)


@router.post("/consultations/{consultation_id}/answer", response_class=HTMLResponse)
def answer_consultation(
    consultation_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    option_id: Annotated[str, Form(max_length=12)] = "",
    text: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    row = consultations.get_consultation(session, consultation_id)
    values = {"option_id": option_id, "text": text}
    try:
        data = consultations.AnswerCreate(
            option_id=int(option_id) if option_id.isdigit() else None, text=text
        )
        consultations.answer(
            session,
            actor=actor_of(user),
            consultation_id=consultation_id,
            data=data,
            today=today_of(request),
        )
    except (DomainError, ValidationError) as error:
        problem, status = refusal(request, error)
        refuse(
            lambda: _consultation_page(
                request,
                session,
                user,
                row,
                values=values,
                error=problem,
                status_code=status,
            )
        )
    return RedirectResponse(f"/consultations/{consultation_id}", status_code=303)


@router.post("/consultations/{consultation_id}/reply", response_class=HTMLResponse)
def reply_to_consultation(
    consultation_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    reply: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    row = consultations.get_consultation(session, consultation_id)
    try:
        consultations.reply(
            session,
            actor=actor_of(user),
            consultation_id=consultation_id,
            data=consultations.ReplyCreate(reply=reply),
            today=today_of(request),
        )
    except (DomainError, ValidationError) as error:
        problem, status = refusal(request, error)
        refuse(
            lambda: _consultation_page(
                request,
                session,
                user,
                row,
                values={"reply": reply},
                error=problem,
                status_code=status,
            )
        )
    return RedirectResponse(f"/consultations/{consultation_id}", status_code=303)


# --- The cooperative's community work (manager, staff) ---------------------------------------


def _organiser(request: Request, user: User | None, coop_id: int) -> User:
    assert user is not None
    if not manages_coop(actor_of(user), coop_id):
        raise Forbidden(
            f"Only cooperative {coop_id}'s manager and staff organise its community work."
        )
    return user


def _community_page(
    request: Request,
    session: Session,
    coop_id: int,
    *,
    user: User,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    coop = _coop(session, coop_id)
    today = today_of(request)
    context = {
        "coop": coop,
        "coop_name": by_locale(request, coop.name_zh, coop.name_en),
        "groups": groups.groups_of_coop(session, actor=actor_of(user), coop_id=coop_id),
        "consultations": [
            consultations.consultation_read(session, c, today)
            for c in consultations.list_for_coop(session, coop_id)
        ],
        "households": _households(session, coop_id),
        "programmes": open_programmes(session),
        "phases": PHASES,
        "values": values or {},
        "error": error,
    }
    return render(request, "community/manage.html", context, status_code=status_code)


@router.get("/manage/coops/{coop_id}/community", response_class=HTMLResponse)
def community_page(
    coop_id: int, request: Request, user: SignedInDep, session: SessionDep
) -> Response:
    return _community_page(request, session, coop_id, user=_organiser(request, user, coop_id))


def _refused(
    request: Request,
    session: Session,
    coop_id: int,
    user: User,
    values: dict[str, Any],
    error: DomainError | ValidationError,
) -> NoReturn:
    problem, status = refusal(request, error)
    refuse(
        lambda: _community_page(
            request,
            session,
            coop_id,
            user=user,
            values=values,
            error=problem,
            status_code=status,
        )
    )


@router.post("/manage/coops/{coop_id}/groups", response_class=HTMLResponse)
def create_group(  # noqa: PLR0913 - form fields
    coop_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=120)] = "",
    purpose: Annotated[str, Form(max_length=500)] = "",
    household_ids: Annotated[list[int] | None, Form()] = None,
    programme_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    organiser = _organiser(request, user, coop_id)
    chosen = household_ids or []
    values = {
        "name": name,
        "purpose": purpose,
        "household_ids": chosen,
        "programme_id": programme_id,
    }
    try:
        data = groups.GroupCreate(
            name=name,
            purpose=purpose,
            household_ids=chosen,
            programme_id=int(programme_id) if programme_id.isdigit() else None,
        )
        group = groups.create_group(
            session, actor=actor_of(organiser), coop_id=coop_id, data=data, worker_roles={}
        )
    except (DomainError, ValidationError) as error:
        return _refused(request, session, coop_id, organiser, values, error)
    return RedirectResponse(f"/groups/{group.id}", status_code=303)


@router.post("/manage/coops/{coop_id}/consultations", response_class=HTMLResponse)
def create_consultation(  # noqa: PLR0913 - form fields
    coop_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    question: Annotated[str, Form(max_length=500)] = "",
    options: Annotated[str, Form(max_length=3000)] = "",
    opens_on: Annotated[str, Form(max_length=10)] = "",
    closes_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    organiser = _organiser(request, user, coop_id)
    values = {
        "question": question,
        "options": options,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    labels = [line.strip() for line in options.splitlines() if line.strip()]
    try:
        data = consultations.ConsultationCreate(
            question=question, options=labels, opens_on=opens_on, closes_on=closes_on
        )
        row = consultations.create(
            session, actor=actor_of(organiser), coop_id=coop_id, data=data, today=today_of(request)
        )
    except (DomainError, ValidationError) as error:
        return _refused(request, session, coop_id, organiser, values, error)
    return RedirectResponse(f"/consultations/{row.id}", status_code=303)


# --- A group (manager, staff, its social workers) ---------------------------------------------


def _social_workers(session: Session, assigned: set[int]) -> dict[str, list[User]]:
    """Social workers' accounts: those working with the group and those who could."""
    query = (
        select(User)
        .where(col(User.role) == "social_worker", col(User.is_active).is_(True))
        .order_by(col(User.id))
    )
    found = list(session.scalars(query))
    return {
        "assigned": [u for u in found if u.id in assigned],
        "others": [u for u in found if u.id not in assigned],
    }


def _group_page(
    request: Request,
    session: Session,
    user: User,
    group_id: int,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    group = groups.visible_group(session, actor_of(user), group_id)
    read = groups.group_read(session, group)
    names = {h.id: h for h in _households(session, group.coop_id)}
    programme = session.get(Programme, group.programme_id) if group.programme_id else None
    context = {
        "group": read,
        "members": [names[h] for h in read["household_ids"] if h in names],
        "names": names,
        "programme": programme,
        "may_organise": manages_coop(actor_of(user), group.coop_id),
        "workers": _social_workers(session, set(read["social_worker_ids"])),
        "today": today_of(request).isoformat(),
        "values": values or {},
        "error": error,
    }
    return render(request, "community/group.html", context, status_code=status_code)


@router.get("/groups/{group_id}", response_class=HTMLResponse)
def group_page(group_id: int, request: Request, user: SignedInDep, session: SessionDep) -> Response:
    return _group_page(request, session, user, group_id)


@router.post("/groups/{group_id}/sessions", response_class=HTMLResponse)
def record_session(  # noqa: PLR0913 - form fields
    group_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    held_on: Annotated[str, Form(max_length=10)] = "",
    topic: Annotated[str, Form(max_length=200)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    attended: Annotated[list[int] | None, Form()] = None,
) -> Response:
    present = attended or []
    values = {"held_on": held_on, "topic": topic, "notes": notes, "attended": present}
    try:
        data = groups.SessionCreate(held_on=held_on, topic=topic, notes=notes, attended=present)
        groups.record_session(
            session, actor=actor_of(user), group_id=group_id, data=data, today=today_of(request)
        )
    except (DomainError, ValidationError) as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        problem, status = (
            message(request, error),
            error.status_code if isinstance(error, DomainError) else 422,
        )
        refuse(
            lambda: _group_page(
                request,
                session,
                user,
                group_id,
                values=values,
                error=problem,
                status_code=status,
            )
        )
    return RedirectResponse(f"/groups/{group_id}", status_code=303)


@router.post("/groups/{group_id}/social-workers", response_class=HTMLResponse)
def add_group_worker(
    group_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    user_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """The cooperative's manager or staff assign a social worker to the group."""
    worker = session.get(User, int(user_id)) if user_id.isdigit() else None
    try:
        groups.add_worker(
            session,
            actor=actor_of(user),
            group_id=group_id,
            user_id=(worker.id or 0) if worker is not None else 0,
            role=worker.role if worker is not None and worker.is_active else None,
        )
    except DomainError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        problem, status = message(request, error), error.status_code
        refuse(
            lambda: _group_page(
                request,
                session,
                user,
                group_id,
                error=problem,
                status_code=status,
            )
        )
    return RedirectResponse(f"/groups/{group_id}", status_code=303)


@router.get("/social-work/groups", response_class=HTMLResponse)
def worker_groups(request: Request, user: SignedInDep, session: SessionDep) -> Response:
    if user.role != "social_worker" or user.id is None:
        raise Forbidden("This page is for social workers.")
    found = groups.groups_of_worker(session, user.id)
    return render(request, "community/worker_groups.html", {"groups": found})


def install_community_pages(app: FastAPI) -> None:
    app.include_router(router)
