"""Who may do what in training: staff run it, managers see their cooperative, farmers their household."""

from catalog.models import Household
from catalog.permissions import manages_coop
from core.actor import Actor
from training.errors import TrainingForbidden


def actor_label(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else actor.role


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise TrainingForbidden(
            f"Only staff may do this in training (you are signed in as {actor.role})."
        )


def require_reader(actor: Actor) -> None:
    if not actor.reads_all:
        raise TrainingForbidden(
            f"Only staff may see this in training (you are signed in as {actor.role})."
        )


def may_act_for_household(actor: Actor, household: Household) -> bool:
    """Staff, the household's cooperative manager, or the household's own farmer."""
    if manages_coop(actor, household.coop_id):
        return True
    return actor.role == "farmer" and actor.household_id == household.id


def require_household_reader(actor: Actor, household: Household) -> None:
    """Staff and the auditor, the household's cooperative manager, or the household itself."""
    if actor.reads_all or may_act_for_household(actor, household):
        return
    raise TrainingForbidden(
        "A farmer sees only their own household, a manager only their cooperative's."
    )


def require_household(actor: Actor, household: Household) -> None:
    if not may_act_for_household(actor, household):
        raise TrainingForbidden(
            "A farmer acts only for their own household, a manager only for their cooperative's."
        )
