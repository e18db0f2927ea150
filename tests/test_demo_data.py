"""The demo shows the product working: orders in each state through the real services, receipts
that sum to what was paid, a balanced ledger, training paid by the training fund, a published
disclosure that verifies; and a second load creates nothing."""

import os
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from api.demo import load_demo
from catalog.models import Household, Lot
from governance.disclosure_verify import verify_disclosure
from governance.disclosures import list_disclosures
from governance.models import Disclosure
from ledger import service as ledger
from ledger.models import JournalEntry, Posting
from ledger.share_rules import training_fund_key
from orders.lifecycle import captured, payments_of, refunded
from orders.models import Order, OrderEvent, Payment, Refund
from orders.receipts import receipt
from training.models import Enrolment, Programme

EXPECTED = {
    "demo-order-1": "settled",
    "demo-order-2": "partially_refunded",
    "demo-order-3": "shipped",
    "demo-order-4": "paid",
    "demo-order-5": "pending_payment",
}
HEZUO = str(Path(sys.executable).parent / "hezuo")


def _orders(session: Session) -> dict[str, Order]:
    found = session.scalars(
        select(Order).where(col(Order.idempotency_key).in_(list(EXPECTED)))
    ).all()
    return {order.idempotency_key: order for order in found}


def _counts(session: Session) -> list[int]:
    return [
        int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (
            Order,
            OrderEvent,
            Payment,
            Refund,
            JournalEntry,
            Posting,
            Programme,
            Enrolment,
            Disclosure,
        )
    ]


def test_demo_orders_ledger_training_and_disclosure(session: Session, settings):
    development = settings.model_copy(update={"env": "development"})
    first = load_demo(session, settings=development)
    session.commit()
    assert any(
        line.startswith("order ") and line.endswith("→ delivered and settled") for line in first
    )
    assert any(line.startswith("disclosure ") for line in first)

    orders = _orders(session)
    assert {key: order.status for key, order in orders.items()} == EXPECTED
    assert orders["demo-order-1"].buyer_user_id is not None
    assert orders["demo-order-2"].guest_email == "zhao.min@example.com"

    # Receipts: read back from the postings, summing exactly to what was paid (less refunds).
    codes = {h.id: h.member_code for h in session.scalars(select(Household))}
    settled_training = 0
    for key in ("demo-order-1", "demo-order-2"):
        order = orders[key]
        payments = payments_of(session, order.id or 0)
        paid = captured(payments) - refunded(payments)
        split = receipt(session, order)
        assert split.paid.amount == paid
        assert sum(part.amount for part in split.split) == paid
        parties = {part.party for part in split.split}
        assert "escrow" not in parties  # all of it shared out at settlement
        assert {"enterprise", f"fund:collective:{order_coop(session)}"} <= parties
        settled_training += sum(
            p.amount for p in split.split if p.party.startswith("fund:training")
        )
    first_receipt = receipt(session, orders["demo-order-1"])
    assert first_receipt.paid.amount == orders["demo-order-1"].total_amount == 44_400
    households = {p.party for p in first_receipt.split if p.party.startswith("household:")}
    assert households == {f"household:{code}" for code in codes.values()}  # all five produced it
    second = orders["demo-order-2"]
    assert receipt(session, second).paid.amount == second.total_amount - 12_800 == 22_400

    # Paid but not delivered: the money waits in escrow.
    for key in ("demo-order-3", "demo-order-4"):
        held = receipt(session, orders[key])
        assert [(p.party, p.amount) for p in held.split] == [("escrow", orders[key].total_amount)]
    assert receipt(session, orders["demo-order-5"]).split == []
    assert orders["demo-order-5"].reserved_until is not None  # its stock is held

    # The ledger balances per currency and its seals verify.
    trial = ledger.trial_balance(session)
    assert trial.totals
    for total in trial.totals:
        assert total.debits == total.credits > 0
    assert ledger.verify(session)["ok"] is True

    # Training: the fund got the settled sales' training parts and paid one seat from them.
    coop_id = order_coop(session)
    programmes = {p.title_en: p for p in session.scalars(select(Programme))}
    ecommerce = programmes["Rural e-commerce and live-stream selling"]
    bees = programmes["Keeping Chinese honeybees"]
    assert (ecommerce.funding_source, ecommerce.funding_coop_id) == ("coop_fund", coop_id)
    assert bees.funding_source == "enterprise"
    enrolled: dict[tuple[int | None, str], Enrolment] = {
        (e.programme_id, codes[e.household_id]): e for e in session.scalars(select(Enrolment))
    }
    farmer = enrolled[(ecommerce.id, "SJ-0001")]
    assert farmer.status == "accepted"
    assert farmer.funding_account == training_fund_key(coop_id)
    assert farmer.financing_entry_id is not None
    assert enrolled[(bees.id, "SJ-0003")].status == "accepted"
    assert enrolled[(bees.id, "SJ-0005")].status == "applied"
    assert (ecommerce.seats_taken, bees.seats_taken) == (1, 1)
    fund = ledger.balance(session, training_fund_key(coop_id)).amount
    assert settled_training > ecommerce.seat_cost
    assert fund == settled_training - ecommerce.seat_cost

    # Governance: last month's disclosure, closed and final, built from the same ledger, verifies.
    # The sales were settled on the last day of last month; the refund and the seats came after
    # (this month), so the month shows the sales before the refund and no seats financed.
    (disclosure,) = list_disclosures(session, coop_id=coop_id)
    last_month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert disclosure.period == last_month
    assert disclosure.period_closed is True
    given_back = sum(r.amount for r in session.scalars(select(Refund)) if r.after_settlement)
    assert given_back > 0
    assert disclosure.content["sales"]["total"] == 44_400 + 22_400 + given_back
    assert disclosure.content["training"]["seats_financed"] == 0
    training_fund = disclosure.content["funds"]["training_fund"]
    assert training_fund["closing"] == training_fund["inflow"] >= settled_training
    assert training_fund["outflow"] == 0
    check = verify_disclosure(session, disclosure)
    assert check["ok"] is True, check
    assert check["status"] == "matches"

    # A second load finds everything in place.
    before = _counts(session)
    assert load_demo(session, settings=development) == []
    session.commit()
    assert _counts(session) == before
    assert {key: order.status for key, order in _orders(session).items()} == EXPECTED


