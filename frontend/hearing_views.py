"""What a share-rule hearing's page shows, shared by the hearing pages (members comment and vote)
and the organisers' forms (which re-render it when a step is refused)."""

from typing import Any

from fastapi import Request
from sqlmodel import Session

from api.deps import actor_of
from api.models import User
from catalog.models import Cooperative
from catalog.permissions import manages_coop
from core.actor import Actor
from core.errors import DomainError
from frontend.i18n import N_, by_locale, translator
from governance import hearings
from governance.models import HearingStatus

PART_LABELS = {
    "producers": N_("Producer households"),
    "collective_fund": N_("Collective fund"),
    "training_fund": N_("Training fund"),
    "enterprise": N_("Social enterprise"),
}


def may_take_part(session: Session, actor: Actor, hearing_id: int) -> bool:
    hearing = hearings.get_hearing(session, hearing_id)
    try:
        hearings._member_household(session, actor, hearing)
    except DomainError:
        return False
    return True


def runs_hearings(user: User | None) -> bool:
    """Staff, admins and managers open and close hearings (an auditor only reads)."""
    return user is not None and user.role in ("staff", "admin", "manager")


def hearing_context(
    request: Request, session: Session, user: User | None, hearing_id: int, done: str = ""
) -> dict[str, Any]:
    """The hearing page's variables; `organiser` for staff and the cooperative's manager."""
    gettext = translator(request).gettext
    hearing = hearings.get_hearing(session, hearing_id)
    coop = session.get(Cooperative, hearing.coop_id)
    organiser = runs_hearings(user) and manages_coop(actor_of(user), hearing.coop_id)
    voting = hearing.status == HearingStatus.voting
    return {
        "h": hearings.hearing_read(session, hearing),
        "coop": coop,
        "coop_name": lambda c: by_locale(request, c.name_zh, c.name_en) if c else "",
        "part_label": lambda key: gettext(PART_LABELS[key]) if key in PART_LABELS else key,
        "member": may_take_part(session, actor_of(user), hearing_id),
        "organiser": organiser,
        "commenting": hearing.status == HearingStatus.comment,
        "voting": voting,
        "yet_to_vote": (
            hearings.households_yet_to_vote(session, hearing) if organiser and voting else []
        ),
        "vote_values": {},
        "vote_problem": "",
        "done": done,
        "problem": "",
    }
