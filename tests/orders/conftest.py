"""Orders fixtures: a two-cooperative world, a user per role, the Stripe emulator, a live app server."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.models import Role, User
from api.settings import Settings
from catalog.models import Cooperative, Household, Lot, Product
from tests.catalog import factories
from tests.orders.stripe_harness import free_port, localstripe_process

STRIPE_KEY = "sk_test_hezuo_orders"
WEBHOOK_SECRET = "whsec_test_hezuo_orders"
SHIPPING = {
    "recipient": "李娜",
    "phone": "13912345678",
    "province": "上海市",
    "city": "上海市",
    "district": "松江区",
    "street": "中山路 100 号 3 室",
}


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[str]:
    with localstripe_process() as url:
        yield url


@pytest.fixture
def localstripe(localstripe_server: str) -> str:
    """The emulator's URL, emptied for this test."""
    response = httpx.delete(
        f"{localstripe_server}/_config/data", headers={"Authorization": f"Bearer {STRIPE_KEY}"}
    )
    assert response.status_code == 200, response.text
    return localstripe_server


@pytest.fixture
def settings(database_url: str, tmp_path, localstripe: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
        stripe_secret_key=STRIPE_KEY,
        stripe_publishable_key="pk_test_hezuo_orders",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=localstripe,
    )


@pytest.fixture
def live_server(app: FastAPI, localstripe: str) -> Iterator[str]:
    """The app served by uvicorn on a loopback port, registered as localstripe's webhook target."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    response = httpx.post(
        f"{localstripe}/_config/webhooks/hezuo",
        data={"url": f"{url}/api/v1/payments/stripe/webhook", "secret": WEBHOOK_SECRET},
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    )
    assert response.status_code == 200, response.text
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@dataclass
class World:
    coop_a: Cooperative
    coop_b: Cooperative
    h1: Household
    h2: Household
    h3: Household
    honey: Product  # coop A, 6800 a bottle; lot of 10 from h1 (6) and h2 (4)
    mushrooms: Product  # coop B, 4500; lot of 10 from h3
    honey_lot: Lot
    mushroom_lot: Lot
    users: dict[str, User] = field(default_factory=dict)
    make_user: Any = None

    def user(self, role: str) -> User:
        """The world's user for a role name, made on first use (password hashing is slow)."""
        if role not in self.users:
            fields = {
                "buyer": (Role.buyer, {}),
                "other_buyer": (Role.buyer, {}),
                "farmer": (Role.farmer, {"household_id": self.h1.id, "coop_id": self.coop_a.id}),
                "manager_a": (Role.manager, {"coop_id": self.coop_a.id}),
                "manager_b": (Role.manager, {"coop_id": self.coop_b.id}),
                "staff": (Role.staff, {}),
                "admin": (Role.admin, {}),
            }[role]
            self.users[role] = self.make_user(fields[0], **fields[1])
        return self.users[role]


@pytest.fixture
def world(session, make_user) -> World:
    coop_a = factories.create_coop(session, code="SJ")
    coop_b = factories.create_coop(session, code="HX", village="红星村")
    h1 = factories.create_household(session, coop=coop_a, name="王芳", public_name_consent=True)
    h2 = factories.create_household(session, coop=coop_a, name="李四")
    h3 = factories.create_household(session, coop=coop_b, name="赵六")
    honey = factories.create_product(session, coop=coop_a, household=h1)
    mushrooms = factories.create_product(
        session,
        coop=coop_b,
        household=h3,
        name={"zh": "香菇", "en": "Shiitake"},
        category="mushrooms",
        price={"amount": 4500, "currency": "CNY"},
    )
    honey_lot = factories.create_lot(
        session, product=honey, quantity=10, contributions=[(h1, 6), (h2, 4)]
    )
    mushroom_lot = factories.create_lot(
        session, product=mushrooms, quantity=10, contributions=[(h3, 10)]
    )
    session.commit()
    world = World(coop_a, coop_b, h1, h2, h3, honey, mushrooms, honey_lot, mushroom_lot)
    world.make_user = make_user
    return world


@pytest.fixture
def as_role(world: World, login) -> Callable[[str], dict[str, str]]:
    cache: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role in ("anonymous", "guest"):
            return {}
        if role not in cache:
            cache[role] = login(world.user(role))
        return cache[role]

    return headers


def order_body(
    lines: list[tuple[Product, int]], *, method: str = "bank_transfer", **extra: Any
) -> dict[str, Any]:
    return {
        "lines": [{"product_id": p.id, "quantity": q} for p, q in lines],
        "shipping": SHIPPING,
        "payment_method": method,
        **extra,
    }


@pytest.fixture
def place(client: TestClient, as_role) -> Callable[..., httpx.Response]:
    """Place an order as a role ('guest' orders with an email); returns the response."""

    def do(
        role: str,
        lines: list[tuple[Product, int]],
        *,
        method: str = "bank_transfer",
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = order_body(lines, method=method, **extra)
        if role == "guest":
            body.setdefault("email", "guest@example.com")
        headers = {**as_role(role), "Idempotency-Key": key or uuid.uuid4().hex}
        return client.post("/api/v1/orders", json=body, headers=headers)

    return do


@pytest.fixture
def browser_for(app: FastAPI, world: World) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in page client per role (each with its own cookies)."""
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        from tests.orders.test_pages import web_sign_in

        web_sign_in(client, world.user(role))
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
