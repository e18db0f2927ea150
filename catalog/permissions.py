"""Who may do what in the catalog: role AND ownership, decided from an `Actor` (no web types here)."""

from catalog.errors import CatalogForbidden
from catalog.models import Household, Product
from core.actor import Actor


def manages_coop(actor: Actor, coop_id: int) -> bool:
    return actor.is_staff or (actor.role == "manager" and actor.coop_id == coop_id)


def reads_coop(actor: Actor, coop_id: int) -> bool:
    """Staff and the auditor read every cooperative; a manager reads their own."""
    return actor.reads_all or (actor.role == "manager" and actor.coop_id == coop_id)


def require_coop_reader(actor: Actor, coop_id: int) -> None:
    if not reads_coop(actor, coop_id):
        raise CatalogForbidden(
            f"Only cooperative {coop_id}'s manager or staff may see this "
            f"(you are signed in as {actor.role})."
        )


def require_reader(actor: Actor) -> None:
    if not actor.reads_all:
        raise CatalogForbidden(f"Only staff may see this (you are signed in as {actor.role}).")


def may_edit_product(actor: Actor, product: Product) -> bool:
    if manages_coop(actor, product.coop_id):
        return True
    return (
        actor.role == "farmer"
        and actor.household_id is not None
        and product.household_id == actor.household_id
    )


def may_see_household(actor: Actor, household: Household) -> bool:
    if reads_coop(actor, household.coop_id):
        return True
    return actor.role == "farmer" and actor.household_id == household.id


def require_coop_manager(actor: Actor, coop_id: int) -> None:
    if not manages_coop(actor, coop_id):
        raise CatalogForbidden(
            f"Only cooperative {coop_id}'s manager or staff may do this "
            f"(you are signed in as {actor.role})."
        )


def may_see_product(actor: Actor, product: Product) -> bool:
    """Drafts and archived products: their editors, and staff and the auditor (who read all)."""
    return actor.reads_all or may_edit_product(actor, product)


def require_product_editor(actor: Actor, product: Product) -> None:
    if not may_edit_product(actor, product):
        raise CatalogForbidden(
            f"You may not change product {product.id}: a farmer edits only their own household's "
            "products, a manager only their cooperative's."
        )


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise CatalogForbidden(f"Only staff may do this (you are signed in as {actor.role}).")
