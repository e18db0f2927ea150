"""A cooperative's impact over months, from the ledger and the records: households above the
income line, income per person (median; quantiles for large enough groups), trainings completed,
plan goals met, alerts opened and resolved, and consultation turnout.

The same figures for everyone, computed afresh each time; the public sees them where privacy
allows. Each month's income figures are over the twelve months up to its last day (settled
income from the ledger plus declared off-platform income, per person, as monitoring counts them;
the line is monitoring's, over this cooperative's households). In a cooperative of fewer than
`min_group` active households the public sees no income figure, no count of households above the
line and no alerts (each would nearly name a household); the median needs at least
`MEDIAN_FLOOR` households and the quartiles `min_group`. The cooperative's manager and staff see
everything. A content hash over the figures lets anyone check a copy against the JSON.
"""

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import Cooperative, Household, HouseholdStatus
from catalog.permissions import reads_coop
from core.actor import Actor
from governance.community_models import Consultation, ConsultationAnswer
from governance.errors import GovernanceInvalid, GovernanceNotFound
from governance.models import Alert
from governance.monitoring import get_config, income_line, off_platform_income
from governance.plan_models import HouseholdPlan, PlanGoal
from ledger.specs import canonical_json
from training.income import add_months, per_capita, rounded, settled_income
from training.models import Enrolment

MEDIAN_FLOOR = 3
MAX_MONTHS = 36


def _span(end: date) -> tuple[datetime, datetime]:
    """[first day of end's month, the day after end) as UTC moments."""
    first = end.replace(day=1)
    return (
        datetime.combine(first, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def _quartiles(values: list[Fraction]) -> dict[str, int]:
    ordered = sorted(values)

    def rank(q: int) -> int:
        return rounded(ordered[max(0, -(-q * len(ordered) // 100) - 1)])

    return {"p25": rank(25), "median": rank(50), "p75": rank(75)}


def _median(values: list[Fraction]) -> int:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return rounded(ordered[middle])
    return rounded((ordered[middle - 1] + ordered[middle]) / 2)


def _income(
    session: Session, households: list[Household], as_of: date, min_group: int
) -> tuple[dict[str, Any], dict[int, Fraction]]:
    """Income figures for the twelve months to `as_of`, and each household's settled income per
    person (the figure plan goals are measured by)."""
    config = get_config(session)
    end = as_of + timedelta(days=1)
    start = add_months(end, -12)
    ids = [h.id for h in households if h.id is not None]
    settled = settled_income(session, ids, start=start, end=end)
    outside = off_platform_income(session, ids, start=start, end=end, currency=config.currency)
    sizes = {h.id: h.household_size for h in households if h.id is not None}
    per_person = [per_capita(settled[h] + outside.get(h, 0), sizes[h]) for h in ids]
    line = income_line(config, per_person)
    figures = {
        "currency": config.currency,
        "line": rounded(line),
        "above_line": sum(value >= line for value in per_person),
        "median": _median(per_person) if len(ids) >= MEDIAN_FLOOR else None,
        "quartiles": _quartiles(per_person) if len(ids) >= min_group else None,
    }
    return figures, {h: per_capita(settled[h], sizes[h]) for h in ids}


def _goals_met(
    session: Session, coop_id: int, settled: dict[int, Fraction], as_of: date
) -> dict[str, int]:
    _, before = _span(as_of)
    rows = session.execute(
        select(col(HouseholdPlan.household_id), col(PlanGoal.target_per_capita))
        .join(PlanGoal, col(PlanGoal.plan_id) == col(HouseholdPlan.id))
        .join(Household, col(Household.id) == col(HouseholdPlan.household_id))
        .where(
            col(Household.coop_id) == coop_id,
            col(HouseholdPlan.created_at) < before,
            col(PlanGoal.target_per_capita).is_not(None),
        )
    ).all()
    met = sum(settled.get(h, Fraction(0)) >= target for h, target in rows)
    return {"measurable": len(rows), "met": met}


def _month_records(session: Session, coop_id: int, as_of: date) -> dict[str, Any]:
    start, end = _span(as_of)
    completed = _count(
        session,
        select(func.count(col(Enrolment.id))).where(
            col(Enrolment.coop_id) == coop_id,
            col(Enrolment.completed_at) >= start,
            col(Enrolment.completed_at) < end,
        ),
    )
    alerts = select(func.count(col(Alert.id))).where(col(Alert.coop_id) == coop_id)
    opened = _count(
        session, alerts.where(col(Alert.created_at) >= start, col(Alert.created_at) < end)
    )
    resolved = _count(
        session, alerts.where(col(Alert.closed_at) >= start, col(Alert.closed_at) < end)
    )
    return {
        "trainings_completed": completed,
        "alerts": {"opened": opened, "resolved": resolved},
        "consultations": _turnout(session, coop_id, as_of.replace(day=1), as_of),
    }


def _turnout(session: Session, coop_id: int, first: date, last: date) -> dict[str, int]:
    """Consultations that closed in the month: how many, answers against households asked."""
    closed = list(
        session.scalars(
            select(col(Consultation.id)).where(
                col(Consultation.coop_id) == coop_id,
                col(Consultation.closes_on) >= first,
                col(Consultation.closes_on) <= last,
            )
        )
    )
    answers = 0
    if closed:
        answers = _count(
            session,
            select(func.count(col(ConsultationAnswer.id))).where(
                col(ConsultationAnswer.consultation_id).in_(closed)
            ),
        )
    return {"closed": len(closed), "answers": answers}


def _month(
    session: Session, coop_id: int, households: list[Household], as_of: date, min_group: int
) -> dict[str, Any]:
    income, settled = _income(session, households, as_of, min_group)
    records = _month_records(session, coop_id, as_of)
    records["consultations"]["households_asked"] = records["consultations"]["closed"] * len(
        households
    )
    return {
        "period": f"{as_of:%Y-%m}",
        "as_of": as_of.isoformat(),
        "income": income,
        "plan_goals": _goals_met(session, coop_id, settled, as_of),
        **records,
    }


def _withhold(month: dict[str, Any]) -> dict[str, Any]:
    """The public view of a month in a small cooperative: no income figures and no alerts."""
    return {
        **month,
        "income": {
            **month["income"],
            "above_line": None,
            "median": None,
            "quartiles": None,
        },
        "alerts": None,
    }


def impact(
    session: Session,
    *,
    actor: Actor,
    coop_id: int,
    today: date,
    months: int = 12,
    min_group: int,
) -> dict[str, Any]:
    if session.get(Cooperative, coop_id) is None:
        raise GovernanceNotFound(f"No cooperative {coop_id}.")
    if not 1 <= months <= MAX_MONTHS:
        raise GovernanceInvalid(f"Ask for 1 to {MAX_MONTHS} months.", loc=["query", "months"])
    households = list(
        session.scalars(
            select(Household)
            .where(
                col(Household.coop_id) == coop_id,
                col(Household.status) == HouseholdStatus.active.value,
            )
            .order_by(col(Household.id))
        )
    )
    full = reads_coop(actor, coop_id)
    small = len(households) < min_group
    rows = []
    for back in range(months - 1, -1, -1):
        first = add_months(today.replace(day=1), -back)
        last = min(add_months(first, 1) - timedelta(days=1), today)
        month = _month(session, coop_id, households, last, min_group)
        rows.append(month if full or not small else _withhold(month))
    figures = {
        "coop_id": coop_id,
        "households": len(households),
        "min_group": min_group,
        "withheld": small and not full,
        "months": rows,
    }
    digest = hashlib.sha256(canonical_json(figures).encode()).hexdigest()
    return {**figures, "content_hash": digest}
