"""Who may do what in the catalog: role AND ownership, decided from an `Actor` (no web types here)."""

from dataclasses import dataclass

from catalog.errors import CatalogForbidden
from catalog.models import Household, Product

STAFF = frozenset({"staff", "admin"})


@dataclass(frozen=True)
class Actor:
    """The signed-in person as the catalog sees them (the edges build it from their user)."""

    user_id: int | None
    role: str  # "anonymous", "buyer", "farmer", "manager", "staff", "admin"
    coop_id: int | None = None
    household_id: int | None = None

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(user_id=None, role="anonymous")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


def manages_coop(actor: Actor, coop_id: int) -> bool:
    return actor.is_staff or (actor.role == "manager" and actor.coop_id == coop_id)


def may_edit_product(actor: Actor, product: Product) -> bool:
    if manages_coop(actor, product.coop_id):
        return True
    return (
        actor.role == "farmer"
        and actor.household_id is not None
        and product.household_id == actor.household_id
    )


def may_see_household(actor: Actor, household: Household) -> bool:
    if manages_coop(actor, household.coop_id):
        return True
    return actor.role == "farmer" and actor.household_id == household.id


def require_coop_manager(actor: Actor, coop_id: int) -> None:
    if not manages_coop(actor, coop_id):
        raise CatalogForbidden(
            f"Only cooperative {coop_id}'s manager or staff may do this "
            f"(you are signed in as {actor.role})."
        )


def require_product_editor(actor: Actor, product: Product) -> None:
    if not may_edit_product(actor, product):
        raise CatalogForbidden(
            f"You may not change product {product.id}: a farmer edits only their own household's "
            "products, a manager only their cooperative's."
        )


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise CatalogForbidden(f"Only staff may do this (you are signed in as {actor.role}).")
