"""Test data for group and community work: a finished programme and completed enrolments,
written straight to the tables (the training rules are tested in tests/training)."""

from sqlmodel import Session

from catalog.models import Household
from ledger.base import utcnow
from training.models import Enrolment, Programme, TrainingProvider


def completed_enrolments(
    session: Session, households: list[Household], *, title: str = "养蜂培训"
) -> tuple[Programme, list[Enrolment]]:
    provider = TrainingProvider(name="县农技站", currency="CNY")
    session.add(provider)
    session.flush()
    assert provider.id is not None
    programme = Programme(
        provider_id=provider.id,
        title_zh=title,
        title_en="Bee-keeping",
        skill_area="beekeeping",
        capacity=20,
        seats_taken=len(households),
        seat_cost=0,
        currency="CNY",
        funding_source="enterprise",
        status="finished",
    )
    session.add(programme)
    session.flush()
    assert programme.id is not None
    enrolments = []
    for household in households:
        assert household.id is not None
        enrolment = Enrolment(
            programme_id=programme.id,
            household_id=household.id,
            coop_id=household.coop_id,
            status="completed",
            currency="CNY",
            completed_at=utcnow(),
        )
        session.add(enrolment)
        enrolments.append(enrolment)
    session.flush()
    session.commit()
    return programme, enrolments
