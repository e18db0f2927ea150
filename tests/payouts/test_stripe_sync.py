"""Stripe sync against the localstripe emulator: balance transactions stored once, charges matched
to our payments by PaymentIntent, a second sync fetches nothing new; EUR-only emulator payouts are
reported, not posted, in a CNY ledger. (localstripe's fees are always 0, so fee postings are shown
with a fee-bearing transaction only on real Stripe; its payouts make no balance transactions.)"""

import uuid
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.models import Role
from api.settings import Settings
from ledger import service
from ledger.models import AccountType, Side
from ledger.payout_models import StripeTransaction
from orders.models import Order, Payment
from orders.stripe_gateway import StripeGateway
from orders.stripe_sync import sync
from tests.orders.stripe_harness import localstripe_process

KEY = "sk_test_hezuo_payouts"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with localstripe_process() as url:
        yield url


@pytest.fixture
def stripe_url(emulator: str) -> str:
    response = httpx.delete(f"{emulator}/_config/data", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    return emulator


@pytest.fixture
def settings(database_url: str, tmp_path: object, stripe_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        stripe_secret_key=KEY,
        stripe_api_base=stripe_url,
    )


def paid_order(session: Session, client: stripe.StripeClient, amount: int) -> str:
    """A card payment as the orders flow leaves it: intent succeeded, payment row, ledger entry."""
    intent = client.v1.payment_intents.create(
        params={  # type: ignore[typeddict-unknown-key]
            "amount": amount,
            "currency": "cny",
            "payment_method_types": ["card"],
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert intent.status == "succeeded"
    order = Order(
        status="paid",
        guest_email="buyer@example.com",
        access_nonce=uuid.uuid4().hex,
        recipient="王",
        phone="13800000000",
        province="云南省",
        city="昆明市",
        district="盘龙区",
        street="1号",
        note="",
        payment_method="stripe",
        reference_code=uuid.uuid4().hex[:12],
        currency="CNY",
        total_amount=amount,
        idempotency_scope="test",
        idempotency_key=uuid.uuid4().hex,
        request_hash="0" * 64,
        flagged=False,
        flag_reason="",
    )
    session.add(order)
    session.flush()
    entry = service.post(
        session,
        service.EntrySpec(
            kind="payment",
            effective_date=date.today(),
            postings=(
                service.PostingSpec("assets:clearing:stripe", Side.debit, amount, "CNY"),
                service.PostingSpec("liabilities:buyers:deposits", Side.credit, amount, "CNY"),
            ),
            idempotency_key=f"test-payment:{intent.id}",
            reference=f"order:{order.id}",
        ),
    ).entry
    assert order.id is not None
    session.add(
        Payment(
            order_id=order.id,
            provider="stripe",
            method="card",
            status="succeeded",
            currency="CNY",
            amount_authorized=amount,
            amount_captured=amount,
            payment_intent_id=intent.id,
            recorded_by="stripe",
            ledger_entry_id=entry.id,
        )
    )
    session.commit()
    return intent.id


def test_sync_stores_once_matches_by_intent_and_reports_foreign_payouts(
    session: Session, settings: Settings, stripe_url: str
) -> None:
    for key, kind in (
        ("assets:clearing:stripe", AccountType.asset),
        ("liabilities:buyers:deposits", AccountType.liability),
        ("assets:bank", AccountType.asset),
    ):
        service.open_account(session, key=key, type=kind, currency="CNY")
    session.commit()
    browser = stripe.StripeClient(KEY, base_addresses={"api": stripe_url})
    paid_order(session, browser, 6_800)
    paid_order(session, browser, 12_000)
    browser.v1.payouts.create(params={"amount": 1_000, "currency": "eur"})
    gateway = StripeGateway(KEY, api_base=stripe_url)

    first = sync(session, gateway=gateway, created_by="test")
    session.commit()
    assert (first.new, first.matched, first.fees_posted, first.payouts_posted) == (3, 2, 0, 0)
    assert len(first.unmatched) == 1
    assert "EUR" in first.unmatched[0]
    stored = session.scalars(select(StripeTransaction).order_by(col(StripeTransaction.id))).all()
    assert sorted(row.type for row in stored) == ["charge", "charge", "payout"]
    assert all(row.matched_entry_id for row in stored if row.type == "charge")

    again = sync(session, gateway=gateway, created_by="test")
    session.commit()
    assert again.new == 0
    assert session.scalar(select(func.count()).select_from(StripeTransaction)) == 3
    assert service.balance(session, "assets:bank").amount == 0  # nothing posted in EUR


def test_staff_button_runs_the_sync(
    client: TestClient, make_user: object, login: object, session: Session, stripe_url: str
) -> None:
    staff = make_user(Role.staff)  # type: ignore[operator]
    farmer = make_user(Role.farmer)  # type: ignore[operator]
    url = "/api/v1/reconciliation/stripe/sync"
    assert client.post(url, headers=login(farmer)).status_code == 403  # type: ignore[operator]
    response = client.post(url, headers=login(staff))  # type: ignore[operator]
    assert response.status_code == 200, response.text
    assert response.json()["new"] == 0


def test_cli_stripe_sync(session: Session, database_url: str, stripe_url: str) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    service.open_account(
        session, key="assets:clearing:stripe", type=AccountType.asset, currency="CNY"
    )
    service.open_account(
        session, key="liabilities:buyers:deposits", type=AccountType.liability, currency="CNY"
    )
    session.commit()
    browser = stripe.StripeClient(KEY, base_addresses={"api": stripe_url})
    paid_order(session, browser, 2_500)
    env = {
        **os.environ,
        "HEZUO_DATABASE_URL": database_url,
        "HEZUO_STRIPE_SECRET_KEY": KEY,
        "HEZUO_STRIPE_API_BASE": stripe_url,
    }
    hezuo = str(Path(sys.executable).parent / "hezuo")
    first = subprocess.run(
        [hezuo, "stripe", "sync"], env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert "new 1, matched 1" in first.stdout
    again = subprocess.run(
        [hezuo, "stripe", "sync"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "new 0" in again.stdout
    env.pop("HEZUO_STRIPE_SECRET_KEY")
    off = subprocess.run([hezuo, "stripe", "sync"], env=env, capture_output=True, text=True)
    assert off.returncode == 2
