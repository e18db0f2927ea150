"""Prices as people type them (in 元), and prices that look like a slip of the finger.

`parse_major` reads "68", "68.50", "¥1,280", "１２８．５０元" or "CNY 68" as minor units, exactly
(never through a float). `price_doubt` says when a new price deserves a second look before it goes
live: above an absolute ceiling per unit, or far from what the cooperative already asks for the
same kind of product in the same unit.
"""

import statistics
from dataclasses import dataclass

from sqlmodel import Session, col, select

from catalog.models import Product
from core.money import InvalidAmount, parse_money

# ¥10,000 per unit: nothing a cooperative sells by the 斤, box or bottle costs more.
CEILING_MINOR = 1_000_000
# More than this many times the cooperative's usual price (or less than its inverse) is doubtful.
FAR_FACTOR = 5


def parse_major(text: str, currency: str) -> int | None:
    """'¥1,280.50' (full-width digits too) → 128050 minor units; None unless a positive amount.
    The reading itself is core.money's (one parser for every typed amount)."""
    try:
        amount = parse_money(text, currency).amount
    except InvalidAmount:
        return None
    return amount if amount > 0 else None


@dataclass(frozen=True)
class PriceDoubt:
    """Why a price asks for confirmation: `too_large` (above the ceiling), `far_above` or
    `far_below` the cooperative's `usual` price (a median, minor units) for this kind of product."""

    kind: str
    usual: int | None = None


def price_doubt(
    session: Session,
    *,
    coop_id: int,
    category: str,
    unit: str,
    amount: int,
    product_id: int | None = None,
) -> PriceDoubt | None:
    if amount > CEILING_MINOR:
        return PriceDoubt("too_large")
    query = select(Product.price_amount).where(
        col(Product.coop_id) == coop_id,
        col(Product.category) == category,
        col(Product.unit) == unit,
    )
    if product_id is not None:
        query = query.where(col(Product.id) != product_id)
    past = list(session.scalars(query))
    if not past:
        return None
    usual = int(statistics.median(past))
    if amount > usual * FAR_FACTOR:
        return PriceDoubt("far_above", usual)
    if amount * FAR_FACTOR < usual:
        return PriceDoubt("far_below", usual)
    return None
