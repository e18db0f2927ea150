"""No overselling: 20 buyers race for 5 units through two API processes on one PostgreSQL database."""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from catalog.models import Lot
from tests.catalog import factories
from tests.orders.conftest import SHIPPING
from tests.orders.stripe_harness import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
BUYERS = 20
UNITS = 5


def _start_api(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "HEZUO_DATABASE_URL": database_url,
        "HEZUO_ENV": "test",
        "HEZUO_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        # Twenty different buyers, but all from this one machine with the same phone number.
        "HEZUO_MAX_UNPAID_ORDERS_PER_CLIENT": "1000",
        "HEZUO_MAX_UNPAID_ORDERS_PER_CONTACT": "1000",
    }
    for name in ("HEZUO_STRIPE_SECRET_KEY", "HEZUO_STRIPE_API_BASE"):
        env.pop(name, None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/healthz", seconds=30, process=process)
    return process, url


@pytest.mark.postgres_only
def test_twenty_buyers_five_units_two_processes_exactly_five_sold(database_url, session):
    coop = factories.create_coop(session, code="RC")
    household = factories.create_household(session, coop=coop)
    product = factories.create_product(
        session, coop=coop, household=household, name={"zh": "野生菌", "en": "Wild fungi"}
    )
    factories.create_lot(
        session, product=product, quantity=UNITS, contributions=[(household, UNITS)]
    )
    session.commit()

    servers = [_start_api(database_url) for _ in range(2)]
    try:
        results: list[httpx.Response] = []
        barrier = threading.Barrier(BUYERS)

        def buy(index: int) -> None:
            url = servers[index % 2][1]
            body = {
                "lines": [{"product_id": product.id, "quantity": 1}],
                "shipping": SHIPPING,
                "payment_method": "bank_transfer",
                "email": f"buyer{index}@example.com",
            }
            with httpx.Client(timeout=60) as http:
                barrier.wait()
                results.append(
                    http.post(
                        f"{url}/api/v1/orders",
                        json=body,
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                )

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)

    codes = sorted(r.status_code for r in results)
    assert codes == [201] * UNITS + [409] * (BUYERS - UNITS), [
        r.text for r in results if r.status_code not in (201, 409)
    ]
    for loser in (r for r in results if r.status_code == 409):
        assert loser.json()["detail"].startswith("Not enough stock of 野生菌 (Wild fungi)")
    session.rollback()
    session.expire_all()
    lot = session.scalars(select(Lot).where(Lot.product_id == product.id)).one()
    assert (lot.reserved, lot.sold) == (UNITS, 0)
    assert lot.quantity - lot.reserved - lot.sold == 0
