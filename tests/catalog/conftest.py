"""A small catalog world: two cooperatives, their households, products, and a user per role."""

from dataclasses import dataclass, field

import pytest

from api.models import Role, User
from catalog.models import Cooperative, Household, Lot, Product
from tests.catalog import factories


@dataclass
class World:
    coop_a: Cooperative
    coop_b: Cooperative
    household_a: Household
    household_a2: Household
    household_b: Household
    active: Product  # household A's, active, with a lot
    draft: Product  # household A's, draft
    coop_product: Product  # cooperative A's own, active
    other_coop_product: Product  # cooperative B's, active
    lot: Lot
    users: dict[str, User | None] = field(default_factory=dict)


@pytest.fixture
def world(session, make_user) -> World:
    coop_a = factories.create_coop(session, code="SJ")
    coop_b = factories.create_coop(session, code="HX", village="红星村")
    household_a = factories.create_household(session, coop=coop_a, name="王芳")
    household_a2 = factories.create_household(session, coop=coop_a, name="李四")
    household_b = factories.create_household(session, coop=coop_b, name="赵六")
    active = factories.create_product(session, coop=coop_a, household=household_a)
    draft = factories.create_product(
        session,
        coop=coop_a,
        household=household_a,
        status="draft",
        name={"zh": "新茶", "en": "New tea"},
        category="tea",
    )
    coop_product = factories.create_product(
        session, coop=coop_a, name={"zh": "松江大米", "en": "Songjiang rice"}, category="rice",
        unit="kg", price={"amount": 1200, "currency": "CNY"},
    )
    other = factories.create_product(
        session, coop=coop_b, household=household_b, name={"zh": "香菇", "en": "Shiitake"},
        category="mushrooms", price={"amount": 4500, "currency": "CNY"},
    )
    lot = factories.create_lot(session, product=active, quantity=10, code="SJ-LOT-0001")
    session.commit()
    users: dict[str, User | None] = {
        "anonymous": None,
        "buyer": make_user(Role.buyer),
        "farmer_a": make_user(Role.farmer, household_id=household_a.id, coop_id=coop_a.id),
        "farmer_a2": make_user(Role.farmer, household_id=household_a2.id, coop_id=coop_a.id),
        "manager_a": make_user(Role.manager, coop_id=coop_a.id),
        "manager_b": make_user(Role.manager, coop_id=coop_b.id),
        "staff": make_user(Role.staff),
        "admin": make_user(Role.admin),
    }
    return World(
        coop_a=coop_a,
        coop_b=coop_b,
        household_a=household_a,
        household_a2=household_a2,
        household_b=household_b,
        active=active,
        draft=draft,
        coop_product=coop_product,
        other_coop_product=other,
        lot=lot,
        users=users,
    )


@pytest.fixture
def as_role(world, login):
    """Headers for a role name in the world ('anonymous' gives none)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        user = world.users[role]
        if user is None:
            return {}
        if role not in cache:
            cache[role] = login(user)
        return cache[role]

    return headers
