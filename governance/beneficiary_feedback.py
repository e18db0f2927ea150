"""Beneficiary feedback: a household rates the help it received — a training it completed, or a
service (its cooperative, the social enterprise, social work) — from 1 to 5 with a comment.

Anonymous to the provider: nobody reads who gave which rating. Only aggregates leave this module,
and only for groups of at least `min_group` households (HEZUO_DISCLOSURE_MIN_GROUP): the monthly
disclosure and the cooperative's summary show, per programme or service, how many households
rated it and their average; comments are shown only in such groups, without names.
"""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Household
from catalog.permissions import manages_coop
from core.actor import Actor
from core.text import N_
from governance.community_models import BeneficiaryFeedback, FeedbackService
from governance.errors import (
    AlreadyDone,
    GovernanceConflict,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
)
from training.models import Enrolment, EnrolmentStatus, Programme

ONCE = "once"  # the period of a training's feedback: one per enrolment, ever


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: int | None = None
    service: FeedbackService | None = None
    stars: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Annotated[str, Field(max_length=1000)] = ""


def _own_household(session: Session, actor: Actor, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None:
        raise GovernanceNotFound(f"No household {household_id}.")
    if not (actor.role == "farmer" and actor.household_id == household_id):
        raise GovernanceForbidden("Only the household itself gives its feedback.")
    return household


def _subject(
    session: Session, household: Household, data: FeedbackCreate, today: date
) -> dict[str, Any]:
    if (data.enrolment_id is None) == (data.service is None):
        raise GovernanceInvalid(
            "Rate either one training (enrolment_id) or one service.", loc=["body", "service"]
        )
    if data.service is not None:
        service = FeedbackService(data.service).value
        return {"service": service, "subject": f"service:{service}", "period": f"{today:%Y-%m}"}
    enrolment = session.get(Enrolment, data.enrolment_id)
    if enrolment is None or enrolment.household_id != household.id:
        raise GovernanceNotFound(f"Your household has no enrolment {data.enrolment_id}.")
    if enrolment.status != EnrolmentStatus.completed.value:
        raise GovernanceConflict("A training is rated once it is completed.")
    return {
        "enrolment_id": enrolment.id,
        "programme_id": enrolment.programme_id,
        "subject": f"enrolment:{enrolment.id}",
        "period": ONCE,
    }


def give(
    session: Session, *, actor: Actor, household_id: int, data: FeedbackCreate, today: date
) -> BeneficiaryFeedback:
    household = _own_household(session, actor, household_id)
    assert household.id is not None
    row = BeneficiaryFeedback(
        household_id=household.id,
        coop_id=household.coop_id,
        stars=data.stars,
        comment=data.comment.strip(),
        **_subject(session, household, data, today),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AlreadyDone(
            "Your household has already rated this.",
            msgid=N_("Your household has already answered or rated this: once only."),
        ) from None
    return row


def rateable_enrolments(session: Session, household_id: int) -> list[tuple[Enrolment, Programme]]:
    """The household's completed trainings it has not rated yet."""
    rated = set(
        session.scalars(
            select(col(BeneficiaryFeedback.enrolment_id)).where(
                col(BeneficiaryFeedback.household_id) == household_id
            )
        )
    )
    rows = session.execute(
        select(Enrolment, Programme)
        .join(Programme, col(Programme.id) == col(Enrolment.programme_id))
        .where(
            col(Enrolment.household_id) == household_id,
            col(Enrolment.status) == EnrolmentStatus.completed.value,
        )
        .order_by(col(Enrolment.id))
    ).all()
    return [(e, p) for e, p in rows if e.id not in rated]


def rated_services(session: Session, household_id: int, today: date) -> set[str]:
    query = select(col(BeneficiaryFeedback.service)).where(
        col(BeneficiaryFeedback.household_id) == household_id,
        col(BeneficiaryFeedback.period) == f"{today:%Y-%m}",
    )
    return {s for s in session.scalars(query) if s}


# --- aggregates -----------------------------------------------------------------------------


def _between(session: Session, coop_id: int, first: date, last: date) -> list[BeneficiaryFeedback]:
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    query = (
        select(BeneficiaryFeedback)
        .where(
            col(BeneficiaryFeedback.coop_id) == coop_id,
            col(BeneficiaryFeedback.created_at) >= start,
            col(BeneficiaryFeedback.created_at) < end,
        )
        .order_by(col(BeneficiaryFeedback.id))
    )
    return list(session.scalars(query))


def _key(row: BeneficiaryFeedback) -> str:
    return (
        f"programme:{row.programme_id}"
        if row.programme_id is not None
        else f"service:{row.service}"
    )


def aggregate(
    session: Session,
    *,
    coop_id: int,
    first: date,
    last: date,
    min_group: int,
    comments: bool = False,
) -> dict[str, Any]:
    """Per programme or service rated in [first, last]: households, average in tenths of a star
    and the count per star (with `comments`, also the comments, sorted, without names) — only
    for groups of at least `min_group` households; smaller groups are counted as `suppressed`.
    The published disclosure carries no comments: it is immutable, and free text may name
    someone."""
    groups: dict[str, list[BeneficiaryFeedback]] = defaultdict(list)
    for row in _between(session, coop_id, first, last):
        groups[_key(row)].append(row)
    shown, suppressed = [], 0
    for key in sorted(groups):
        rows = groups[key]
        households = len({r.household_id for r in rows})
        if households < min_group:
            suppressed += len(rows)
            continue
        total = sum(r.stars for r in rows)
        group: dict[str, Any] = {
            "subject": key,
            "title": _title(session, rows[0]),
            "households": households,
            "average_tenths": (total * 20 + len(rows)) // (2 * len(rows)),
            "stars": {str(n): sum(r.stars == n for r in rows) for n in range(1, 6)},
        }
        if comments:
            group["comments"] = sorted(r.comment for r in rows if r.comment)
        shown.append(group)
    return {"groups": shown, "suppressed": suppressed, "min_group": min_group}


def _title(session: Session, row: BeneficiaryFeedback) -> dict[str, str] | None:
    """A programme's bilingual title (a service is named by its key, translated when shown)."""
    programme = session.get(Programme, row.programme_id) if row.programme_id else None
    if programme is None:
        return None
    return {"zh": programme.title_zh, "en": programme.title_en or ""}


def summary(
    session: Session, *, actor: Actor, coop_id: int, first: date, last: date, min_group: int
) -> dict[str, Any]:
    """The cooperative's manager and staff read the same aggregates the disclosure shows."""
    if not manages_coop(actor, coop_id):
        raise GovernanceForbidden(
            f"Only cooperative {coop_id}'s manager or staff read its feedback summary."
        )
    return aggregate(
        session, coop_id=coop_id, first=first, last=last, min_group=min_group, comments=True
    )
