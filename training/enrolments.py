"""Enrolment lifecycle `applied → accepted → attending → completed | dropped`, with who and when.

Every step locks the enrolment row first (re-reading it), so two staff members pressing "accept"
at once give one acceptance and one 409. Accepting takes a seat with one conditional UPDATE on the
programme's counter (`seats_taken < capacity`, backed by a CHECK) and finances it in the ledger in
the same transaction: a refused financing leaves neither the seat nor the status changed.
"""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Household, HouseholdStatus
from catalog.permissions import reads_coop
from catalog.schemas import LocalizedName, MoneyRead
from core.actor import Actor
from ledger.base import utcnow
from notify import outbox
from notify.kinds import Kind
from training import financing
from training.access import (
    actor_label,
    require_household,
    require_household_reader,
    require_staff,
)
from training.deductions import repaid as repaid  # re-exported: callers read it here
from training.errors import (
    AlreadyApplied,
    AttendanceMissing,
    DuplicateCertificate,
    IllegalEnrolmentStep,
    NoSeatsLeft,
    NotEligible,
    TrainingForbidden,
    TrainingInvalid,
    TrainingNotFound,
)
from training.models import (
    Attendance,
    Eligibility,
    Enrolment,
    EnrolmentEvent,
    EnrolmentStatus,
    Programme,
    ProgrammeCoop,
    ProgrammeSession,
    ProgrammeStatus,
    Repayment,
)
from training.programmes import get_programme, programme_dates
from training.schemas import AttendanceRead, EnrolmentCreate, EnrolmentRead, EventRead

S = EnrolmentStatus
# Which states each step may start from.
ACCEPTABLE = (S.applied,)
ATTENDABLE = (S.accepted, S.attending)
COMPLETABLE = (S.attending,)
DROPPABLE = (S.applied, S.accepted, S.attending)
SEAT_HOLDING = (S.accepted, S.attending, S.completed)


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _record(
    session: Session,
    enrolment: Enrolment,
    *,
    to: EnrolmentStatus,
    actor: Actor,
    note: str = "",
) -> None:
    previous = enrolment.status if enrolment.id is not None else None
    enrolment.status = to.value
    session.add(enrolment)
    session.flush()
    assert enrolment.id is not None
    session.add(
        EnrolmentEvent(
            enrolment_id=enrolment.id,
            from_status=previous if previous != to.value else None,
            to_status=to.value,
            actor=actor_label(actor),
            note=note[:500],
        )
    )
    session.flush()


