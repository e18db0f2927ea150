"""Household development plans: who may see and change them, goals, reviews, agreement, progress.

Who sees a plan: the household itself (its farmer user), the social workers assigned to it, the
manager of its cooperative, and staff (auditors read as staff). Nobody else — not another
household, a buyer, another cooperative's manager or the public. Who changes it: an assigned
social worker or staff write goals; only an assigned social worker records a review; only the
household agrees. Progress is read from real figures: settled income per person over the last
twelve months (the same figures the training income linkage uses) and trainings completed.
"""

from datetime import date, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import Household
from core.actor import Actor
from governance.errors import (
    GovernanceConflict,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
)
from governance.plan_models import (
    GoalKind,
    HouseholdPlan,
    PlanGoal,
    PlanReview,
    SocialWorkerAssignment,
)
from ledger.base import utcnow
from training.income import add_months, per_capita, rounded, settled_income
from training.models import Enrolment, EnrolmentStatus, Programme

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PROGRESS_DAYS = 365
CHART_MONTHS = 12


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoalCreate(Strict):
    kind: GoalKind
    description: Annotated[Text, Field(max_length=500)]
    target_per_capita: Annotated[int, Field(gt=0, le=10**10)] | None = None
    target_on: date | None = None
    programme_id: int | None = None


class PlanCreate(Strict):
    review_on: date
    goals: Annotated[list[GoalCreate], Field(min_length=1, max_length=20)]


class ReviewCreate(Strict):
    note: Annotated[Text, Field(max_length=2000)]
    next_review_on: date


class AssignmentCreate(Strict):
    user_id: int


class GoalRead(BaseModel):
    id: int
    kind: GoalKind
    description: str
    target_per_capita: int | None
    currency: str
    target_on: date | None
    programme_id: int | None
    met: bool | None  # None: no measurable target


class ReviewRead(BaseModel):
    id: int
    social_worker_id: int
    note: str
    next_review_on: date
    reviewed_at: str


class ProgressRead(BaseModel):
    income_per_capita: int  # minor units, settled over the last twelve months
    currency: str
    since: date
    trainings_completed: int


class MonthRead(BaseModel):
    """One calendar month of the plan's chart: settled income per person, trainings completed."""

    month: date  # its first day
    income_per_capita: int  # minor units settled in this month
    trainings_completed: int  # completed in this month


class PlanRead(BaseModel):
    id: int
    household_id: int
    review_on: date
    agreed: bool
    agreed_at: str | None
    goals: list[GoalRead]
    reviews: list[ReviewRead]
    progress: ProgressRead
    months: list[MonthRead]  # the last twelve calendar months, oldest first


# --- who ------------------------------------------------------------------------------------


def assigned_worker_ids(session: Session, household_id: int) -> set[int]:
    query = select(SocialWorkerAssignment.user_id).where(
        col(SocialWorkerAssignment.household_id) == household_id
    )
    return set(session.scalars(query))


def is_assigned(session: Session, actor: Actor, household_id: int) -> bool:
    return (
        actor.role == "social_worker"
        and actor.user_id is not None
        and actor.user_id in assigned_worker_ids(session, household_id)
    )


