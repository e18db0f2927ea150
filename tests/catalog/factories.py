"""Keyword-only helpers that build catalog data through the real services (polar-style)."""

from datetime import date
from typing import Any

from sqlmodel import Session

from catalog import products, service
from catalog.models import Cooperative, Household, Lot, Product
from catalog.schemas import CoopCreate, HouseholdCreate, LotCreate, ProductCreate
from core.actor import Actor

STAFF = Actor(user_id=0, role="staff")


def create_coop(session: Session, *, code: str = "SJ", **fields: Any) -> Cooperative:
    data = {
        "name": {"zh": f"{code}合作社", "en": f"{code} Cooperative"},
        "code": code,
        "village": "松江村",
        "township": "松江镇",
        "county": "J县",
        "province": "云南省",
        "latitude": 25.1,
        "longitude": 102.7,
        **fields,
    }
    return service.create_coop(session, actor=STAFF, data=CoopCreate.model_validate(data))


def create_household(session: Session, *, coop: Cooperative, **fields: Any) -> Household:
    data = {"name": "张三", "household_size": 4, "phone": "13800000000", **fields}
    assert coop.id is not None
    return service.create_household(
        session,
        actor=STAFF,
        coop_id=coop.id,
        data=HouseholdCreate.model_validate(data),
        currency="CNY",
    )


def create_product(
    session: Session,
    *,
    coop: Cooperative,
    household: Household | None = None,
    status: str = "active",
    **fields: Any,
) -> Product:
    data = {
        "coop_id": coop.id,
        "household_id": household.id if household else None,
        "name": {"zh": "土蜂蜜", "en": "Wild honey"},
        "category": "honey",
        "unit": "bottle",
        "price": {"amount": 6800, "currency": "CNY"},
        "status": status,
        **fields,
    }
    return products.create_product(session, actor=STAFF, data=ProductCreate.model_validate(data))


def create_lot(
    session: Session,
    *,
    product: Product,
    quantity: int = 10,
    contributions: list[tuple[Household, int]] | None = None,
    **fields: Any,
) -> Lot:
    data: dict[str, Any] = {"harvested_on": date(2026, 10, 1), "quantity": quantity, **fields}
    if contributions is not None:
        data["contributions"] = [{"household_id": h.id, "quantity": q} for h, q in contributions]
    assert product.id is not None
    return products.create_lot(
        session, actor=STAFF, product_id=product.id, data=LotCreate.model_validate(data)
    )
