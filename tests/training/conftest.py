"""A small training world: two cooperatives with households, a provider, a funded training fund,
helpers to build programmes and to post settled shares with chosen dates, and a user per role."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from api.models import Role, User
from catalog.models import Cooperative, Household
from core.actor import Actor
from core.time import utcnow
from ledger import service as ledger
from ledger.models import AccountType, Side
from ledger.share_rules import member_payable_key, training_fund_key
from tests.catalog import factories
from training import service
from training.models import Programme, TrainingProvider
from training.schemas import ProgrammeCreate, ProviderCreate

STAFF = Actor(user_id=0, role="staff")
DEPOSITS = "liabilities:buyers:deposits"
TODAY = utcnow().date()  # the ledger dates entries by UTC


def fund_coop(session: Session, coop_id: int, amount: int, *, on: date = TODAY) -> None:
    """Put `amount` into a cooperative's training fund (as sales' training parts would)."""
    for key, kind in (
        (DEPOSITS, AccountType.liability),
        (training_fund_key(coop_id), AccountType.equity),
    ):
        ledger.open_account(session, key=key, type=kind, currency="CNY", name=key)
    ledger.post(
        session,
        ledger.EntrySpec(
            kind="sale",
            effective_date=on,
            postings=(
                ledger.PostingSpec(DEPOSITS, Side.debit, amount, "CNY"),
                ledger.PostingSpec(training_fund_key(coop_id), Side.credit, amount, "CNY"),
            ),
            idempotency_key=f"test-fund:{uuid.uuid4().hex}",
        ),
    )


def settle_share(
    session: Session, household_id: int, amount: int, *, on: date, kind: str = "sale"
) -> int:
    """A settled share credited to a household's payable with a chosen effective date, attributed
    to the household and its cooperative as a settlement attributes it."""
    ledger.open_account(session, key=DEPOSITS, type=AccountType.liability, currency="CNY")
    mine = attribution(session, household_id)
    result = ledger.post(
        session,
        ledger.EntrySpec(
            kind=kind,
            effective_date=on,
            postings=(
                ledger.PostingSpec(DEPOSITS, Side.debit, amount, "CNY", coop_id=mine["coop_id"]),
                ledger.PostingSpec(
                    member_payable_key(household_id), Side.credit, amount, "CNY", **mine
                ),
            ),
            idempotency_key=f"test-share:{uuid.uuid4().hex}",
        ),
    )
    assert result.entry.id is not None
    return result.entry.id


def attribution(session: Session, household_id: int) -> dict[str, int | None]:
    """The attribution of a household's share postings: the household and its cooperative."""
    household = session.get(Household, household_id)
    return {"coop_id": household.coop_id if household else None, "household_id": household_id}


def balance(session: Session, key: str) -> int:
    return ledger.balance(session, key).amount


@dataclass
class World:
    session: Session
    coop_a: Cooperative
    coop_b: Cooperative
    household_a: Household
    household_a2: Household
    household_b: Household
    provider: TrainingProvider
    make_user: Callable[..., User]
    users: dict[str, User | None] = field(default_factory=dict)

    def user(self, role: str) -> User | None:
        """The world's user for a role name, made on first use."""
        if role not in self.users:
            fields: dict[str, tuple[Role, dict[str, Any]]] = {
                "buyer": (Role.buyer, {}),
                "farmer_a": (
                    Role.farmer,
                    {"household_id": self.household_a.id, "coop_id": self.coop_a.id},
                ),
                "farmer_a2": (
                    Role.farmer,
                    {"household_id": self.household_a2.id, "coop_id": self.coop_a.id},
                ),
                "farmer_b": (
                    Role.farmer,
                    {"household_id": self.household_b.id, "coop_id": self.coop_b.id},
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

    def programme(self, **overrides: Any) -> Programme:
        """An open, coop-fund-financed programme (sessions 8 and 1 days ago) unless told otherwise."""
        start = overrides.pop("start", TODAY - timedelta(days=8))
        data: dict[str, Any] = {
            "provider_id": self.provider.id,
            "title": {"zh": "电商销售培训", "en": "E-commerce selling"},
            "description": {"zh": "网店运营", "en": "Running an online shop"},
            "skill_area": "ecommerce",
            "sessions": [
                {"date": start.isoformat(), "place": "松江村委会", "trainer": "李老师"},
                {"date": (start + timedelta(days=7)).isoformat(), "place": "松江村委会"},
            ],
            "capacity": 10,
            "seat_cost": {"amount": 30_000, "currency": "CNY"},
            "funding": {"source": "coop_fund"},
            "deduction_cap_bps": 1000,
            "status": "open",
            **overrides,
        }
        programme = service.create_programme(
            self.session, actor=STAFF, data=ProgrammeCreate.model_validate(data)
        )
        self.session.commit()
        return programme


@pytest.fixture
def world(session: Session, make_user: Callable[..., User]) -> World:
    coop_a = factories.create_coop(session, code="SJ")
    coop_b = factories.create_coop(session, code="HX", village="红星村")
    household_a = factories.create_household(session, coop=coop_a, name="王芳", household_size=4)
    household_a2 = factories.create_household(session, coop=coop_a, name="李四", household_size=2)
    household_b = factories.create_household(session, coop=coop_b, name="赵六", household_size=3)
    provider = service.create_provider(
        session, actor=STAFF, data=ProviderCreate(name="县农业职业学校", contact="0871-000000")
    )
    assert coop_a.id is not None
    assert coop_b.id is not None
    fund_coop(session, coop_a.id, 100_000)
    fund_coop(session, coop_b.id, 100_000)
    session.commit()
    return World(
        session=session,
        coop_a=coop_a,
        coop_b=coop_b,
        household_a=household_a,
        household_a2=household_a2,
        household_b=household_b,
        provider=provider,
        make_user=make_user,
    )


@pytest.fixture
def as_role(
    world: World, login: Callable[[User], dict[str, str]]
) -> Callable[[str], dict[str, str]]:
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
