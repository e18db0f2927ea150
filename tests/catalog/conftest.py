"""A small catalog world: two cooperatives, their households, products, and a user per role."""

from collections.abc import Callable
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
    make_user: Callable[..., User]
    users: dict[str, User | None] = field(default_factory=dict)

    def user(self, role: str) -> User | None:
        """The world's user for a role name, made on first use (password hashing is slow)."""
        if role not in self.users:
            fields = {
                "buyer": (Role.buyer, {}),
                "farmer_a": (
                    Role.farmer,
                    {"household_id": self.household_a.id, "coop_id": self.coop_a.id},
                ),
                "farmer_a2": (
                    Role.farmer,
                    {"household_id": self.household_a2.id, "coop_id": self.coop_a.id},
                ),
                "manager_a": (Role.manager, {"coop_id": self.coop_a.id}),
                "manager_b": (Role.manager, {"coop_id": self.coop_b.id}),
                "staff": (Role.staff, {}),
                "admin": (Role.admin, {}),
            }
            if role == "anonymous":
                self.users[role] = None
            else:
                kind, extra = fields[role]
                self.users[role] = self.make_user(kind, **extra)
        return self.users[role]


@pytest.fixture
def world(session, make_user) -> World:
    coop_a = factories.create_coop(session, code="SJ")
    coop_b = factories.create_coop(session, code="HX", village="红星村")
    household_a = factories.create_household(session, coop=coop_a, name="王芳")
    household_a2 = factories.create_household(session, coop=coop_a, name="李四")
    household_b = factories.create_household(session, coop=coop_b, name="赵六")
    active = factories.create_product(
        session,
        coop=coop_a,
        household=household_a,
        description={"zh": "百花蜜", "en": "Wildflower honey"},
    )
    draft = factories.create_product(
        session,
        coop=coop_a,
        household=household_a,
        status="draft",
        name={"zh": "新茶", "en": "New tea"},
        category="tea",
    )
    coop_product = factories.create_product(
        session,
        coop=coop_a,
        name={"zh": "松江大米", "en": "Songjiang rice"},
        category="rice",
        unit="kg",
        price={"amount": 1200, "currency": "CNY"},
    )
    other = factories.create_product(
        session,
        coop=coop_b,
        household=household_b,
        name={"zh": "香菇", "en": "Shiitake"},
        category="mushrooms",
        price={"amount": 4500, "currency": "CNY"},
    )
    lot = factories.create_lot(session, product=active, quantity=10, code="SJ-LOT-0001")
    session.commit()
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
        make_user=make_user,
    )


@pytest.fixture
def as_role(world, login):
    """Headers for a role name in the world ('anonymous' gives none)."""
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        user = world.user(role)
        if user is None:
            return {}
        if role not in cache:
            cache[role] = login(user)
        return cache[role]

    return headers
