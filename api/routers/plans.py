"""Household development plans over HTTP: social workers' assignments, plans, goals, reviews and
the household's agreement (rules in governance/plans.py)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from api.deps import CurrentUserDep, SessionDep, SettingsDep, StaffDep, actor_of, require_roles
from api.models import Role, User
from core.time import to_reader_zone
from governance import monitoring, plans
from ledger.base import utcnow

router = APIRouter(prefix="/api/v1", tags=["plans"])
PLAN = "/households/{household_id}/plan"
SocialWorkerDep = Annotated[User, Depends(require_roles(Role.social_worker))]


class AssignmentRead(BaseModel):
    household_id: int
    user_id: int


class WorkerHousehold(BaseModel):
    id: int
    coop_id: int
    name: str
    has_plan: bool


def _today(settings: SettingsDep) -> date:
    return to_reader_zone(utcnow(), settings.timezone).date()


TodayDep = Annotated[date, Depends(_today)]


@router.post(
    "/households/{household_id}/social-workers",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentRead,
)
def assign_social_worker(
    household_id: int, body: plans.AssignmentCreate, user: StaffDep, session: SessionDep
) -> AssignmentRead:
    worker = session.get(User, body.user_id)
    row = plans.assign(
        session,
        actor=actor_of(user),
        household_id=household_id,
        worker_id=body.user_id,
        worker_role=worker.role if worker is not None and worker.is_active else None,
    )
    return AssignmentRead(household_id=row.household_id, user_id=row.user_id)


@router.get("/social-worker/households", response_model=list[WorkerHousehold])
def my_households(user: SocialWorkerDep, session: SessionDep) -> list[WorkerHousehold]:
    assert user.id is not None
    return [
        WorkerHousehold(
            id=h.id or 0,
            coop_id=h.coop_id,
            name=h.name,
            has_plan=plans.plan_of(session, h.id or 0) is not None,
        )
        for h in plans.households_of_worker(session, user.id)
    ]


class WorkerAlert(BaseModel):
    """An open monitoring alert on a household the social worker serves: a plan review proposed."""

    alert_id: int
    household_id: int
    reason: str
    as_of: date
    has_plan: bool
    plan_url: str  # the page to open (or review) the household's plan


@router.get("/social-worker/alerts", response_model=list[WorkerAlert])
def my_alerts(user: SocialWorkerDep, session: SessionDep) -> list[WorkerAlert]:
    """Open alerts of the households assigned to me, newest first, each proposing a plan review."""
    return [
        WorkerAlert(
            alert_id=a.id or 0,
            household_id=a.household_id,
            reason=a.reason,
            as_of=a.as_of,
            has_plan=plans.plan_of(session, a.household_id) is not None,
            plan_url=f"/social-work/households/{a.household_id}",
        )
        for a in monitoring.alerts_for_worker(session, actor=actor_of(user))
    ]


@router.get(PLAN, response_model=plans.PlanRead)
def read_plan(
    household_id: int, user: CurrentUserDep, session: SessionDep, today: TodayDep
) -> plans.PlanRead:
    return plans.read_plan(session, actor=actor_of(user), household_id=household_id, today=today)


@router.post(PLAN, status_code=status.HTTP_201_CREATED, response_model=plans.PlanRead)
def create_plan(
    household_id: int,
    body: plans.PlanCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> plans.PlanRead:
    actor = actor_of(user)
    plans.create_plan(session, actor=actor, household_id=household_id, data=body, today=today)
    return plans.read_plan(session, actor=actor, household_id=household_id, today=today)


@router.post(PLAN + "/goals", status_code=status.HTTP_201_CREATED, response_model=plans.PlanRead)
def add_goal(
    household_id: int,
    body: plans.GoalCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> plans.PlanRead:
    actor = actor_of(user)
    plans.add_goal(session, actor=actor, household_id=household_id, goal=body, today=today)
    return plans.read_plan(session, actor=actor, household_id=household_id, today=today)


@router.post(PLAN + "/reviews", status_code=status.HTTP_201_CREATED, response_model=plans.PlanRead)
def record_review(
    household_id: int,
    body: plans.ReviewCreate,
    user: CurrentUserDep,
    session: SessionDep,
    today: TodayDep,
) -> plans.PlanRead:
    actor = actor_of(user)
    plans.record_review(session, actor=actor, household_id=household_id, data=body, today=today)
    return plans.read_plan(session, actor=actor, household_id=household_id, today=today)


@router.post(PLAN + "/agreement", response_model=plans.PlanRead)
def agree_to_plan(
    household_id: int, user: CurrentUserDep, session: SessionDep, today: TodayDep
) -> plans.PlanRead:
    actor = actor_of(user)
    plans.agree(session, actor=actor, household_id=household_id)
    return plans.read_plan(session, actor=actor, household_id=household_id, today=today)
