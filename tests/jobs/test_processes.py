"""Done-when of the jobs issue, with real processes: nobody runs a command.

- an unpaid order's stock is back on sale within 2 minutes of a 1-minute reservation, by a
  `hezuo worker` on PostgreSQL and by `hezuo serve` itself on SQLite;
- two worker processes on one PostgreSQL database run each tick once.
"""

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from api.jobs.models import JobRun
from api.settings import Settings
from catalog.models import Lot
from orders.models import Order
from tests.catalog import factories
from tests.conftest import BACKEND
from tests.jobs.conftest import HEZUO, SECRET, only, process_env, running
from tests.orders.conftest import SHIPPING
from tests.orders.stripe_harness import free_port


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=SECRET,
        media_dir=tmp_path / "media",
        reservation_minutes_cash_on_delivery=1,
    )


def _place_cash_order(session, client):
    coop = factories.create_coop(session, code="SJ")
    household = factories.create_household(session, coop=coop, name="王芳")
    product = factories.create_product(session, coop=coop, household=household)
    lot = factories.create_lot(session, product=product, quantity=5, contributions=[(household, 5)])
    session.commit()
    body = {
        "lines": [{"product_id": product.id, "quantity": 2}],
        "shipping": SHIPPING,
        "payment_method": "cash_on_delivery",
        "email": "guest@example.com",
    }
    response = client.post(
        "/api/v1/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], lot.id


def _wait_for_server(url: str, process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "hezuo serve exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("hezuo serve did not answer")


def test_unpaid_stock_is_back_on_sale_within_two_minutes_with_no_command(
    settings, session, client, tmp_path
):
    order_id, lot_id = _place_cash_order(session, client)
    placed = datetime.now(UTC)
    lot = session.get(Lot, lot_id)
    assert lot.available == 3
    session.rollback()

    schedules = {"orders-expire": "every 3s"}
    if BACKEND == "postgres":  # production: a worker process runs the jobs
        command = [HEZUO, "worker"]
        env = process_env(settings, HEZUO_JOB_SCHEDULES=only(schedules))
    else:  # embedded SQLite: the web server runs them, `make run` needs nothing more
        port = free_port()
        command = [HEZUO, "serve", "--host", "127.0.0.1", "--port", str(port)]
        env = process_env(settings, HEZUO_JOB_SCHEDULES=only(schedules))
        assert "HEZUO_JOBS_IN_PROCESS" not in env  # the SQLite default, not a test switch
    with running(command, env, tmp_path / "jobs.log") as process:
        if BACKEND != "postgres":
            _wait_for_server(f"http://127.0.0.1:{port}", process)
        while datetime.now(UTC) - placed < timedelta(minutes=2):
            assert process.poll() is None, (tmp_path / "jobs.log").read_text()
            session.rollback()
            order = session.get(Order, order_id)
            if order.status == "expired":
                break
            time.sleep(1)
        back_on_sale = datetime.now(UTC)

    session.rollback()
    order = session.get(Order, order_id)
    lot = session.get(Lot, lot_id)
    assert order.status == "expired", (tmp_path / "jobs.log").read_text()
    assert lot.available == 5
    assert lot.reserved == 0
    # Not before the reservation ran out, and well within the 2 minutes.
    assert back_on_sale - placed >= timedelta(seconds=55)
    assert back_on_sale - placed < timedelta(minutes=2)
    runs = session.scalars(select(JobRun).where(col(JobRun.job) == "orders-expire")).all()
    assert any(run.result.startswith(f"expired 1 order(s): {order_id}") for run in runs)


@pytest.mark.postgres_only
def test_two_workers_run_each_tick_once(settings, session, worker_process):
    started = datetime.now(UTC)
    with (
        worker_process({"orders-expire": "every 2s"}) as one,
        worker_process({"orders-expire": "every 2s"}) as two,
    ):
        time.sleep(11)
        assert one.poll() is None
        assert two.poll() is None
        pids = {one.pid, two.pid}
    session.rollback()
    runs = session.scalars(
        select(JobRun).where(col(JobRun.job) == "orders-expire").order_by(col(JobRun.tick))
    ).all()
    ticks = [run.tick for run in runs]
    both_running = [tick for tick in ticks if tick >= started]
    assert len(both_running) >= 4
    assert len(set(ticks)) == len(ticks)  # no tick twice
    # Every tick in between was run by one of the two (none lost), 2 s apart.
    assert all(b - a == timedelta(seconds=2) for a, b in zip(ticks, ticks[1:], strict=False))
    assert {run.status for run in runs} == {"succeeded"}
    assert {int(run.worker.rsplit(":", 1)[1]) for run in runs} <= pids
