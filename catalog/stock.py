"""Atomic stock moves on lots, the one place that changes a lot's reserved and sold counters.

Every move is one conditional UPDATE, so two buyers racing for the last jar cannot both get it
(on PostgreSQL the row lock serialises them; on SQLite the write lock does), and the CHECKs
`reserved + sold <= quantity` and `reserved >= 0 AND sold >= 0` back it up in the database itself.
The orders domain calls these (orders/stock.py keeps its reservation rows in step).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col

from catalog.errors import NotEnoughStock
from catalog.models import Lot


@dataclass(frozen=True)
class Reservation:
    lot_id: int
    quantity: int


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def reserve_lot(session: Session, *, lot_id: int, quantity: int) -> bool:
    """Hold `quantity` units of one lot; False (nothing changed) if it has not that many."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    result = session.execute(
        update(Lot)
        .where(
            col(Lot.id) == lot_id,
            col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold) >= quantity,
        )
        .values(reserved=col(Lot.reserved) + quantity)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release_lot(session: Session, *, lot_id: int, quantity: int) -> None:
    """Give back a reservation (order expired or cancelled)."""
    result = session.execute(
        update(Lot)
        .where(col(Lot.id) == lot_id, col(Lot.reserved) >= quantity)
        .values(reserved=col(Lot.reserved) - quantity)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise NotEnoughStock(f"Lot {lot_id} has fewer than {quantity} units reserved.")


def sell_reserved(session: Session, *, lot_id: int, quantity: int) -> None:
    """Turn a reservation into a sale (order paid)."""
    result = session.execute(
        update(Lot)
        .where(col(Lot.id) == lot_id, col(Lot.reserved) >= quantity)
        .values(reserved=col(Lot.reserved) - quantity, sold=col(Lot.sold) + quantity)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise NotEnoughStock(f"Lot {lot_id} has fewer than {quantity} units reserved.")


def sell_released(session: Session, *, lot_id: int, quantity: int) -> bool:
    """Sell units that are not held (a late payment for a released reservation); False (nothing
    changed) if the lot has not that many available any more."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    result = session.execute(
        update(Lot)
        .where(
            col(Lot.id) == lot_id,
            col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold) >= quantity,
        )
        .values(sold=col(Lot.sold) + quantity)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def release_sold(session: Session, *, lot_id: int, quantity: int) -> bool:
    """Put sold units back on sale (a paid order cancelled); False (nothing changed) if the lot
    has fewer than that many sold."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    result = session.execute(
        update(Lot)
        .where(col(Lot.id) == lot_id, col(Lot.sold) >= quantity)
        .values(sold=col(Lot.sold) - quantity)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def reserve_product(
    session: Session, *, product_id: int, quantity: int, today: date | None = None
) -> list[Reservation]:
    """Hold `quantity` units of a product across its lots, soonest expiry first; all or nothing.

    Raises NotEnoughStock (409) when the lots cannot cover it; the caller's transaction rolls
    back, which also undoes any partial holds made here.
    """
    reservations = reserve_up_to(session, product_id=product_id, quantity=quantity, today=today)
    held = sum(r.quantity for r in reservations)
    if held < quantity:
        raise NotEnoughStock(
            f"Only {held} of {quantity} units of product {product_id} are available."
        )
    return reservations


def reserve_up_to(
    session: Session, *, product_id: int, quantity: int, today: date | None = None
) -> list[Reservation]:
    """Hold as many of `quantity` units as the product's unexpired lots have, soonest expiry
    first (no expiry last), then oldest harvest. Fewer units held than asked means the lots ran
    short: the caller refuses and rolls back, which undoes the partial holds.

    Lots of one product are always taken in the same order, so two checkouts never deadlock.
    """
    today = today or date.today()
    lots = session.execute(
        select(col(Lot.id), col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold))
        .where(
            col(Lot.product_id) == product_id,
            or_(col(Lot.expires_on).is_(None), col(Lot.expires_on) >= today),
        )
        .order_by(
            col(Lot.expires_on).is_(None),
            col(Lot.expires_on),
            col(Lot.harvested_on),
            col(Lot.id),
        )
    ).all()
    wanted = quantity
    reservations: list[Reservation] = []
    for lot_id, available in lots:
        if wanted == 0:
            break
        take = min(wanted, int(available))
        # Another order may take some between our read and our update: re-read and retry.
        while take > 0 and not reserve_lot(session, lot_id=lot_id, quantity=take):
            now = session.scalar(
                select(col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold)).where(
                    col(Lot.id) == lot_id
                )
            )
            take = min(wanted, int(now or 0))
        if take > 0:
            reservations.append(Reservation(lot_id=lot_id, quantity=take))
            wanted -= take
    return reservations
