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
