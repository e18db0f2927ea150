"""Catalog rules for products and their harvest lots: who owns them, what is valid, what is public."""

import secrets
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from catalog.errors import CatalogForbidden, CatalogInvalid, CatalogNotFound, DuplicateCode
from catalog.models import (
    Brand,
    Cooperative,
    Household,
    Lot,
    LotContribution,
    Product,
    ProductPhoto,
    ProductStatus,
)
from catalog.permissions import may_edit_product, may_see_product, require_product_editor
from catalog.photos import photo_read
from catalog.schemas import (
    ContributionCreate,
    ContributionRead,
    LocalizedName,
    LocalizedText,
    LotCreate,
    LotRead,
    LotSummary,
    MoneyRead,
    ProductCreate,
    ProductDetail,
    ProductRead,
    ProductUpdate,
)
from catalog.service import active_household_in_coop, get_coop
from core.actor import Actor
from core.text import N_
from ledger.base import utcnow

LOT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud from labels


def search_text(product: Product) -> str:
    """What `q` matches: names and descriptions in both languages plus the category, lower-cased."""
    parts = (
        product.name_zh,
        product.name_en,
        product.description_zh,
        product.description_en,
        product.category,
    )
    return "\n".join(p for p in parts if p).lower()


# Ownership


def _resolve_owner(
    session: Session, actor: Actor, coop_id: int | None, household_id: int | None
) -> tuple[int, int | None]:
    """The (coop, household) a product of this actor belongs to, or why not."""
    if actor.role == "farmer":
        return _farmer_owner(session, actor, coop_id, household_id)
    if actor.role == "manager":
        coop_id = _manager_coop(actor, coop_id)
    elif not actor.is_staff:
        raise CatalogForbidden(
            f"Only farmers, managers and staff list products (you are signed in as {actor.role})."
        )
    if coop_id is None:
        raise CatalogInvalid("Name the cooperative (coop_id).", loc=["body", "coop_id"])
    get_coop(session, coop_id)
    if household_id is not None:
        active_household_in_coop(session, household_id, coop_id, ["body", "household_id"])
    return coop_id, household_id


def _farmer_owner(
    session: Session, actor: Actor, coop_id: int | None, household_id: int | None
) -> tuple[int, int | None]:
    """A farmer lists for their own active household, in its cooperative."""
    if actor.household_id is None:
        raise CatalogForbidden("Your account is not linked to a member household yet.")
    own = session.get(Household, actor.household_id)
    if own is None or own.status != "active":
        raise CatalogForbidden("Your household is not an active member.")
    if household_id is not None and household_id != own.id:
        raise CatalogForbidden("A farmer lists products only for their own household.")
    if coop_id is not None and coop_id != own.coop_id:
        raise CatalogForbidden("A farmer lists products only in their own cooperative.")
    return own.coop_id, own.id


def _manager_coop(actor: Actor, coop_id: int | None) -> int:
    """A manager lists for their own cooperative (the one named, or theirs by default)."""
    if actor.coop_id is None:
        raise CatalogForbidden("Your account is not linked to a cooperative yet.")
    coop_id = actor.coop_id if coop_id is None else coop_id
    if coop_id != actor.coop_id:
        raise CatalogForbidden("A manager lists products only for their own cooperative.")
    return coop_id


def _check_brand(session: Session, brand_id: int | None, coop_id: int) -> None:
    if brand_id is None:
        return
    brand = session.get(Brand, brand_id)
    if brand is None or brand.coop_id != coop_id:
        raise CatalogInvalid(
            f"Brand {brand_id} is not a brand of cooperative {coop_id}.", loc=["body", "brand_id"]
        )


# Products


def create_product(session: Session, *, actor: Actor, data: ProductCreate) -> Product:
    coop_id, household_id = _resolve_owner(session, actor, data.coop_id, data.household_id)
    _check_brand(session, data.brand_id, coop_id)
    product = Product(
        coop_id=coop_id,
        household_id=household_id,
        brand_id=data.brand_id,
        name_zh=data.name.zh,
        name_en=data.name.en,
        description_zh=data.description.zh,
        description_en=data.description.en,
        category=data.category.value,
        unit=data.unit.value,
        price_amount=data.price.amount,
        currency=data.price.currency,
        status=data.status,
    )
    product.search_text = search_text(product)
    session.add(product)
    session.flush()
    return product


def update_product(
    session: Session, *, actor: Actor, product_id: int, data: ProductUpdate
) -> Product:
    product = product_for_edit(session, actor=actor, product_id=product_id)
    fields = data.model_dump(exclude_unset=True)
    if "coop_id" in fields or "household_id" in fields:
        coop_id = data.coop_id if data.coop_id is not None else product.coop_id
        household_id = data.household_id if "household_id" in fields else product.household_id
        if actor.role == "farmer" and (
            coop_id != product.coop_id or household_id != product.household_id
        ):
            raise CatalogForbidden("A farmer cannot move a product to another household.")
        product.coop_id, product.household_id = _resolve_owner(
            session, actor, coop_id, household_id
        )
    if "brand_id" in fields:
        product.brand_id = data.brand_id
    _check_brand(session, product.brand_id, product.coop_id)
    if data.name is not None:
        product.name_zh, product.name_en = data.name.zh, data.name.en
    if data.description is not None:
        product.description_zh = data.description.zh
        product.description_en = data.description.en
    if data.category is not None:
        product.category = data.category.value
    if data.unit is not None:
        product.unit = data.unit.value
    if data.price is not None:
        product.price_amount, product.currency = data.price.amount, data.price.currency
    if data.status is not None:
        product.status = data.status
    product.search_text = search_text(product)
    product.updated_at = utcnow()
    session.add(product)
    session.flush()
    return product


