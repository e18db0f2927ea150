"""Training errors, each naming the rule that was broken and the field at fault."""

from typing import Any

from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.text import N_


def _loc(field: str | None) -> list[dict[str, Any]] | None:
    return [{"loc": ["body", field], "msg": "see detail"}] if field else None


class TrainingNotFound(NotFound):
    type_slug = "training-not-found"

    def __init__(self, thing: str, key: object) -> None:
        super().__init__(f"No {thing} {key!r} here (or you may not see it).")


class TrainingForbidden(Forbidden):
    type_slug = "training-forbidden"


class TrainingInvalid(Invalid):
    type_slug = "training-invalid"
    msgid = N_("Some details are not right.")

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, errors=_loc(field))


class AlreadyApplied(Conflict):
    title = "Already applied"
    type_slug = "training-already-applied"
    msgid = N_("You have already applied.")


class NoSeatsLeft(Conflict):
    title = "No seats left"
    type_slug = "training-no-seats"
    msgid = N_("No seats are left.")


class FundTooSmall(Conflict):
    title = "Training fund cannot cover the seat"
    type_slug = "training-fund-too-small"
    msgid = N_("The training fund holds %(available)s; the seat costs %(cost)s.")


class IllegalEnrolmentStep(Conflict):
    title = "Not possible in this enrolment state"
    type_slug = "training-illegal-step"
    msgid = N_("Not possible in this enrolment's present state.")


class NotEligible(Conflict):
    title = "Not eligible"
    type_slug = "training-not-eligible"
    msgid = N_("This programme is not open to you.")


class AttendanceMissing(Conflict):
    title = "Not enough attendance"
    type_slug = "training-attendance-missing"
    msgid = N_("Not enough sessions were attended.")


class DuplicateCertificate(Conflict):
    title = "Certificate number already used"
    type_slug = "training-duplicate-certificate"
    msgid = N_("This certificate number is already used.")
