"""Governance errors: each names the rule that was broken and carries its HTTP status."""

from typing import Any

from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.text import N_


class GovernanceNotFound(NotFound):
    type_slug = "governance-not-found"


class GovernanceForbidden(Forbidden):
    type_slug = "governance-forbidden"


class GovernanceConflict(Conflict):
    type_slug = "governance-conflict"


class GovernanceInvalid(Invalid):
    type_slug = "governance-invalid"

    def __init__(self, detail: str, *, loc: list[str | int] | None = None) -> None:
        errors: list[dict[str, Any]] | None = (
            [{"loc": loc, "msg": detail}] if loc is not None else None
        )
        super().__init__(detail, errors=errors)


class AlreadyPublished(GovernanceConflict):
    type_slug = "disclosure-already-published"


class NotAMember(GovernanceForbidden):
    type_slug = "not-a-member"


class AlreadyDone(GovernanceConflict):
    """A second comment, vote or rating where only one is allowed."""

    type_slug = "already-done"
    msgid = N_("Your household has already done this.")


class WrongPhase(GovernanceConflict):
    """Commenting outside the comment period, voting outside the vote, closing twice."""

    type_slug = "hearing-wrong-phase"
    msgid = N_("The hearing cannot do this in its present stage.")