def _locked(session: Session, enrolment_id: int) -> Enrolment:
    enrolment = session.scalars(
        select(Enrolment)
        .where(col(Enrolment.id) == enrolment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if enrolment is None:
        raise TrainingNotFound("enrolment", enrolment_id)
    return enrolment


def _require_state(enrolment: Enrolment, allowed: Sequence[EnrolmentStatus], step: str) -> None:
    if enrolment.status not in {s.value for s in allowed}:
        names = ", ".join(s.value for s in allowed)
        raise IllegalEnrolmentStep(
            f"Enrolment {enrolment.id} is {enrolment.status}; it can be {step} only when it is "
            f"{names}."
        )


def _household(session: Session, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise TrainingNotFound("household", household_id)
    return household


# Applying


def _applicant(session: Session, actor: Actor, data: EnrolmentCreate) -> Household:
    if actor.role == "farmer":
        if actor.household_id is None:
            raise TrainingForbidden("Your account is not linked to a member household.")
        if data.household_id not in (None, actor.household_id):
            raise TrainingForbidden("A farmer applies only for their own household.")
        household_id: int | None = actor.household_id
    elif actor.role == "manager" or actor.is_staff:
        household_id = data.household_id
    else:
        raise TrainingForbidden("Members apply through their farmer account or their manager.")
    if household_id is None:
        raise TrainingInvalid("Name the household that applies.", field="household_id")
    household = session.get(Household, household_id)
    if household is None:
        raise TrainingInvalid(f"There is no household {household_id}.", field="household_id")
    require_household(actor, household)
    return household


def _check_eligible(session: Session, programme: Programme, household: Household) -> None:
    if programme.status != ProgrammeStatus.open:
        raise NotEligible(
            f"Programme {programme.id} is {programme.status}: not taking applications."
        )
    if household.status != HouseholdStatus.active:
        raise NotEligible(f"Household {household.member_code} is no longer an active member.")
    if programme.eligibility == Eligibility.coops:
        allowed = session.scalar(
            select(col(ProgrammeCoop.coop_id)).where(
                col(ProgrammeCoop.programme_id) == programme.id,
                col(ProgrammeCoop.coop_id) == household.coop_id,
            )
        )
        if allowed is None:
            raise NotEligible(
                f"Programme {programme.id} is only for members of named cooperatives; "
                f"{household.member_code}'s cooperative is not one of them."
            )


def _deduction_rate(programme: Programme, data: EnrolmentCreate) -> int | None:
    if data.repayment == Repayment.fund:
        if data.deduction_bps is not None:
            raise TrainingInvalid(
                "deduction_bps is only for repayment 'deduction'.", field="deduction_bps"
            )
        return None
    cap = programme.deduction_cap_bps
    if cap is None:
        raise TrainingInvalid(
            f"Programme {programme.id} cannot be repaid by deduction.", field="repayment"
        )
    rate = data.deduction_bps if data.deduction_bps is not None else cap
    if rate > cap:
        raise TrainingInvalid(
            f"The deduction may be at most {cap} basis points ({cap / 100:g} %) of each share.",
            field="deduction_bps",
        )
    return rate


def apply(session: Session, *, actor: Actor, programme_id: int, data: EnrolmentCreate) -> Enrolment:
    programme = get_programme(session, programme_id)
    if not actor.is_staff and programme.status == ProgrammeStatus.draft:
        raise TrainingNotFound("programme", programme_id)
    household = _applicant(session, actor, data)
    _check_eligible(session, programme, household)
    rate = _deduction_rate(programme, data)
    existing = session.scalar(
        select(col(Enrolment.id)).where(
            col(Enrolment.programme_id) == programme_id,
            col(Enrolment.household_id) == household.id,
        )
    )
    if existing is not None:
        raise AlreadyApplied(
            f"Household {household.member_code} already applied to programme {programme_id} "
            f"(enrolment {existing})."
        )
    enrolment = Enrolment(
        programme_id=programme_id,
        household_id=household.id or 0,
        coop_id=household.coop_id,
        repayment=data.repayment.value,
        deduction_bps=rate,
        currency=programme.currency,
    )
    try:
        with session.begin_nested():
            _record(session, enrolment, to=S.applied, actor=actor)
    except IntegrityError:
        raise AlreadyApplied(
            f"Household {household.member_code} already applied to programme {programme_id}."
        ) from None
    return enrolment


# Accepting: a seat and its financing


def take_seat(session: Session, programme_id: int) -> bool:
    result = session.execute(
        update(Programme)
        .where(
            col(Programme.id) == programme_id, col(Programme.seats_taken) < col(Programme.capacity)
        )
        .values(seats_taken=col(Programme.seats_taken) + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release_seat(session: Session, programme_id: int) -> None:
    session.execute(
        update(Programme)
        .where(col(Programme.id) == programme_id, col(Programme.seats_taken) > 0)
        .values(seats_taken=col(Programme.seats_taken) - 1)
        .execution_options(synchronize_session=False)
    )


def accept(
    session: Session, *, actor: Actor, enrolment_id: int, today: date | None = None
) -> Enrolment:
    require_staff(actor)
    enrolment = _locked(session, enrolment_id)
    _require_state(enrolment, ACCEPTABLE, "accepted")
    programme = get_programme(session, enrolment.programme_id)
    if programme.status not in (ProgrammeStatus.open, ProgrammeStatus.closed):
        raise IllegalEnrolmentStep(
            f"Programme {programme.id} is {programme.status}; it accepts no one."
        )
    if not take_seat(session, programme.id or 0):
        raise NoSeatsLeft(f"All {programme.capacity} seats of programme {programme.id} are taken.")
    household = _household(session, enrolment.household_id)
    account, entry_id = financing.finance_seat(
        session,
        enrolment_id=enrolment_id,
        programme=programme,
        member_coop_id=household.coop_id,
        member_code=household.member_code,
        actor=actor_label(actor),
        on=today or date.today(),
    )
    enrolment.seat_cost = programme.seat_cost
    enrolment.currency = programme.currency
    enrolment.funding_account = account
    enrolment.financing_entry_id = entry_id
    enrolment.accepted_at = utcnow()
    _record(session, enrolment, to=S.accepted, actor=actor)
    outbox.record(
        session,
        kind=Kind.enrolment_accepted,
        event_key=f"enrolment:{enrolment_id}:accepted",
        audiences=[outbox.to_household(enrolment.household_id)],
        payload={
            "title_zh": programme.title_zh,
            "title_en": programme.title_en,
        },
    )
    session.refresh(programme)
    return enrolment


# Attendance and completion


def mark_attendance(
    session: Session,
    *,
    actor: Actor,
    enrolment_id: int,
    session_id: int,
    present: bool,
    today: date | None = None,
) -> Enrolment:
    """Mark one session attended (or not); a session still to come cannot be marked."""
    require_staff(actor)
    enrolment = _locked(session, enrolment_id)
    _require_state(enrolment, ATTENDABLE, "marked for attendance")
    held = session.get(ProgrammeSession, session_id)
    if held is None or held.programme_id != enrolment.programme_id:
        raise TrainingInvalid(
            f"Session {session_id} is not a session of programme {enrolment.programme_id}.",
            field="session_id",
        )
    if held.held_on > (today or date.today()):
        raise TrainingInvalid(
            f"Session {session_id} is on {held.held_on.isoformat()}, still to come: "
            "attendance is marked on the day or after.",
            field="session_id",
        )
    row = session.scalars(
        select(Attendance).where(
            col(Attendance.enrolment_id) == enrolment_id, col(Attendance.session_id) == session_id
        )
    ).first()
    if row is None:
        row = Attendance(
            enrolment_id=enrolment_id, session_id=session_id, present=present, marked_by=""
        )
    row.present = present
    row.marked_by = actor_label(actor)
    row.marked_at = utcnow()
    session.add(row)
    session.flush()
    if present and enrolment.status == S.accepted:
        _record(session, enrolment, to=S.attending, actor=actor, note=f"session {session_id}")
    return enrolment


def attended_count(session: Session, enrolment_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(col(Attendance.enrolment_id) == enrolment_id, col(Attendance.present))
        )
        or 0
    )


def complete(
    session: Session, *, actor: Actor, enrolment_id: int, certificate_number: str
) -> Enrolment:
    require_staff(actor)
    enrolment = _locked(session, enrolment_id)
    if enrolment.status == S.accepted:
        raise AttendanceMissing(
            f"Enrolment {enrolment_id} has no attendance yet; mark the sessions attended first."
        )
    _require_state(enrolment, COMPLETABLE, "completed")
    programme = get_programme(session, enrolment.programme_id)
    attended = attended_count(session, enrolment_id)
    if attended < programme.min_attendance:
        raise AttendanceMissing(
            f"Enrolment {enrolment_id} attended {attended} session(s); programme "
            f"{programme.id} needs {programme.min_attendance} for a certificate."
        )
    taken = session.scalar(
        select(col(Enrolment.id)).where(col(Enrolment.certificate_number) == certificate_number)
    )
    if taken is not None:
        raise DuplicateCertificate(
            f"Certificate number {certificate_number!r} is already on enrolment {taken}.",
            errors=[{"loc": ["body", "certificate_number"], "msg": "already used"}],
        )
    enrolment.certificate_number = certificate_number
    enrolment.completed_at = utcnow()
    try:
        with session.begin_nested():
            _record(session, enrolment, to=S.completed, actor=actor, note=certificate_number)
    except IntegrityError:
        raise DuplicateCertificate(
            f"Certificate number {certificate_number!r} is already used."
        ) from None
    return enrolment


# Dropping


def _may_drop(actor: Actor, enrolment: Enrolment, household: Household) -> None:
    if actor.is_staff:
        return
    own = actor.role == "farmer" and actor.household_id == household.id
    if own and enrolment.status in (S.applied, S.accepted):
        return
    raise TrainingForbidden(
        "Staff drop enrolments; a farmer may withdraw their own before attending."
    )


def drop(
    session: Session,
    *,
    actor: Actor,
    enrolment_id: int,
    reason: str = "",
    today: date | None = None,
) -> Enrolment:
    """Drop an enrolment; before the programme starts a financed seat's cost goes back to the fund."""
    enrolment = _locked(session, enrolment_id)
    household = _household(session, enrolment.household_id)
    _may_drop(actor, enrolment, household)
    _require_state(enrolment, DROPPABLE, "dropped")
    today = today or date.today()
    starts_on, _ends = programme_dates(session, enrolment.programme_id)
    held_seat = enrolment.status in {s.value for s in SEAT_HOLDING}
    before_start = starts_on is None or today < starts_on
    note = reason
    if held_seat and before_start:
        if enrolment.financing_entry_id is not None:
            enrolment.refund_entry_id = financing.refund_seat(
                session,
                entry_id=enrolment.financing_entry_id,
                enrolment_id=enrolment_id,
                actor=actor_label(actor),
            )
        release_seat(session, enrolment.programme_id)
        note = (reason + " " if reason else "") + "(before the start: seat cost returned)"
    enrolment.dropped_at = utcnow()
    _record(session, enrolment, to=S.dropped, actor=actor, note=note)
    return enrolment


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