def product_for_edit(session: Session, *, actor: Actor, product_id: int) -> Product:
    """The product if this actor may change it; 404 when they may not even see it, else 403."""
    product = session.get(Product, product_id)
    if product is None:
        raise CatalogNotFound("product", product_id)
    if not may_edit_product(actor, product):
        if product.status != ProductStatus.active:
            raise CatalogNotFound("product", product_id)
        require_product_editor(actor, product)
    return product


def product_with_owner(
    session: Session, *, actor: Actor, product_id: int
) -> tuple[Product, Cooperative, Brand | None]:
    """`product_for_view` with its cooperative and brand, read in one statement."""
    row = session.execute(
        select(Product, Cooperative, Brand)
        .join(Cooperative, col(Cooperative.id) == col(Product.coop_id))
        .outerjoin(Brand, col(Brand.id) == col(Product.brand_id))
        .where(col(Product.id) == product_id)
    ).first()
    if row is None or (
        row[0].status != ProductStatus.active and not may_edit_product(actor, row[0])
    ):
        raise CatalogNotFound("product", product_id)
    product, coop, brand = row
    return product, coop, brand


def product_for_view(session: Session, *, actor: Actor, product_id: int) -> Product:
    """Active products for everyone; drafts and archived ones only for their editors."""
    product = session.get(Product, product_id)
    if product is None or (
        product.status != ProductStatus.active and not may_see_product(actor, product)
    ):
        raise CatalogNotFound("product", product_id)
    return product


# Reading: photos and stock for many products in two queries


def _not_expired(today: date) -> object:
    return or_(col(Lot.expires_on).is_(None), col(Lot.expires_on) >= today)


def stock_by_product(session: Session, product_ids: Sequence[int]) -> dict[int, int]:
    """Units available to order per product: unexpired lots' quantity − reserved − sold."""
    if not product_ids:
        return {}
    available = col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold)
    rows = session.execute(
        select(col(Lot.product_id), func.sum(available))
        .where(col(Lot.product_id).in_(product_ids), _not_expired(date.today()))  # type: ignore[arg-type]
        .group_by(col(Lot.product_id))
    ).all()
    return {product_id: int(total or 0) for product_id, total in rows}


