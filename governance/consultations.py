"""Community consultations: a question to a cooperative's member households, with options or
free answers, open between two dates; one answer per household; results with counts (and the
cooperative's reply) published once it closes.

Privacy: no individual answer is ever public or shown to another household. The public sees the
question, and after closing the counts per option, the number of answers and the reply; free
answers are read (without who wrote them) only by the cooperative's manager and staff. A
household sees only that it has answered, and what.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Household, HouseholdStatus
from catalog.permissions import manages_coop
from core.actor import Actor
from core.text import N_
from governance.community_models import Consultation, ConsultationAnswer, ConsultationOption
from governance.errors import (
    AlreadyDone,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
    NotAMember,
    WrongPhase,
)
from ledger.base import utcnow

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Label = Annotated[Text, Field(max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsultationCreate(Strict):
    question: Annotated[Text, Field(max_length=500)]
    options: Annotated[list[Label], Field(max_length=12)] = []  # none: free answers
    opens_on: date
    closes_on: date


class AnswerCreate(Strict):
    option_id: int | None = None
    text: Annotated[str, Field(max_length=1000)] = ""


class ReplyCreate(Strict):
    reply: Annotated[Text, Field(max_length=2000)]


NOT_OPEN = N_("This consultation is not open for that now.")
ONCE_ONLY = N_("Your household has already answered or rated this: once only.")


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise GovernanceNotFound(f"No consultation {consultation_id}.")
    return found


def phase(consultation: Consultation, today: date) -> str:
    if today < consultation.opens_on:
        return "upcoming"
    if today <= consultation.closes_on:
        return "open"
    return "closed"


def _require_organiser(actor: Actor, coop_id: int) -> None:
    if not manages_coop(actor, coop_id):
        raise GovernanceForbidden(
            f"Only cooperative {coop_id}'s manager or staff consult its members."
        )


def create(
    session: Session, *, actor: Actor, coop_id: int, data: ConsultationCreate, today: date
) -> Consultation:
    _require_organiser(actor, coop_id)
    if data.closes_on < today:
        raise GovernanceInvalid("The closing date has already passed.", loc=["body", "closes_on"])
    if data.closes_on < data.opens_on:
        raise GovernanceInvalid(
            "The consultation must close on or after the day it opens.", loc=["body", "closes_on"]
        )
    labels = [label.strip() for label in data.options]
    if len(labels) == 1:
        raise GovernanceInvalid(
            "Give at least two options, or none for free answers.", loc=["body", "options"]
        )
    if len(set(labels)) != len(labels):
        raise GovernanceInvalid("Two options say the same.", loc=["body", "options"])
    assert actor.user_id is not None
    row = Consultation(
        coop_id=coop_id,
        question=data.question,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add_all(
        ConsultationOption(consultation_id=row.id, position=i, label=label)
        for i, label in enumerate(labels)
    )
    session.flush()
    return row


def options_of(session: Session, consultation_id: int) -> list[ConsultationOption]:
    query = (
        select(ConsultationOption)
        .where(col(ConsultationOption.consultation_id) == consultation_id)
        .order_by(col(ConsultationOption.position))
    )
    return list(session.scalars(query))


def _member_household(session: Session, actor: Actor, coop_id: int) -> Household:
    household = (
        session.get(Household, actor.household_id)
        if actor.role == "farmer" and actor.household_id is not None
        else None
    )
    if (
        household is None
        or household.coop_id != coop_id
        or household.status != HouseholdStatus.active
    ):
        raise NotAMember(
            f"Only member households of cooperative {coop_id} answer its consultations "
            "(signed in with their farmer account).",
            msgid=N_("Only member households of this cooperative answer its consultations."),
        )
    return household


def _check_answer(
    session: Session, consultation: Consultation, data: AnswerCreate
) -> tuple[int | None, str]:
    assert consultation.id is not None
    options = {o.id for o in options_of(session, consultation.id)}
    text = data.text.strip()
    if options:
        if data.option_id not in options:
            raise GovernanceInvalid("Choose one of the options.", loc=["body", "option_id"])
        return data.option_id, ""
    if data.option_id is not None or not text:
        raise GovernanceInvalid("Write your answer.", loc=["body", "text"])
    return None, text


def answer(
    session: Session, *, actor: Actor, consultation_id: int, data: AnswerCreate, today: date
) -> ConsultationAnswer:
    consultation = get_consultation(session, consultation_id)
    household = _member_household(session, actor, consultation.coop_id)
    if phase(consultation, today) != "open":
        raise WrongPhase(
            f"This consultation is open from {consultation.opens_on} to {consultation.closes_on}.",
            msgid=NOT_OPEN,
        )
    option_id, text = _check_answer(session, consultation, data)
    assert household.id is not None
    assert actor.user_id is not None
    row = ConsultationAnswer(
        consultation_id=consultation_id,
        household_id=household.id,
        option_id=option_id,
        text=text,
        answered_by=actor.user_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AlreadyDone(
            "Your household has already answered this consultation; one answer per household.",
            msgid=ONCE_ONLY,
        ) from None
    return row


def reply(
    session: Session, *, actor: Actor, consultation_id: int, data: ReplyCreate, today: date
) -> Consultation:
    consultation = get_consultation(session, consultation_id)
    _require_organiser(actor, consultation.coop_id)
    if phase(consultation, today) != "closed":
        raise WrongPhase(
            "The cooperative replies once the consultation has closed.", msgid=NOT_OPEN
        )
    consultation.reply = data.reply
    consultation.replied_at = utcnow()
    session.add(consultation)
    session.flush()
    return consultation


# --- reading --------------------------------------------------------------------------------


def answer_of(
    session: Session, consultation_id: int, household_id: int
) -> ConsultationAnswer | None:
    query = select(ConsultationAnswer).where(
        col(ConsultationAnswer.consultation_id) == consultation_id,
        col(ConsultationAnswer.household_id) == household_id,
    )
    return session.scalars(query).first()


def _answer_count(session: Session, consultation_id: int) -> int:
    query = select(func.count()).where(col(ConsultationAnswer.consultation_id) == consultation_id)
    return int(session.scalar(query.select_from(ConsultationAnswer)) or 0)


def _counts(session: Session, consultation_id: int) -> dict[int, int]:
    rows = session.execute(
        select(col(ConsultationAnswer.option_id), func.count())
        .where(col(ConsultationAnswer.consultation_id) == consultation_id)
        .group_by(col(ConsultationAnswer.option_id))
    ).all()
    return {int(option): int(n) for option, n in rows if option is not None}


def active_households(session: Session, coop_id: int) -> int:
    query = (
        select(func.count())
        .select_from(Household)
        .where(
            col(Household.coop_id) == coop_id, col(Household.status) == HouseholdStatus.active.value
        )
    )
    return int(session.scalar(query) or 0)


def consultation_read(session: Session, consultation: Consultation, today: date) -> dict[str, Any]:
    """Public: the question and options; counts, turnout and the reply only once closed."""
    assert consultation.id is not None
    state = phase(consultation, today)
    options = options_of(session, consultation.id)
    closed = state == "closed"
    counts = _counts(session, consultation.id) if closed else {}
    return {
        "id": consultation.id,
        "coop_id": consultation.coop_id,
        "question": consultation.question,
        "opens_on": consultation.opens_on.isoformat(),
        "closes_on": consultation.closes_on.isoformat(),
        "phase": state,
        "free_answers": not options,
        "options": [
            {"id": o.id, "label": o.label, "count": counts.get(o.id or 0, 0) if closed else None}
            for o in options
        ],
        "results": (
            {
                "answers": _answer_count(session, consultation.id),
                "households": active_households(session, consultation.coop_id),
            }
            if closed
            else None
        ),
        "reply": consultation.reply or None,
    }


def list_for_coop(session: Session, coop_id: int) -> list[Consultation]:
    query = (
        select(Consultation)
        .where(col(Consultation.coop_id) == coop_id)
        .order_by(col(Consultation.closes_on).desc(), col(Consultation.id).desc())
    )
    return list(session.scalars(query))


def free_answers(session: Session, *, actor: Actor, consultation_id: int) -> list[str]:
    """The written answers, without who wrote them, for the cooperative's manager and staff."""
    consultation = get_consultation(session, consultation_id)
    _require_organiser(actor, consultation.coop_id)
    query = (
        select(col(ConsultationAnswer.text))
        .where(
            col(ConsultationAnswer.consultation_id) == consultation_id,
            col(ConsultationAnswer.text) != "",
        )
        .order_by(col(ConsultationAnswer.text))  # not by time: the order would hint at who
    )
    return list(session.scalars(query))


def closed_results(
    session: Session, coop_id: int, today: date, limit: int = 3
) -> list[dict[str, Any]]:
    """The latest closed consultations with their results, for the public cooperative page."""
    query = (
        select(Consultation)
        .where(col(Consultation.coop_id) == coop_id, col(Consultation.closes_on) < today)
        .order_by(col(Consultation.closes_on).desc(), col(Consultation.id).desc())
        .limit(limit)
    )
    return [consultation_read(session, c, today) for c in session.scalars(query)]
