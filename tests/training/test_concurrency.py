# mypy: disable-error-code="arg-type,union-attr"
"""Concurrent accepts on PostgreSQL: many threads, each in its own transaction, accepting into one
programme never overbook its seats and never spend more than the training fund holds."""

import threading
from collections import Counter

import pytest

from api.database import create_db_engine, create_session_factory
from ledger.share_rules import training_fund_key
from tests.catalog import factories
from tests.training.conftest import STAFF, balance, fund_coop
from training import enrolments
from training.errors import FundTooSmall, NoSeatsLeft
from training.models import Programme
from training.schemas import EnrolmentCreate

pytestmark = pytest.mark.postgres_only


def _applicants(world, programme, count):
    session = world.session
    ids = []
    for number in range(count):
        household = factories.create_household(
            session, coop=world.coop_a, name=f"H{number}", household_size=3
        )
        enrolment = enrolments.apply(
            session,
            actor=STAFF,
            programme_id=programme.id,
            data=EnrolmentCreate(household_id=household.id),
        )
        ids.append(enrolment.id)
    session.commit()
    return ids


def _accept_all(settings, enrolment_ids):
    engine = create_db_engine(settings.database_url)
    factory = create_session_factory(engine)
    barrier = threading.Barrier(len(enrolment_ids))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(enrolment_id):
        with factory() as session:
            barrier.wait()
            try:
                enrolments.accept(session, actor=STAFF, enrolment_id=enrolment_id)
                session.commit()
                result = "accepted"
            except NoSeatsLeft:
                session.rollback()
                result = "full"
            except FundTooSmall:
                session.rollback()
                result = "poor"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in enrolment_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    return outcomes


def test_concurrent_accepts_never_overbook(world, settings):
    programme = world.programme(capacity=5, seat_cost={"amount": 1_000, "currency": "CNY"})
    ids = _applicants(world, programme, 24)
    outcomes = _accept_all(settings, ids)
    assert outcomes == Counter({"accepted": 5, "full": 19})
    session = world.session
    session.rollback()
    session.expire_all()
    assert session.get(Programme, programme.id).seats_taken == 5
    assert balance(session, training_fund_key(world.coop_a.id)) == 100_000 - 5_000
    assert balance(session, f"liabilities:training:providers:{world.provider.id}") == 5_000


def test_concurrent_accepts_never_overspend_the_fund(world, settings):
    session = world.session
    coop = factories.create_coop(session, code="LS", village="柳树村")
    fund_coop(session, coop.id, 3_000)
    session.commit()
    # Four programmes paid by the same fund: their seat counters do not serialize each other,
    # only the fund's lock does.
    ids = []
    programmes = []
    for _ in range(4):
        programme = world.programme(
            capacity=12,
            seat_cost={"amount": 1_000, "currency": "CNY"},
            funding={"source": "coop_fund", "coop_id": coop.id},
        )
        programmes.append(programme)
        ids.extend(_applicants(world, programme, 3))
    outcomes = _accept_all(settings, ids)
    assert outcomes == Counter({"accepted": 3, "poor": 9})
    session.rollback()
    session.expire_all()
    assert balance(session, training_fund_key(coop.id)) == 0
    assert sum(session.get(Programme, p.id).seats_taken for p in programmes) == 3