def photos_by_product(
    session: Session, product_ids: Sequence[int]
) -> dict[int, list[ProductPhoto]]:
    found: dict[int, list[ProductPhoto]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return found
    for photo in session.scalars(
        select(ProductPhoto)
        .where(col(ProductPhoto.product_id).in_(product_ids))
        .order_by(col(ProductPhoto.position), col(ProductPhoto.id))
    ):
        found[photo.product_id].append(photo)
    return found


def product_reads(session: Session, products: Iterable[Product]) -> list[ProductRead]:
    products = list(products)
    ids = [p.id for p in products if p.id is not None]
    stock = stock_by_product(session, ids)
    photos = photos_by_product(session, ids)
    return [_product_read(p, stock.get(p.id or 0, 0), photos.get(p.id or 0, [])) for p in products]


def _product_read(product: Product, stock: int, photos: list[ProductPhoto]) -> ProductRead:
    assert product.id is not None
    return ProductRead(
        id=product.id,
        coop_id=product.coop_id,
        household_id=product.household_id,
        brand_id=product.brand_id,
        name=LocalizedName(zh=product.name_zh, en=product.name_en),
        description=LocalizedText(zh=product.description_zh, en=product.description_en),
        category=product.category,
        unit=product.unit,
        price=MoneyRead(amount=product.price_amount, currency=product.currency),
        status=product.status,
        photos=[photo_read(photo) for photo in photos],
        stock=stock,
    )


def product_lots(session: Session, product_id: int) -> list[Lot]:
    return list(
        session.scalars(
            select(Lot)
            .where(col(Lot.product_id) == product_id)
            .order_by(col(Lot.harvested_on).desc(), col(Lot.id).desc())
        )
    )


def product_detail(session: Session, product: Product) -> ProductDetail:
    """The product with its photos and lots: two statements (the stock is summed from the lots,
    by the rule of `stock_by_product`)."""
    assert product.id is not None
    lots = product_lots(session, product.id)
    today = date.today()
    stock = sum(lot.available for lot in lots if lot.expires_on is None or lot.expires_on >= today)
    read = _product_read(product, stock, photos_by_product(session, [product.id])[product.id])
    summaries = [
        LotSummary(
            code=lot.code,
            harvested_on=lot.harvested_on,
            expires_on=lot.expires_on,
            quantity=lot.quantity,
            available=lot.available,
        )
        for lot in lots
    ]
    return ProductDetail(**read.model_dump(), lots=summaries)


# Lots


def _contributions(
    session: Session, actor: Actor, product: Product, data: LotCreate
) -> list[ContributionCreate]:
    contributions = data.contributions
    if contributions is None:
        if product.household_id is None:
            raise CatalogInvalid(
                "Say which households supplied this lot (contributions): the product belongs "
                "to the cooperative, not to one household.",
                loc=["body", "contributions"],
            )
        contributions = [
            ContributionCreate(household_id=product.household_id, quantity=data.quantity)
        ]
    seen: set[int] = set()
    for index, item in enumerate(contributions):
        loc: list[str | int] = ["body", "contributions", index, "household_id"]
        if item.household_id in seen:
            raise CatalogInvalid(f"Household {item.household_id} is listed twice.", loc=loc)
        seen.add(item.household_id)
        if actor.role == "farmer" and item.household_id != actor.household_id:
            raise CatalogForbidden("A farmer records only their own household's contribution.")
        active_household_in_coop(session, item.household_id, product.coop_id, loc)
    total = sum(item.quantity for item in contributions)
    if total != data.quantity:
        raise CatalogInvalid(
            f"The contributions add up to {total}, but the lot quantity is {data.quantity}.",
            loc=["body", "contributions"],
            msgid=N_(
                "The contributions add up to %(total)s, but the lot quantity is %(quantity)s."
            ),
            params={"total": total, "quantity": data.quantity},
        )
    return contributions


def _new_lot_code(session: Session, coop: Cooperative, harvested_on: date) -> str:
    while True:
        suffix = "".join(secrets.choice(LOT_CODE_ALPHABET) for _ in range(4))
        code = f"{coop.code}-{harvested_on:%y%m%d}-{suffix}"
        if not session.scalar(select(col(Lot.id)).where(col(Lot.code) == code)):
            return code


def create_lot(session: Session, *, actor: Actor, product_id: int, data: LotCreate) -> Lot:
    product = product_for_edit(session, actor=actor, product_id=product_id)
    if data.expires_on is not None and data.expires_on < data.harvested_on:
        raise CatalogInvalid("expires_on is before harvested_on.", loc=["body", "expires_on"])
    contributions = _contributions(session, actor, product, data)
    code = data.code.upper() if data.code else None
    if code is not None and session.scalar(select(col(Lot.id)).where(col(Lot.code) == code)):
        raise DuplicateCode("lot", code, "code")
    code = code or _new_lot_code(session, get_coop(session, product.coop_id), data.harvested_on)
    assert product.id is not None
    lot = Lot(
        product_id=product.id,
        code=code,
        harvested_on=data.harvested_on,
        expires_on=data.expires_on,
        quantity=data.quantity,
        notes=data.notes,
    )
    try:
        with session.begin_nested():
            session.add(lot)
            session.flush()
    except IntegrityError:
        raise DuplicateCode("lot", code, "code") from None
    assert lot.id is not None
    for item in contributions:
        session.add(
            LotContribution(lot_id=lot.id, household_id=item.household_id, quantity=item.quantity)
        )
    session.flush()
    return lot


def get_lot_by_code(session: Session, code: str) -> Lot:
    lot = session.scalars(select(Lot).where(col(Lot.code) == code.upper())).first()
    if lot is None:
        raise CatalogNotFound("lot", code)
    return lot


def lot_contributions(session: Session, lot_id: int) -> list[tuple[LotContribution, Household]]:
    rows = session.execute(
        select(LotContribution, Household)
        .join(Household, col(Household.id) == col(LotContribution.household_id))
        .where(col(LotContribution.lot_id) == lot_id)
        .order_by(col(Household.member_code))
    ).all()
    return [(contribution, household) for contribution, household in rows]


def lot_read(session: Session, lot: Lot) -> LotRead:
    assert lot.id is not None
    return LotRead(
        id=lot.id,
        code=lot.code,
        product_id=lot.product_id,
        harvested_on=lot.harvested_on,
        expires_on=lot.expires_on,
        quantity=lot.quantity,
        reserved=lot.reserved,
        sold=lot.sold,
        available=lot.available,
        notes=lot.notes,
        contributions=[
            ContributionRead(
                household_id=household.id or 0,
                member_code=household.member_code,
                quantity=contribution.quantity,
            )
            for contribution, household in lot_contributions(session, lot.id)
        ],
    )


def readable_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause for products that are not public: all for staff and the auditor, else the
    ones this actor may edit."""
    return true() if actor.reads_all else editable_scope(actor)


def editable_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause selecting the products this actor may edit (false for the public)."""
    if actor.is_staff:
        return true()
    if actor.role == "manager" and actor.coop_id is not None:
        return col(Product.coop_id) == actor.coop_id
    if actor.role == "farmer" and actor.household_id is not None:
        return col(Product.household_id) == actor.household_id
    return false()
