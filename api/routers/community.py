"""Group and community work over HTTP: groups of households and their sessions, community
consultations, beneficiary feedback and a cooperative's impact figures (rules in
governance/groups.py, consultations.py, beneficiary_feedback.py and impact.py).

Thin: parse, name the actor, call the service, return. Public reads (consultations and their
results once closed, impact figures) need no sign-in; everything else checks role and ownership in
the service.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from api.deps import CurrentUserDep, OptionalUserDep, SessionDep, SettingsDep, actor_of
from api.models import User
from core.time import to_reader_zone
from governance import beneficiary_feedback, consultations, groups, impact
from governance.disclosures import month_of
from ledger.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["community"])
Page = dict[str, Any]


def _today(settings: SettingsDep) -> date:
    return to_reader_zone(utcnow(), settings.timezone).date()


TodayDep = Annotated[date, Depends(_today)]


def _roles(session: SessionDep, ids: list[int]) -> dict[int, str | None]:
    """Each user's role (None for no such user or an inactive one)."""
    found: dict[int, str | None] = {}
    for user_id in ids:
        user = session.get(User, user_id)
        found[user_id] = user.role if user is not None and user.is_active else None
    return found


# --- Groups ---------------------------------------------------------------------------------


@router.post("/coops/{coop_id}/groups", status_code=status.HTTP_201_CREATED)
def create_group(
    coop_id: int, body: groups.GroupCreate, user: CurrentUserDep, session: SessionDep
) -> Page:
    group = groups.create_group(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        data=body,
        worker_roles=_roles(session, body.social_worker_ids),
    )
    return groups.group_read(session, group)


@router.get("/coops/{coop_id}/groups")
def list_groups(coop_id: int, user: CurrentUserDep, session: SessionDep) -> Page:
    found = groups.groups_of_coop(session, actor=actor_of(user), coop_id=coop_id)
    return {"items": [groups.group_read(session, g) for g in found], "next_cursor": None}


@router.get("/groups/{group_id}")
def read_group(group_id: int, user: CurrentUserDep, session: SessionDep) -> Page:
    group = groups.visible_group(session, actor_of(user), group_id)
    return groups.group_read(session, group)


@router.post("/groups/{group_id}/members", status_code=status.HTTP_201_CREATED)
def add_group_member(
    group_id: int, body: groups.MemberAdd, user: CurrentUserDep, session: SessionDep
) -> Page:
    actor = actor_of(user)
    groups.add_member(session, actor=actor, group_id=group_id, household_id=body.household_id)
    return groups.group_read(session, groups.get_group(session, group_id))


@router.post("/groups/{group_id}/social-workers", status_code=status.HTTP_201_CREATED)
def add_group_worker(
    group_id: int, body: groups.WorkerAdd, user: CurrentUserDep, session: SessionDep
) -> Page:
    role = _roles(session, [body.user_id])[body.user_id]
    groups.add_worker(
        session, actor=actor_of(user), group_id=group_id, user_id=body.user_id, role=role
    )
    return groups.group_read(session, groups.get_group(session, group_id))


@router.post("/groups/{group_id}/sessions", status_code=status.HTTP_201_CREATED)
def record_group_session(
    group_id: int,
    body: groups.SessionCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> Page:
    groups.record_session(session, actor=actor_of(user), group_id=group_id, data=body, today=today)
    return groups.group_read(session, groups.get_group(session, group_id))


# --- Consultations --------------------------------------------------------------------------


@router.post("/coops/{coop_id}/consultations", status_code=status.HTTP_201_CREATED)
def create_consultation(
    coop_id: int,
    body: consultations.ConsultationCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> Page:
    row = consultations.create(
        session, actor=actor_of(user), coop_id=coop_id, data=body, today=today
    )
    return consultations.consultation_read(session, row, today)


@router.get("/coops/{coop_id}/consultations")
def list_consultations(coop_id: int, session: SessionDep, today: TodayDep) -> Page:
    """Public: questions, and for closed ones the counts, turnout and the cooperative's reply."""
    found = consultations.list_for_coop(session, coop_id)
    return {
        "items": [consultations.consultation_read(session, c, today) for c in found],
        "next_cursor": None,
    }


@router.get("/consultations/{consultation_id}")
def read_consultation(consultation_id: int, session: SessionDep, today: TodayDep) -> Page:
    row = consultations.get_consultation(session, consultation_id)
    return consultations.consultation_read(session, row, today)


@router.post("/consultations/{consultation_id}/answers", status_code=status.HTTP_201_CREATED)
def answer_consultation(
    consultation_id: int,
    body: consultations.AnswerCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> Page:
    """One answer per member household: a second is 409, another cooperative's household 403."""
    row = consultations.answer(
        session, actor=actor_of(user), consultation_id=consultation_id, data=body, today=today
    )
    return {"consultation_id": consultation_id, "option_id": row.option_id, "text": row.text}


@router.post("/consultations/{consultation_id}/reply")
def reply_to_consultation(
    consultation_id: int,
    body: consultations.ReplyCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> Page:
    row = consultations.reply(
        session, actor=actor_of(user), consultation_id=consultation_id, data=body, today=today
    )
    return consultations.consultation_read(session, row, today)


@router.get("/consultations/{consultation_id}/free-answers")
def read_free_answers(consultation_id: int, user: CurrentUserDep, session: SessionDep) -> Page:
    """The written answers without who wrote them: the cooperative's manager and staff."""
    texts = consultations.free_answers(
        session, actor=actor_of(user), consultation_id=consultation_id
    )
    return {"items": texts, "next_cursor": None}


# --- Beneficiary feedback -------------------------------------------------------------------


@router.post("/households/{household_id}/feedback", status_code=status.HTTP_201_CREATED)
def give_feedback(
    household_id: int,
    body: beneficiary_feedback.FeedbackCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> Page:
    row = beneficiary_feedback.give(
        session, actor=actor_of(user), household_id=household_id, data=body, today=today
    )
    return {"subject": row.subject, "stars": row.stars, "comment": row.comment}


@router.get("/coops/{coop_id}/feedback")
def feedback_summary(
    coop_id: int,
    user: CurrentUserDep,
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Query(max_length=7, description="YYYY-MM")],
) -> Page:
    """Aggregates (with unsigned comments) of groups of at least HEZUO_DISCLOSURE_MIN_GROUP."""
    month = month_of(period)
    return beneficiary_feedback.summary(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        first=month.first,
        last=month.last,
        min_group=settings.disclosure_min_group,
    )


# --- Impact ---------------------------------------------------------------------------------


@router.get("/coops/{coop_id}/impact")
def read_impact(
    coop_id: int,
    user: OptionalUserDep,
    session: SessionDep,
    settings: SettingsDep,
    today: TodayDep,
    months: Annotated[int, Query(ge=1, le=impact.MAX_MONTHS)] = 12,
) -> Page:
    """Public where privacy allows (see governance/impact.py); complete for manager and staff."""
    return impact.impact(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        today=today,
        months=months,
        min_group=settings.disclosure_min_group,
    )
