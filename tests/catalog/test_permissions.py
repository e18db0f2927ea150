"""Every catalog route, walked with every role: who is let in and who is refused (and how)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.catalog.images import image_bytes

ROLES = (
    "anonymous",
    "buyer",
    "farmer_a",
    "farmer_a2",
    "manager_a",
    "manager_b",
    "staff",
    "admin",
)
EVERYONE = frozenset(ROLES)
COOP_A_EDITORS = frozenset({"manager_a", "staff", "admin"})
HOUSEHOLD_A_EDITORS = COOP_A_EDITORS | {"farmer_a"}

IMPORT_CSV = (
    "name_zh,name_en,category,unit,price,currency,status\n核桃,Walnuts,nuts,kg,30,CNY,active\n"
).encode()


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: Callable[[Any], str]
    allowed: frozenset[str]
    json: Callable[[Any], dict[str, Any]] | None = None
    files: Callable[[], dict[str, Any]] | None = None
    # How a refused signed-in role is answered: 403, or 404 where the thing is not theirs to see.
    refused: int = 403
    public: bool = False  # anonymous callers are not asked to sign in
    overrides: dict[str, int] = field(default_factory=dict)


def _coop(w):
    return {"name": {"zh": "新合作社"}, "village": "村", "county": "县", "province": "省"}


def _product(w):
    return {
        "coop_id": w.coop_a.id,
        "name": {"zh": "茶叶", "en": "Tea"},
        "category": "tea",
        "unit": "box",
        "price": {"amount": 9900, "currency": "CNY"},
    }


ROUTES = [
    Route("list coops", "GET", lambda w: "/api/v1/coops", EVERYONE, public=True),
    Route("create coop", "POST", lambda w: "/api/v1/coops", frozenset({"staff", "admin"}), _coop),
    Route("read coop", "GET", lambda w: f"/api/v1/coops/{w.coop_a.id}", EVERYONE, public=True),
    Route(
        "update coop",
        "PATCH",
        lambda w: f"/api/v1/coops/{w.coop_a.id}",
        COOP_A_EDITORS,
        lambda w: {"contact": "0871-1234567"},
    ),
    Route(
        "list households",
        "GET",
        lambda w: f"/api/v1/coops/{w.coop_a.id}/households",
        COOP_A_EDITORS,
    ),
    Route(
        "create household",
        "POST",
        lambda w: f"/api/v1/coops/{w.coop_a.id}/households",
        COOP_A_EDITORS,
        lambda w: {"name": "新户", "household_size": 3},
    ),
    Route(
        "read household",
        "GET",
        lambda w: f"/api/v1/households/{w.household_a.id}",
        HOUSEHOLD_A_EDITORS,
        refused=404,
    ),
    Route(
        "update household",
        "PATCH",
        lambda w: f"/api/v1/households/{w.household_a.id}",
        COOP_A_EDITORS,
        lambda w: {"household_size": 5},
        refused=404,
        overrides={"farmer_a": 403},
    ),
    Route(
        "list brands",
        "GET",
        lambda w: f"/api/v1/coops/{w.coop_a.id}/brands",
        EVERYONE,
        public=True,
    ),
    Route(
        "create brand",
        "POST",
        lambda w: f"/api/v1/coops/{w.coop_a.id}/brands",
        COOP_A_EDITORS,
        lambda w: {"name": {"zh": "松江牌"}},
    ),
    Route("read brand", "GET", lambda w: f"/api/v1/brands/{w.brand.id}", EVERYONE, public=True),
    Route(
        "add certification",
        "POST",
        lambda w: f"/api/v1/brands/{w.brand.id}/certifications",
        COOP_A_EDITORS,
        lambda w: {"kind": "organic", "number": "ORG-1", "valid_from": "2026-01-01"},
    ),
    Route("list products", "GET", lambda w: "/api/v1/products", EVERYONE, public=True),
    Route(
        "create product",
        "POST",
        lambda w: "/api/v1/products",
        HOUSEHOLD_A_EDITORS | {"farmer_a2"},
        _product,
    ),
    Route(
        "read active product",
        "GET",
        lambda w: f"/api/v1/products/{w.active.id}",
        EVERYONE,
        public=True,
    ),
    Route(
        "read draft product",
        "GET",
        lambda w: f"/api/v1/products/{w.draft.id}",
        HOUSEHOLD_A_EDITORS,
        refused=404,
        public=True,
    ),
    Route(
        "update household's product",
        "PATCH",
        lambda w: f"/api/v1/products/{w.active.id}",
        HOUSEHOLD_A_EDITORS,
        lambda w: {"price": {"amount": 7000, "currency": "CNY"}},
    ),
    Route(
        "update cooperative's product",
        "PATCH",
        lambda w: f"/api/v1/products/{w.coop_product.id}",
        COOP_A_EDITORS,
        lambda w: {"description": {"zh": "新米", "en": "New rice"}},
    ),
    Route(
        "update draft product",
        "PATCH",
        lambda w: f"/api/v1/products/{w.draft.id}",
        HOUSEHOLD_A_EDITORS,
        lambda w: {"name": {"zh": "春茶", "en": "Spring tea"}},
        refused=404,
    ),
    Route(
        "add photo",
        "POST",
        lambda w: f"/api/v1/products/{w.active.id}/photos",
        HOUSEHOLD_A_EDITORS,
        files=lambda: {"file": ("a.png", image_bytes(), "image/png")},
    ),
    Route(
        "add lot",
        "POST",
        lambda w: f"/api/v1/products/{w.active.id}/lots",
        HOUSEHOLD_A_EDITORS,
        lambda w: {"harvested_on": "2026-11-01", "quantity": 5},
    ),
    Route("read lot", "GET", lambda w: f"/api/v1/lots/{w.lot.code}", EVERYONE, public=True),
    Route("lot QR svg", "GET", lambda w: f"/l/{w.lot.code}/qr.svg", EVERYONE, public=True),
    Route("lot QR png", "GET", lambda w: f"/l/{w.lot.code}/qr.png", EVERYONE, public=True),
    Route(
        "import template",
        "GET",
        lambda w: "/api/v1/imports/products-template.csv",
        EVERYONE,
        public=True,
    ),
    Route(
        "import products",
        "POST",
        lambda w: f"/api/v1/coops/{w.coop_a.id}/imports",
        COOP_A_EDITORS,
        files=lambda: {"file": ("p.csv", IMPORT_CSV, "text/csv")},
    ),
]


def expected_status(route: Route, role: str) -> int | None:
    """None means 'allowed' (any 2xx)."""
    if role in route.allowed:
        return None
    if role in route.overrides:
        return route.overrides[role]
    if role == "anonymous" and not route.public:
        return 401
    return route.refused


@pytest.fixture
def brand_world(world, session):
    from catalog import service
    from catalog.schemas import BrandCreate
    from tests.catalog.factories import STAFF

    world.brand = service.create_brand(
        session, actor=STAFF, coop_id=world.coop_a.id, data=BrandCreate(name={"zh": "松江"})
    )
    session.commit()
    return world


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_route_admits_exactly_its_roles(client, brand_world, as_role, route):
    outcomes = {}
    for role in ROLES:
        response = client.request(
            route.method,
            route.path(brand_world),
            headers=as_role(role),
            json=route.json(brand_world) if route.json else None,
            files=route.files() if route.files else None,
        )
        outcomes[role] = response.status_code
        expected = expected_status(route, role)
        if expected is None:
            assert 200 <= response.status_code < 300, (role, response.text)
        else:
            assert response.status_code == expected, (role, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    assert set(outcomes) == set(ROLES)


def test_every_catalog_route_is_in_the_table(brand_world):
    """A new catalog route without a row here (or a test elsewhere) fails."""
    from fastapi.routing import APIRoute

    from api.routers.catalog import router

    api_routes = [r for r in router.routes if isinstance(r, APIRoute)]

    tested_elsewhere = {
        ("DELETE", "/api/v1/products/{product_id}/photos/{photo_id}"),  # test_photos.py
        ("GET", "/media/{path:path}"),  # test_photos.py
    }
    declared = {(m, r.path) for r in api_routes for m in r.methods or ()}
    walked = set()
    for route in ROUTES:
        path = route.path(brand_world)
        matches = [
            r.path
            for r in api_routes
            if route.method in (r.methods or ()) and r.path_regex.match(path)
        ]
        assert len(matches) == 1, (route.name, matches)
        walked.add((route.method, matches[0]))
    assert walked | tested_elsewhere == declared
