"""Training errors, each naming the rule that was broken and the field at fault."""

from typing import Any

from core.errors import Conflict, Forbidden, Invalid, NotFound


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

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, errors=_loc(field))


class AlreadyApplied(Conflict):
    title = "Already applied"
    type_slug = "training-already-applied"


class NoSeatsLeft(Conflict):
    title = "No seats left"
    type_slug = "training-no-seats"


class FundTooSmall(Conflict):
    title = "Training fund cannot cover the seat"
    type_slug = "training-fund-too-small"


class IllegalEnrolmentStep(Conflict):
    title = "Not possible in this enrolment state"
    type_slug = "training-illegal-step"


class NotEligible(Conflict):
    title = "Not eligible"
    type_slug = "training-not-eligible"


class AttendanceMissing(Conflict):
    title = "Not enough attendance"
    type_slug = "training-attendance-missing"


class DuplicateCertificate(Conflict):
    title = "Certificate number already used"
    type_slug = "training-duplicate-certificate"