def _household(session: Session, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise GovernanceNotFound(f"No household {household_id}.")
    return household


def may_see_plan(session: Session, actor: Actor, household: Household) -> bool:
    assert household.id is not None
    return (
        actor.reads_all
        or (actor.role == "farmer" and actor.household_id == household.id)
        or (actor.role == "manager" and actor.coop_id == household.coop_id)
        or is_assigned(session, actor, household.id)
    )


def visible_household(session: Session, actor: Actor, household_id: int) -> Household:
    household = _household(session, household_id)
    if not may_see_plan(session, actor, household):
        raise GovernanceForbidden(
            "Only the household, its social workers, its cooperative's "
            "manager and staff see a household's plan."
        )
    return household


def _require_planner(session: Session, actor: Actor, household_id: int) -> None:
    if not (actor.is_staff or is_assigned(session, actor, household_id)):
        raise GovernanceForbidden(
            "Only a social worker assigned to this household (or staff) writes its plan."
        )


# --- assignments ----------------------------------------------------------------------------


def assign(
    session: Session, *, actor: Actor, household_id: int, worker_id: int, worker_role: str | None
) -> SocialWorkerAssignment:
    """Staff assign a social worker (`worker_role` is the user's role, None if no such user)."""
    if not actor.is_staff:
        raise GovernanceForbidden("Only staff assign social workers to households.")
    _household(session, household_id)
    if worker_role != "social_worker":
        raise GovernanceInvalid(
            f"User {worker_id} is not a social worker.", loc=["body", "user_id"]
        )
    if worker_id in assigned_worker_ids(session, household_id):
        raise GovernanceConflict(f"User {worker_id} already serves household {household_id}.")
    assert actor.user_id is not None
    row = SocialWorkerAssignment(
        household_id=household_id, user_id=worker_id, assigned_by=actor.user_id
    )
    session.add(row)
    session.flush()
    return row


def households_of_worker(session: Session, worker_id: int) -> list[Household]:
    query = (
        select(Household)
        .join(SocialWorkerAssignment, col(SocialWorkerAssignment.household_id) == Household.id)
        .where(col(SocialWorkerAssignment.user_id) == worker_id)
        .order_by(col(Household.id))
    )
    return list(session.scalars(query))


# --- the plan -------------------------------------------------------------------------------


def plan_of(session: Session, household_id: int) -> HouseholdPlan | None:
    query = select(HouseholdPlan).where(col(HouseholdPlan.household_id) == household_id)
    return session.scalars(query).first()


def _check_goal(session: Session, goal: GoalCreate, index: int, today: date) -> None:
    if goal.target_on is not None and goal.target_on <= today:
        raise GovernanceInvalid(
            "A goal's target date must be in the future.", loc=["body", "goals", index, "target_on"]
        )
    if goal.programme_id is not None and session.get(Programme, goal.programme_id) is None:
        raise GovernanceInvalid(
            f"No training programme {goal.programme_id}.",
            loc=["body", "goals", index, "programme_id"],
        )


def _add_goals(session: Session, plan: HouseholdPlan, goals: list[GoalCreate], today: date) -> None:
    for index, goal in enumerate(goals):
        _check_goal(session, goal, index, today)
    assert plan.id is not None
    for goal in goals:
        session.add(PlanGoal(plan_id=plan.id, **goal.model_dump()))
    plan.agreed_at = None  # the household agrees to the plan as it now stands
    plan.agreed_by = None


def create_plan(
    session: Session, *, actor: Actor, household_id: int, data: PlanCreate, today: date
) -> HouseholdPlan:
    _household(session, household_id)
    _require_planner(session, actor, household_id)
    if data.review_on <= today:
        raise GovernanceInvalid("The review date must be in the future.", loc=["body", "review_on"])
    if plan_of(session, household_id) is not None:
        raise GovernanceConflict(f"Household {household_id} already has a plan; add goals to it.")
    assert actor.user_id is not None
    plan = HouseholdPlan(
        household_id=household_id, created_by=actor.user_id, review_on=data.review_on
    )
    session.add(plan)
    session.flush()
    _add_goals(session, plan, data.goals, today)
    session.flush()
    return plan


def _existing_plan(session: Session, household_id: int) -> HouseholdPlan:
    plan = plan_of(session, household_id)
    if plan is None:
        raise GovernanceNotFound(f"Household {household_id} has no plan yet.")
    return plan


def add_goal(
    session: Session, *, actor: Actor, household_id: int, goal: GoalCreate, today: date
) -> HouseholdPlan:
    _household(session, household_id)
    _require_planner(session, actor, household_id)
    plan = _existing_plan(session, household_id)
    _add_goals(session, plan, [goal], today)
    session.flush()
    return plan


def record_review(
    session: Session, *, actor: Actor, household_id: int, data: ReviewCreate, today: date
) -> PlanReview:
    _household(session, household_id)
    if not is_assigned(session, actor, household_id):
        raise GovernanceForbidden(
            "Only a social worker assigned to this household reviews its plan."
        )
    plan = _existing_plan(session, household_id)
    if data.next_review_on <= today:
        raise GovernanceInvalid(
            "The next review date must be in the future.", loc=["body", "next_review_on"]
        )
    assert actor.user_id is not None
    assert plan.id is not None
    review = PlanReview(
        plan_id=plan.id,
        social_worker_id=actor.user_id,
        note=data.note,
        next_review_on=data.next_review_on,
    )
    plan.review_on = data.next_review_on
    session.add(review)
    session.flush()
    return review


def agree(session: Session, *, actor: Actor, household_id: int) -> HouseholdPlan:
    _household(session, household_id)
    if not (actor.role == "farmer" and actor.household_id == household_id):
        raise GovernanceForbidden("Only the household itself agrees to its plan.")
    plan = _existing_plan(session, household_id)
    if plan.agreed_at is not None:
        raise GovernanceConflict("The household has already agreed to this plan.")
    plan.agreed_at = utcnow()
    plan.agreed_by = actor.user_id
    session.flush()
    return plan


# --- reading --------------------------------------------------------------------------------


def progress(session: Session, household: Household, today: date) -> ProgressRead:
    assert household.id is not None
    since = today - timedelta(days=PROGRESS_DAYS)
    income = settled_income(session, [household.id], start=since, end=today + timedelta(days=1))
    completed = session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(col(Enrolment.household_id) == household.id)
        .where(col(Enrolment.status) == EnrolmentStatus.completed.value)
    )
    return ProgressRead(
        income_per_capita=rounded(
            per_capita(income.get(household.id, 0), household.household_size)
        ),
        currency="CNY",
        since=since,
        trainings_completed=completed or 0,
    )


