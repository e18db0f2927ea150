"""Staff's list of applicants to a programme, ordered by need.

First households flagged by monitoring (passed in by the caller: `flagged`; the governance domain
provides them once it exists, see `FlagSource`), then households whose settled income per person
over the last `need_lookback_months`, scaled to a year, is below the configured line, poorest
first, then the others, poorest first; ties by application time.
"""

from collections.abc import Callable, Collection
from datetime import date
from fractions import Fraction

from sqlmodel import Session, col, select

from catalog.models import Household
from catalog.schemas import MoneyRead
from core.actor import Actor
from training.access import require_reader
from training.config import TrainingConfig
from training.income import add_months, per_capita, rounded, settled_income
from training.models import Enrolment, EnrolmentStatus
from training.programmes import get_programme
from training.schemas import PriorityRead

# Governance's monitoring will provide one: household ids currently flagged as at risk.
FlagSource = Callable[[Session, Collection[int]], Collection[int]]


def priority_list(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    config: TrainingConfig,
    flagged: Collection[int] | FlagSource = frozenset(),
    today: date | None = None,
) -> list[PriorityRead]:
    require_reader(actor)
    programme = get_programme(session, programme_id)
    today = today or date.today()
    applicants = list(
        session.scalars(
            select(Enrolment)
            .where(
                col(Enrolment.programme_id) == programme_id,
                col(Enrolment.status) == EnrolmentStatus.applied.value,
            )
            .order_by(col(Enrolment.applied_at), col(Enrolment.id))
        )
    )
    households: dict[int, Household] = {
        h.id or 0: h
        for h in session.scalars(
            select(Household).where(col(Household.id).in_([e.household_id for e in applicants]))
        )
    }
    ids = list(households)
    flags = set(flagged(session, ids) if callable(flagged) else flagged)
    months = config.need_lookback_months
    income = settled_income(session, ids, start=add_months(today, -months), end=today)
    line = config.need_line_per_capita
    rows: list[tuple[tuple[int, int, Fraction, int], PriorityRead]] = []
    for position, enrolment in enumerate(applicants):
        household = households[enrolment.household_id]
        annual = per_capita(income[enrolment.household_id], household.household_size) * 12 / months
        is_flagged = enrolment.household_id in flags
        below = annual < line
        reason = (
            "flagged by monitoring"
            if is_flagged
            else "income per person below the line"
            if below
            else "income per person at or above the line"
        )
        read = PriorityRead(
            enrolment_id=enrolment.id or 0,
            household_id=enrolment.household_id,
            member_code=household.member_code,
            coop_id=household.coop_id,
            household_size=household.household_size,
            flagged=is_flagged,
            below_line=below,
            income_per_capita_annual=MoneyRead(amount=rounded(annual), currency=programme.currency),
            applied_at=enrolment.applied_at,
            reason=reason,
        )
        rows.append(((0 if is_flagged else 1, 0 if below else 1, annual, position), read))
    rows.sort(key=lambda item: item[0])
    return [read for _key, read in rows]
