"""Reading enrolments: who may see one, the lists for a programme and a household, and the
enrolment as the API and pages show it (with its events, attendance and repayment).

The lifecycle that changes them is training/enrolments.py.
"""

from datetime import date, datetime

from sqlmodel import Session, col, select

from catalog.models import Household
from catalog.permissions import reads_coop
from catalog.schemas import LocalizedName, MoneyRead
from core.actor import Actor
from training.access import require_household_reader
from training.deductions import repaid
from training.enrolments import _household
from training.errors import (
    TrainingForbidden,
    TrainingNotFound,
)
from training.models import (
    Attendance,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    ProgrammeSession,
    Repayment,
)
from training.programmes import get_programme
from training.schemas import AttendanceRead, EnrolmentRead, EventRead

# Reading


def get_visible(session: Session, *, actor: Actor, enrolment_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or not may_see(actor, enrolment):
        raise TrainingNotFound("enrolment", enrolment_id)
    return enrolment


def may_see(actor: Actor, enrolment: Enrolment) -> bool:
    if reads_coop(actor, enrolment.coop_id):
        return True
    return actor.role == "farmer" and actor.household_id == enrolment.household_id


def list_for_programme(
    session: Session,
    *,
    actor: Actor,
    programme_id: int,
    status: EnrolmentStatus | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Enrolment]:
    get_programme(session, programme_id)
    if not actor.reads_all and actor.role != "manager":
        raise TrainingForbidden(
            "Only staff and cooperative managers list a programme's enrolments."
        )
    query = (
        select(Enrolment)
        .where(col(Enrolment.programme_id) == programme_id)
        .order_by(col(Enrolment.id))
        .limit(limit)
    )
    if not actor.reads_all:
        query = query.where(col(Enrolment.coop_id) == (actor.coop_id or -1))
    if status is not None:
        query = query.where(col(Enrolment.status) == status.value)
    if after_id is not None:
        query = query.where(col(Enrolment.id) > after_id)
    return list(session.scalars(query))


def list_for_household(
    session: Session,
    *,
    actor: Actor,
    household_id: int,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Enrolment]:
    household = session.get(Household, household_id)
    if household is None:
        raise TrainingNotFound("household", household_id)
    require_household_reader(actor, household)
    query = (
        select(Enrolment)
        .where(col(Enrolment.household_id) == household_id)
        .order_by(col(Enrolment.id))
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(col(Enrolment.id) > after_id)
    return list(session.scalars(query))


def enrolment_read(session: Session, enrolment: Enrolment) -> EnrolmentRead:
    assert enrolment.id is not None
    programme = get_programme(session, enrolment.programme_id)
    household = _household(session, enrolment.household_id)
    attendance = session.execute(
        select(Attendance, ProgrammeSession)
        .join(ProgrammeSession, col(ProgrammeSession.id) == col(Attendance.session_id))
        .where(col(Attendance.enrolment_id) == enrolment.id)
        .order_by(col(ProgrammeSession.held_on), col(ProgrammeSession.id))
    ).all()
    events = session.scalars(
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.enrolment_id) == enrolment.id)
        .order_by(col(EnrolmentEvent.id))
    ).all()
    paid_back = repaid(session, enrolment.id)
    owed = (
        max((enrolment.seat_cost or 0) - paid_back, 0)
        if enrolment.repayment == Repayment.deduction
        and enrolment.financing_entry_id
        and enrolment.refund_entry_id is None
        else 0
    )
    currency = enrolment.currency
    return EnrolmentRead(
        id=enrolment.id,
        programme_id=enrolment.programme_id,
        programme_title=LocalizedName(zh=programme.title_zh, en=programme.title_en),
        household_id=enrolment.household_id,
        member_code=household.member_code,
        coop_id=enrolment.coop_id,
        status=EnrolmentStatus(enrolment.status),
        repayment=Repayment(enrolment.repayment),
        deduction_bps=enrolment.deduction_bps,
        seat_cost=(
            MoneyRead(amount=enrolment.seat_cost, currency=currency)
            if enrolment.seat_cost is not None
            else None
        ),
        funding_account=enrolment.funding_account,
        financing_entry_id=enrolment.financing_entry_id,
        refund_entry_id=enrolment.refund_entry_id,
        repaid=MoneyRead(amount=paid_back, currency=currency),
        outstanding=MoneyRead(amount=owed, currency=currency),
        certificate_number=enrolment.certificate_number,
        applied_at=enrolment.applied_at,
        accepted_at=enrolment.accepted_at,
        completed_at=enrolment.completed_at,
        dropped_at=enrolment.dropped_at,
        attendance=[
            AttendanceRead(
                session_id=row.session_id,
                date=held.held_on,
                present=row.present,
                marked_by=row.marked_by,
                marked_at=row.marked_at,
            )
            for row, held in attendance
        ],
        history=[
            EventRead(
                from_status=EnrolmentStatus(e.from_status) if e.from_status else None,
                to_status=EnrolmentStatus(e.to_status),
                actor=e.actor,
                note=e.note,
                at=e.at,
            )
            for e in events
        ],
    )


def applied_on(enrolment: Enrolment) -> date:
    return _day(enrolment.applied_at)


def _day(moment: datetime) -> date:
    return moment.date()