def order_coop(session: Session) -> int:
    coop_id = session.scalars(select(col(Household.coop_id))).first()
    assert coop_id is not None
    return coop_id


def test_the_demo_through_the_api_and_pages(session: Session, settings, client):
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    token = client.post(
        "/api/v1/auth/token",
        data={"username": "buyer@hezuo.demo", "password": "buyer-demo-2026"},
    ).json()["access_token"]
    buyer = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/orders", headers=buyer).json()["items"]
    assert sorted(o["status"] for o in mine) == ["pending_payment", "settled", "shipped"]
    settled = next(o for o in mine if o["status"] == "settled")
    answer = client.get(f"/api/v1/orders/{settled['id']}/receipt", headers=buyer).json()
    assert sum(part["amount"] for part in answer["split"]) == answer["paid"]["amount"] > 0

    public = client.get("/api/v1/training/programmes").json()["items"]
    assert {p["title"]["zh"] for p in public} == {"农村电商与直播带货", "中华蜂科学养殖"}
    assert len(client.get("/api/v1/disclosures").json()["items"]) == 1
    page = client.get("/training", headers={"accept-language": "zh-CN"})
    assert "农村电商与直播带货" in page.text
    # Enough stock is left to order (the browser journeys buy from the demo).
    assert all(lot.quantity - lot.sold - lot.reserved > 2 for lot in session.scalars(select(Lot)))


def test_demo_load_twice_through_the_cli_on_a_fresh_sqlite_file(tmp_path):
    environment = {
        **os.environ,
        "HEZUO_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db",
        "HEZUO_ENV": "development",
        "HEZUO_SECRET_KEY": "cli-test-secret-key-0123456789-abcdefghij",
        "HEZUO_MEDIA_DIR": tempfile.mkdtemp(prefix="hezuo-demo-media-"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HEZUO, *args], env=environment, capture_output=True, text=True, timeout=180
        )

    assert run("db", "upgrade").returncode == 0
    first = run("demo", "load")
    assert first.returncode == 0, first.stderr
    assert "(demo-order-1, buyer@hezuo.demo): placed" in first.stdout
    assert "created disclosure" in first.stdout
    second = run("demo", "load")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "demo data already loaded"
    verify = run("ledger", "verify")
    assert verify.returncode == 0, verify.stdout
