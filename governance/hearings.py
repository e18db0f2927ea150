"""Share-rule hearings: a proposal, a comment period, a vote of the households, and adoption.

Staff or the cooperative's manager propose new parts with a reason; each member household (its
farmer account) may comment once while comments are open, then vote once (yes, no, abstain)
while the vote is open and its last day has not passed. Closing counts the votes: the quorum is
votes cast against the cooperative's active households, the majority is yes against yes + no
(abstentions count for the quorum only). An adopted proposal becomes a new share-rule version
through orders' own service, effective on its proposed date or the day of adoption if that is
later, so a rule is never retroactive; the producers' floor is checked on proposal and again by
orders on adoption.
"""

from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Cooperative, Household, HouseholdStatus
from catalog.permissions import manages_coop
from core.actor import Actor
from governance.errors import (
    AlreadyDone,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
    NotAMember,
    WrongPhase,
)
from governance.models import Hearing, HearingComment, HearingStatus, HearingVote, VoteChoice
from ledger.base import utcnow
from ledger.share_rules import ShareParts, check_producers_floor
from notify import outbox
from notify.kinds import Kind
from orders.config import FEE_BEARERS, OrderPolicy
from orders.share_rules import set_share_rule


def _label(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else actor.role


def _require_organiser(actor: Actor, coop_id: int) -> None:
    if not manages_coop(actor, coop_id):
        raise GovernanceForbidden(
            f"Only staff or cooperative {coop_id}'s manager may run its hearings "
            f"(you are {actor.role})."
        )


def get_hearing(session: Session, hearing_id: int) -> Hearing:
    hearing = session.get(Hearing, hearing_id)
    if hearing is None:
        raise GovernanceNotFound(f"No hearing {hearing_id}.")
    return hearing


def propose(
    session: Session,
    *,
    actor: Actor,
    coop_id: int,
    parts: dict[str, int],
    fee_bearer: str,
    reason: str,
    effective_from: date,
    comment_until: date,
    vote_until: date,
    quorum_bp: int,
    majority_bp: int,
    policy: OrderPolicy,
    today: date | None = None,
) -> Hearing:
    today = today or date.today()
    if session.get(Cooperative, coop_id) is None:
        raise GovernanceNotFound(f"No cooperative {coop_id}.")
    _require_organiser(actor, coop_id)
    rule = ShareParts(**parts)  # 422 naming the part when they don't sum to 10,000
    check_producers_floor(rule, floor=policy.producers_floor_bp)
    if fee_bearer not in FEE_BEARERS:
        raise GovernanceInvalid(
            "fee_bearer is 'enterprise' or 'pro_rata'.", loc=["body", "fee_bearer"]
        )
    if not reason.strip():
        raise GovernanceInvalid("Give the reason for the change.", loc=["body", "reason"])
    if comment_until < today:
        raise GovernanceInvalid(
            "The comment period cannot end in the past.", loc=["body", "comment_until"]
        )
    if vote_until < comment_until:
        raise GovernanceInvalid(
            "The vote ends on or after the comment period.", loc=["body", "vote_until"]
        )
    if effective_from < vote_until:
        raise GovernanceInvalid(
            "A new rule takes effect on or after the vote's last day: never retroactively.",
            loc=["body", "effective_from"],
        )
    hearing = Hearing(
        coop_id=coop_id,
        **rule.as_columns(),
        fee_bearer=fee_bearer,
        reason=reason.strip(),
        effective_from=effective_from,
        comment_until=comment_until,
        vote_until=vote_until,
        quorum_bp=quorum_bp,
        majority_bp=majority_bp,
        proposed_by=_label(actor),
    )
    session.add(hearing)
    session.flush()
    outbox.record(
        session,
        kind=Kind.hearing_opened,
        event_key=f"hearing:{hearing.id}:opened",
        audiences=[outbox.to_coop_members(coop_id)],
        payload={
            "hearing_id": hearing.id,
            "comment_until": comment_until,
            "vote_until": vote_until,
        },
    )
    return hearing


def _member_household(session: Session, actor: Actor, hearing: Hearing) -> Household:
    household = (
        session.get(Household, actor.household_id)
        if actor.role == "farmer" and actor.household_id is not None
        else None
    )
    if (
        household is None
        or household.coop_id != hearing.coop_id
        or household.status != HouseholdStatus.active
    ):
        raise NotAMember(
            f"Only member households of cooperative {hearing.coop_id} comment and vote in its "
            "hearings (signed in with their farmer account)."
        )
    return household


def _insert_once(session: Session, row: HearingComment | HearingVote, what: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AlreadyDone(
            f"Your household has already {what} in this hearing; one per household."
        ) from None


def comment(
    session: Session, *, actor: Actor, hearing_id: int, body: str, today: date | None = None
) -> HearingComment:
    hearing = get_hearing(session, hearing_id)
    household = _member_household(session, actor, hearing)
    if hearing.status != HearingStatus.comment or (today or date.today()) > hearing.comment_until:
        raise WrongPhase(f"Hearing {hearing_id} no longer takes comments.")
    if not body.strip():
        raise GovernanceInvalid("A comment needs some text.", loc=["body", "body"])
    row = HearingComment(
        hearing_id=hearing_id,
        household_id=household.id or 0,
        user_id=actor.user_id or 0,
        body=body.strip(),
    )
    _insert_once(session, row, "commented")
    return row


def start_vote(session: Session, *, actor: Actor, hearing_id: int) -> Hearing:
    hearing = get_hearing(session, hearing_id)
    _require_organiser(actor, hearing.coop_id)
    if hearing.status != HearingStatus.comment:
        raise WrongPhase(f"Hearing {hearing_id} is {hearing.status}, not in its comment period.")
    hearing.status = HearingStatus.voting.value
    hearing.voting_started_at = utcnow()
    session.add(hearing)
    session.flush()
    return hearing


def vote(
    session: Session, *, actor: Actor, hearing_id: int, choice: str, today: date | None = None
) -> HearingVote:
    hearing = get_hearing(session, hearing_id)
    household = _member_household(session, actor, hearing)
    if choice not in (VoteChoice.yes, VoteChoice.no, VoteChoice.abstain):
        raise GovernanceInvalid("choice is 'yes', 'no' or 'abstain'.", loc=["body", "choice"])
    if hearing.status != HearingStatus.voting:
        raise WrongPhase(f"Hearing {hearing_id} is {hearing.status}: no vote is open.")
    if (today or date.today()) > hearing.vote_until:
        raise WrongPhase(f"The vote of hearing {hearing_id} ended on {hearing.vote_until}.")
    row = HearingVote(
        hearing_id=hearing_id,
        household_id=household.id or 0,
        user_id=actor.user_id or 0,
        choice=choice,
    )
    _insert_once(session, row, "voted")
    return row


def record_vote(
    session: Session,
    *,
    actor: Actor,
    hearing_id: int,
    household_id: int,
    choice: str,
    today: date | None = None,
) -> HearingVote:
    """A member household's vote cast on paper or by hand at a meeting, entered by an organiser
    (staff or the cooperative's manager). The same rules as a vote cast online: an active member
    household of the hearing's cooperative, once, while the vote is open. The row keeps who
    entered it (`user_id` is the organiser's, not a member's account)."""
    hearing = get_hearing(session, hearing_id)
    _require_organiser(actor, hearing.coop_id)
    household = session.get(Household, household_id)
    if (
        household is None
        or household.coop_id != hearing.coop_id
        or household.status != HouseholdStatus.active
    ):
        raise GovernanceInvalid(
            f"Household {household_id} is not an active member of cooperative {hearing.coop_id}.",
            loc=["body", "household_id"],
        )
    if choice not in (VoteChoice.yes, VoteChoice.no, VoteChoice.abstain):
        raise GovernanceInvalid("choice is 'yes', 'no' or 'abstain'.", loc=["body", "choice"])
    if hearing.status != HearingStatus.voting:
        raise WrongPhase(f"Hearing {hearing_id} is {hearing.status}: no vote is open.")
    if (today or date.today()) > hearing.vote_until:
        raise WrongPhase(f"The vote of hearing {hearing_id} ended on {hearing.vote_until}.")
    row = HearingVote(
        hearing_id=hearing_id,
        household_id=household_id,
        user_id=actor.user_id or 0,
        choice=choice,
    )
    _insert_once(session, row, "voted")
    return row


def households_yet_to_vote(session: Session, hearing: Hearing) -> list[Household]:
    """The cooperative's active member households with no vote in this hearing yet."""
    voted = select(col(HearingVote.household_id)).where(col(HearingVote.hearing_id) == hearing.id)
    return list(
        session.scalars(
            select(Household)
            .where(
                col(Household.coop_id) == hearing.coop_id,
                col(Household.status) == HouseholdStatus.active.value,
                col(Household.id).not_in(voted),
            )
            .order_by(col(Household.member_code))
        ).all()
    )


def _counts(session: Session, hearing: Hearing) -> dict[str, int]:
    rows = session.execute(
        select(col(HearingVote.choice), func.count(col(HearingVote.id)))
        .where(col(HearingVote.hearing_id) == hearing.id)
        .group_by(col(HearingVote.choice))
    ).all()
    counts = {c.value: 0 for c in VoteChoice}
    counts.update({str(choice): int(n) for choice, n in rows})
    return counts


def close(
    session: Session,
    *,
    actor: Actor,
    hearing_id: int,
    policy: OrderPolicy,
    today: date | None = None,
) -> Hearing:
    today = today or date.today()
    hearing = get_hearing(session, hearing_id)
    _require_organiser(actor, hearing.coop_id)
    if hearing.status != HearingStatus.voting:
        raise WrongPhase(f"Hearing {hearing_id} is {hearing.status}: only a vote can be closed.")
    counts = _counts(session, hearing)
    eligible = int(
        session.scalar(
            select(func.count(col(Household.id))).where(
                col(Household.coop_id) == hearing.coop_id,
                col(Household.status) == HouseholdStatus.active.value,
            )
        )
        or 0
    )
    cast = sum(counts.values())
    quorum_met = eligible > 0 and cast * 10_000 >= hearing.quorum_bp * eligible
    decided = counts["yes"] + counts["no"]
    majority_met = decided > 0 and counts["yes"] * 10_000 > hearing.majority_bp * decided
    adopted = quorum_met and majority_met
    hearing.tally = {
        **counts,
        "cast": cast,
        "eligible": eligible,
        "quorum_bp": hearing.quorum_bp,
        "majority_bp": hearing.majority_bp,
        "quorum_met": quorum_met,
        "majority_met": majority_met,
    }
    if adopted:
        effective = max(hearing.effective_from, today)
        rule = set_share_rule(
            session,
            coop_id=hearing.coop_id,
            effective_from=effective,
            parts=parts_of(hearing),
            fee_bearer=hearing.fee_bearer,
            created_by=f"hearing:{hearing.id}",
            policy=policy,
        )
        hearing.share_rule_id = rule.id
        hearing.adopted_from = effective
    hearing.status = (HearingStatus.adopted if adopted else HearingStatus.rejected).value
    hearing.decided_at = utcnow()
    session.add(hearing)
    session.flush()
    return hearing


def parts_of(hearing: Hearing) -> ShareParts:
    return ShareParts.of_row(hearing)


def list_hearings(session: Session, *, coop_id: int | None = None) -> list[Hearing]:
    query = select(Hearing).order_by(col(Hearing.id).desc())
    if coop_id is not None:
        query = query.where(col(Hearing.coop_id) == coop_id)
    return list(session.scalars(query).all())


def hearing_read(session: Session, hearing: Hearing) -> dict[str, Any]:
    """The public view: the proposal, comments under member codes, and the tally once decided."""
    comments = session.execute(
        select(HearingComment, col(Household.member_code))
        .join(Household, col(Household.id) == col(HearingComment.household_id))
        .where(col(HearingComment.hearing_id) == hearing.id)
        .order_by(col(HearingComment.id))
    ).tuples()
    counts = _counts(session, hearing)
    decided = hearing.status in (HearingStatus.adopted, HearingStatus.rejected)
    return {
        "id": hearing.id,
        "coop_id": hearing.coop_id,
        "status": hearing.status,
        "parts": parts_of(hearing).as_dict(),
        "fee_bearer": hearing.fee_bearer,
        "reason": hearing.reason,
        "effective_from": hearing.effective_from.isoformat(),
        "comment_until": hearing.comment_until.isoformat(),
        "vote_until": hearing.vote_until.isoformat(),
        "quorum_bp": hearing.quorum_bp,
        "majority_bp": hearing.majority_bp,
        "proposed_at": hearing.created_at.isoformat(),
        "comments": [
            {"member_code": code, "body": c.body, "created_at": c.created_at.isoformat()}
            for c, code in comments
        ],
        "votes_cast": sum(counts.values()),
        "tally": hearing.tally if decided else None,
        "share_rule_id": hearing.share_rule_id,
        "adopted_from": hearing.adopted_from.isoformat() if hearing.adopted_from else None,
        "decided_at": hearing.decided_at.isoformat() if hearing.decided_at else None,
    }
