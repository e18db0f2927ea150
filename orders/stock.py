"""An order's lot reservations kept in step with the lots: each move is catalog.stock's, the state is ours.

catalog/stock.py is the one place that changes a lot's counters (one conditional UPDATE per move);
these helpers pick the move a reservation's state calls for and record the reservation's new state.
"""

from sqlmodel import Session

from catalog import stock
from catalog.errors import NotEnoughStock
from orders.models import LotReservation, ReservationState


def release(session: Session, reservation: LotReservation) -> None:
    """Give a reservation's units back (reserved, or sold when a paid order is cancelled)."""
    if reservation.state == ReservationState.reserved:
        stock.release_lot(session, lot_id=reservation.lot_id, quantity=reservation.quantity)
    elif reservation.state == ReservationState.sold:
        if not stock.release_sold(
            session, lot_id=reservation.lot_id, quantity=reservation.quantity
        ):
            raise NotEnoughStock(
                f"Lot {reservation.lot_id} has fewer than {reservation.quantity} units sold."
            )
    else:
        return
    reservation.state = ReservationState.released.value
    session.add(reservation)


def consume(session: Session, reservation: LotReservation) -> None:
    """Payment turns reserved units into sold ones."""
    if reservation.state != ReservationState.reserved:
        return
    stock.sell_reserved(session, lot_id=reservation.lot_id, quantity=reservation.quantity)
    reservation.state = ReservationState.sold.value
    session.add(reservation)


def sell_again(session: Session, reservation: LotReservation) -> bool:
    """A released reservation sold directly (late payment): True if the lot still had the units."""
    if not stock.sell_released(session, lot_id=reservation.lot_id, quantity=reservation.quantity):
        return False
    reservation.state = ReservationState.sold.value
    session.add(reservation)
    return True
