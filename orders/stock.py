"""Lot stock moves for orders, each one conditional UPDATE so that concurrent checkouts never oversell.

Reserve takes units from a product's lots, first-expiring first; the UPDATE only succeeds while the
lot still has them (`quantity - reserved - sold >= n`), and the lots table's CHECK backs it up.
Lots are always locked in the same order (by product id, then expiry), so two checkouts never
deadlock.
"""

from datetime import date

from sqlalchemy import case, or_, update
from sqlmodel import Session, col, select

from catalog.models import Lot
from orders.models import LotReservation, ReservationState

MAX_RETRIES_PER_LOT = 5


def lots_in_order(session: Session, product_id: int) -> list[Lot]:
    """The product's lots with stock, first-expiring first (no expiry last), then oldest."""
    no_expiry_last = case((col(Lot.expires_on).is_(None), 1), else_=0)
    return list(
        session.scalars(
            select(Lot)
            .where(
                col(Lot.product_id) == product_id,
                col(Lot.quantity) > col(Lot.sold) + col(Lot.reserved),
                or_(col(Lot.expires_on).is_(None), col(Lot.expires_on) >= date.today()),
            )
            .order_by(no_expiry_last, col(Lot.expires_on), col(Lot.harvested_on), col(Lot.id))
        )
    )


def reserve(session: Session, *, product_id: int, quantity: int) -> list[tuple[int, int]] | int:
    """Reserve `quantity` units: the (lot id, units) taken, or, if there are not enough, the units
    that were available (and nothing stays reserved: the caller's transaction is rolled back)."""
    taken: list[tuple[int, int]] = []
    needed = quantity
    for lot in lots_in_order(session, product_id):
        if needed == 0:
            break
        got = _take_from_lot(session, lot_id=lot.id or 0, at_most=needed)
        if got:
            taken.append((lot.id or 0, got))
            needed -= got
    if needed:
        return quantity - needed
    return taken


def _take_from_lot(session: Session, *, lot_id: int, at_most: int) -> int:
    for _ in range(MAX_RETRIES_PER_LOT):
        available = session.scalar(
            select(col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold)).where(
                col(Lot.id) == lot_id
            )
        )
        want = min(at_most, int(available or 0))
        if want <= 0:
            return 0
        result = session.execute(
            update(Lot)
            .where(
                col(Lot.id) == lot_id,
                col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold) >= want,
            )
            .values(reserved=col(Lot.reserved) + want)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return want
    return 0


def release(session: Session, reservation: LotReservation) -> None:
    """Give a reservation's units back (reserved, or sold when a paid order is cancelled)."""
    if reservation.state == ReservationState.reserved:
        values = {"reserved": col(Lot.reserved) - reservation.quantity}
    elif reservation.state == ReservationState.sold:
        values = {"sold": col(Lot.sold) - reservation.quantity}
    else:
        return
    session.execute(
        update(Lot)
        .where(col(Lot.id) == reservation.lot_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    reservation.state = ReservationState.released.value
    session.add(reservation)


def consume(session: Session, reservation: LotReservation) -> None:
    """Payment turns reserved units into sold ones."""
    if reservation.state != ReservationState.reserved:
        return
    session.execute(
        update(Lot)
        .where(col(Lot.id) == reservation.lot_id)
        .values(
            reserved=col(Lot.reserved) - reservation.quantity,
            sold=col(Lot.sold) + reservation.quantity,
        )
        .execution_options(synchronize_session=False)
    )
    reservation.state = ReservationState.sold.value
    session.add(reservation)


def sell_again(session: Session, reservation: LotReservation) -> bool:
    """A released reservation sold directly (late payment): True if the lot still had the units."""
    result = session.execute(
        update(Lot)
        .where(
            col(Lot.id) == reservation.lot_id,
            col(Lot.quantity) - col(Lot.reserved) - col(Lot.sold) >= reservation.quantity,
        )
        .values(sold=col(Lot.sold) + reservation.quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    reservation.state = ReservationState.sold.value
    session.add(reservation)
    return True
