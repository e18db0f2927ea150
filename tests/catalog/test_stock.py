"""Atomic stock moves on lots: no oversell, all-or-nothing product reservations."""

import pytest
from sqlalchemy.exc import IntegrityError

from catalog import stock
from catalog.errors import NotEnoughStock
from catalog.models import Lot
from tests.catalog import factories


def test_reserve_release_sell(session, world):
    lot_id = world.lot.id
    assert stock.reserve_lot(session, lot_id=lot_id, quantity=7)
    assert not stock.reserve_lot(session, lot_id=lot_id, quantity=4)
    stock.sell_reserved(session, lot_id=lot_id, quantity=5)
    stock.release_lot(session, lot_id=lot_id, quantity=2)
    session.commit()
    lot = session.get(Lot, lot_id)
    session.refresh(lot)
    assert (lot.quantity, lot.reserved, lot.sold, lot.available) == (10, 0, 5, 5)
    with pytest.raises(NotEnoughStock):
        stock.release_lot(session, lot_id=lot_id, quantity=1)


def test_reserve_product_spans_lots_soonest_expiry_first(session, world):
    from datetime import date

    second = factories.create_lot(
        session, product=world.active, quantity=5, expires_on=date(2027, 1, 1)
    )
    session.commit()
    held = stock.reserve_product(session, product_id=world.active.id, quantity=12)
    assert held == [
        stock.Reservation(lot_id=second.id or 0, quantity=5),
        stock.Reservation(lot_id=world.lot.id, quantity=7),
    ]
    with pytest.raises(NotEnoughStock):
        stock.reserve_product(session, product_id=world.active.id, quantity=4)


def test_the_database_refuses_an_oversold_lot(session, world):
    lot = session.get(Lot, world.lot.id)
    lot.sold = 11
    session.add(lot)
    with pytest.raises(IntegrityError):
        session.commit()


def test_concurrent_reservations_never_oversell(engine, world):
    from concurrent.futures import ThreadPoolExecutor

    from api.database import create_session_factory

    factory = create_session_factory(engine)
    lot_id = world.lot.id

    def reserve_three(_: int) -> bool:
        with factory() as session:
            ok = stock.reserve_lot(session, lot_id=lot_id, quantity=3)
            session.commit()
            return ok

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(reserve_three, range(8)))
    assert results.count(True) == 3  # 10 units: three holds of 3, the rest refused
    with factory() as session:
        assert session.get_one(Lot, lot_id).reserved == 9


def _counters(session, lot_id):
    session.commit()
    lot = session.get_one(Lot, lot_id)
    session.refresh(lot)
    return (lot.reserved, lot.sold)


def test_a_late_sale_takes_only_units_still_available(session, world):
    lot_id = world.lot.id
    assert stock.reserve_lot(session, lot_id=lot_id, quantity=6)
    assert stock.sell_released(session, lot_id=lot_id, quantity=4)
    assert _counters(session, lot_id) == (6, 4)
    assert not stock.sell_released(session, lot_id=lot_id, quantity=1)  # 10 = 6 held + 4 sold
    assert _counters(session, lot_id) == (6, 4)


def test_releasing_sold_units_never_goes_below_zero(session, world):
    lot_id = world.lot.id
    assert stock.sell_released(session, lot_id=lot_id, quantity=3)
    assert stock.reserve_lot(session, lot_id=lot_id, quantity=2)
    assert not stock.release_sold(session, lot_id=lot_id, quantity=4)
    assert _counters(session, lot_id) == (2, 3)
    assert stock.release_sold(session, lot_id=lot_id, quantity=3)
    assert _counters(session, lot_id) == (2, 0)
    assert not stock.release_sold(session, lot_id=lot_id, quantity=1)


def test_reserve_up_to_takes_older_harvests_first_and_says_how_much_it_got(session, world):
    from datetime import date

    older = factories.create_lot(
        session, product=world.active, quantity=3, harvested_on=date(2026, 9, 1)
    )
    session.commit()
    held = stock.reserve_up_to(session, product_id=world.active.id, quantity=20)
    assert held == [
        stock.Reservation(lot_id=older.id or 0, quantity=3),
        stock.Reservation(lot_id=world.lot.id, quantity=10),
    ]
