"""Product search: text in Chinese or English, filters, sorting and keyset (cursor) pagination.

Text matching is a substring match on `products.search_text` (names and descriptions in both
languages, lower-cased by the service), which works for Chinese without a word segmenter. The
same SQL runs on both databases; on PostgreSQL a pg_trgm GIN index serves `LIKE '%term%'`.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlmodel import Session, col

from catalog.errors import CatalogInvalid
from catalog.models import Certification, Lot, Product, ProductStatus
from catalog.products import editable_scope, readable_scope
from core.actor import Actor

MAX_TERMS = 6


@dataclass(frozen=True)
class ProductQuery:
    q: str | None = None
    coop_id: int | None = None
    category: str | None = None
    certification: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    status: str | None = None  # None: active only, unless `mine`
    mine: bool = False  # only what the actor may edit (their household's or cooperative's)
    sort: str = "newest"
    cursor: str | None = None  # the raw value inside PageParams' cursor
    limit: int = 50


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def terms(q: str | None) -> list[str]:
    return (q or "").lower().split()[:MAX_TERMS]


def _available_lot(today: date) -> Any:
    return exists().where(
        col(Lot.product_id) == col(Product.id),
        col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold) > 0,
        or_(col(Lot.expires_on).is_(None), col(Lot.expires_on) >= today),
    )


def _certified(kind: str, today: date) -> Any:
    return exists().where(
        col(Certification.brand_id) == col(Product.brand_id),
        col(Certification.kind) == kind,
        col(Certification.valid_from) <= today,
        or_(col(Certification.valid_until).is_(None), col(Certification.valid_until) >= today),
    )


def _filtered(actor: Actor, query: ProductQuery) -> Select[Any]:
    today = date.today()
    statement = select(Product)
    if query.mine:
        statement = statement.where(editable_scope(actor))
        if query.status is not None:
            statement = statement.where(col(Product.status) == query.status)
    elif query.status in (None, ProductStatus.active):
        statement = statement.where(col(Product.status) == ProductStatus.active)
    else:
        statement = statement.where(
            col(Product.status) == query.status,
            readable_scope(actor),
        )
    for term in terms(query.q):
        statement = statement.where(col(Product.search_text).like(_like_pattern(term), escape="\\"))
    if query.coop_id is not None:
        statement = statement.where(col(Product.coop_id) == query.coop_id)
    if query.category is not None:
        statement = statement.where(col(Product.category) == query.category)
    if query.certification is not None:
        statement = statement.where(_certified(query.certification, today))
    if query.min_price is not None:
        statement = statement.where(col(Product.price_amount) >= query.min_price)
    if query.max_price is not None:
        statement = statement.where(col(Product.price_amount) <= query.max_price)
    if query.in_stock is True:
        statement = statement.where(_available_lot(today))
    elif query.in_stock is False:
        statement = statement.where(~_available_lot(today))
    return statement


def _bad_cursor() -> CatalogInvalid:
    return CatalogInvalid("The cursor is not one this list gave out.", loc=["query", "cursor"])


def _parse_cursor(raw: str, sort: str) -> tuple[int, int]:
    """(sort key, id) from 'sort:key:id'."""
    parts = raw.split(":")
    if len(parts) != 3 or parts[0] != sort:
        raise _bad_cursor()
    try:
        return int(parts[1]), int(parts[2])
    except ValueError:
        raise _bad_cursor() from None


def _sort_key(product: Product, sort: str) -> int:
    return product.price_amount if sort in ("price_asc", "price_desc") else (product.id or 0)


def search_products(
    session: Session, *, actor: Actor, query: ProductQuery
) -> tuple[list[Product], str | None]:
    """One page of products and the raw cursor for the next page (None at the end)."""
    statement = _filtered(actor, query)
    price, pid = col(Product.price_amount), col(Product.id)
    order: tuple[Any, ...]
    if query.sort == "price_asc":
        order = (price.asc(), pid.asc())
    elif query.sort == "price_desc":
        order = (price.desc(), pid.desc())
    elif query.sort == "newest":
        order = (pid.desc(),)
    else:
        raise CatalogInvalid("sort is one of newest, price_asc, price_desc.", loc=["query", "sort"])
    if query.cursor is not None:
        key, last_id = _parse_cursor(query.cursor, query.sort)
        if query.sort == "price_asc":
            statement = statement.where(or_(price > key, and_(price == key, pid > last_id)))
        elif query.sort == "price_desc":
            statement = statement.where(or_(price < key, and_(price == key, pid < last_id)))
        else:
            statement = statement.where(pid < last_id)
    rows: list[Product] = list(session.scalars(statement.order_by(*order).limit(query.limit + 1)))
    page = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit and page:
        last = page[-1]
        next_cursor = f"{query.sort}:{_sort_key(last, query.sort)}:{last.id}"
    return page, next_cursor