def monthly_progress(session: Session, household: Household, today: date) -> list[MonthRead]:
    """The last CHART_MONTHS calendar months (this one included), oldest first, from the ledger's
    settled income and the household's completed trainings."""
    assert household.id is not None
    starts = [add_months(today.replace(day=1), -back) for back in range(CHART_MONTHS - 1, -1, -1)]
    completed = session.scalars(
        select(Enrolment.completed_at)
        .where(col(Enrolment.household_id) == household.id)
        .where(col(Enrolment.status) == EnrolmentStatus.completed.value)
        .where(col(Enrolment.completed_at).is_not(None))
    ).all()
    completed_months = [moment.date().replace(day=1) for moment in completed if moment is not None]
    months = []
    for start in starts:
        end = add_months(start, 1)
        income = settled_income(session, [household.id], start=start, end=end)[household.id]
        months.append(
            MonthRead(
                month=start,
                income_per_capita=rounded(per_capita(income, household.household_size)),
                trainings_completed=completed_months.count(start),
            )
        )
    return months


def read_plan(session: Session, *, actor: Actor, household_id: int, today: date) -> PlanRead:
    household = visible_household(session, actor, household_id)
    plan = _existing_plan(session, household_id)
    assert plan.id is not None
    figures = progress(session, household, today)
    goals = session.scalars(
        select(PlanGoal).where(col(PlanGoal.plan_id) == plan.id).order_by(col(PlanGoal.id))
    ).all()
    reviews = session.scalars(
        select(PlanReview).where(col(PlanReview.plan_id) == plan.id).order_by(col(PlanReview.id))
    ).all()
    return PlanRead(
        id=plan.id,
        household_id=household_id,
        review_on=plan.review_on,
        agreed=plan.agreed_at is not None,
        agreed_at=plan.agreed_at.isoformat() if plan.agreed_at else None,
        goals=[_goal_read(g, figures) for g in goals],
        reviews=[
            ReviewRead(
                id=r.id or 0,
                social_worker_id=r.social_worker_id,
                note=r.note,
                next_review_on=r.next_review_on,
                reviewed_at=r.reviewed_at.isoformat(),
            )
            for r in reviews
        ],
        progress=figures,
        months=monthly_progress(session, household, today),
    )


def _goal_read(goal: PlanGoal, figures: ProgressRead) -> GoalRead:
    met = None
    if goal.target_per_capita is not None:
        met = figures.income_per_capita >= goal.target_per_capita
    return GoalRead(
        id=goal.id or 0,
        kind=GoalKind(goal.kind),
        description=goal.description,
        target_per_capita=goal.target_per_capita,
        currency=goal.currency,
        target_on=goal.target_on,
        programme_id=goal.programme_id,
        met=met,
    )
