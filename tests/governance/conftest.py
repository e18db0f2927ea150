"""Governance fixtures: two cooperatives with households, a user per role, orders run to settlement
through the real API, and ledger entries posted straight through the ledger service."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role, User
from catalog.models import Cooperative, Household, Lot, Product
from ledger.models import Side
from ledger.service import EntrySpec, PostingSpec, post
from ledger.share_rules import (
    BUYER_DEPOSITS,
    ENTERPRISE_INCOME,
    collective_fund_key,
    member_payable_key,
    training_fund_key,
)
from orders.postings import ensure_account
from tests.catalog import factories

SHIPPING = {
    "recipient": "收件人甲",
    "phone": "13700001111",
    "province": "上海市",
    "city": "上海市",
    "district": "松江区",
    "street": "中山路 1 号",
}


@dataclass
class World:
    coop_a: Cooperative
    coop_b: Cooperative
    h1: Household  # coop A, consents to its name being public
    h2: Household  # coop A
    h3: Household  # coop A
    h4: Household  # coop B
    honey: Product
    honey_lot: Lot
    make_user: Any
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: str) -> User:
        if role not in self.users:
            fields = {
                "buyer": (Role.buyer, {}),
                "other_buyer": (Role.buyer, {}),
                "farmer": (Role.farmer, {"household_id": self.h1.id, "coop_id": self.coop_a.id}),
                "farmer2": (Role.farmer, {"household_id": self.h2.id, "coop_id": self.coop_a.id}),
                "farmer3": (Role.farmer, {"household_id": self.h3.id, "coop_id": self.coop_a.id}),
                "farmer_b": (Role.farmer, {"household_id": self.h4.id, "coop_id": self.coop_b.id}),
                "manager_a": (Role.manager, {"coop_id": self.coop_a.id}),
                "manager_b": (Role.manager, {"coop_id": self.coop_b.id}),
                "staff": (Role.staff, {}),
                "admin": (Role.admin, {}),
            }[role]
            self.users[role] = self.make_user(fields[0], **fields[1])
        return self.users[role]


@pytest.fixture
def world(session: Session, make_user) -> World:
    coop_a = factories.create_coop(session, code="SJ")
    coop_b = factories.create_coop(session, code="HX", village="红星村")
    h1 = factories.create_household(
        session, coop=coop_a, name="王芳", public_name_consent=True, phone="13911110001"
    )
    h2 = factories.create_household(session, coop=coop_a, name="李秘密", phone="13911110002")
    h3 = factories.create_household(session, coop=coop_a, name="张隐私", phone="13911110003")
    h4 = factories.create_household(session, coop=coop_b, name="赵不公开", phone="13911110004")
    honey = factories.create_product(session, coop=coop_a, household=h1)
    honey_lot = factories.create_lot(
        session, product=honey, quantity=50, contributions=[(h1, 20), (h2, 20), (h3, 10)]
    )
    session.commit()
    return World(coop_a, coop_b, h1, h2, h3, h4, honey, honey_lot, make_user)


@pytest.fixture
def as_role(world: World, login) -> Callable[[str], dict[str, str]]:
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        if role not in cache:
            cache[role] = login(world.user(role))
        return cache[role]

    return headers


@pytest.fixture
def settle_order(client: TestClient, world: World, as_role) -> Callable[..., dict[str, Any]]:
    """Place an order as the buyer, pay by transfer, ship, deliver: it is settled. Returns it."""

    def run(product: Product | None = None, quantity: int = 1, role: str = "buyer") -> dict:
        product = product or world.honey
        placed = client.post(
            "/api/v1/orders",
            json={
                "lines": [{"product_id": product.id, "quantity": quantity}],
                "shipping": SHIPPING,
                "payment_method": "bank_transfer",
            },
            headers={**as_role(role), "Idempotency-Key": uuid.uuid4().hex},
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        paid = client.post(
            f"/api/v1/orders/{order['id']}/payments/manual",
            json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "T1"},
            headers=as_role("staff"),
        )
        assert paid.status_code == 201, paid.text
        shipped = client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "SF", "tracking_number": "SF1", "coop_id": product.coop_id},
            headers=as_role("staff"),
        )
        assert shipped.status_code == 200, shipped.text
        delivered = client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role(role))
        assert delivered.status_code == 200, delivered.text
        assert delivered.json()["status"] == "settled"
        return delivered.json()

    return run


def post_sale(
    session: Session,
    *,
    coop_id: int,
    on: date,
    shares: dict[int, int],
    collective: int = 0,
    training: int = 0,
    enterprise: int = 0,
    key: str | None = None,
) -> int:
    """A settlement-like entry straight into the ledger (kind `sale`), dated `on`; committed."""
    credits = [(member_payable_key(h), amount) for h, amount in shares.items()]
    credits += [
        (collective_fund_key(coop_id), collective),
        (training_fund_key(coop_id), training),
        (ENTERPRISE_INCOME, enterprise),
    ]
    credits = [(account, amount) for account, amount in credits if amount]
    total = sum(amount for _a, amount in credits)
    for account, _amount in [(BUYER_DEPOSITS, total), *credits]:
        ensure_account(session, account, "CNY")
    # Attributed as the settlement attributes its postings: the cooperative, and the household
    # of a member's share.
    postings = [PostingSpec(BUYER_DEPOSITS, Side.debit, total, "CNY", coop_id=coop_id)] + [
        PostingSpec(
            account,
            Side.credit,
            amount,
            "CNY",
            coop_id=coop_id,
            household_id=int(account.split(":")[2]) if account.startswith("liabilities:") else None,
        )
        for account, amount in credits
    ]
    entry = post(
        session,
        EntrySpec(
            kind="sale",
            effective_date=on,
            postings=tuple(postings),
            idempotency_key=key or f"test-sale:{uuid.uuid4().hex}",
            memo="test settlement",
        ),
    ).entry
    session.commit()
    assert entry.id is not None
    return entry.id
