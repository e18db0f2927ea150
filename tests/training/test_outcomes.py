# mypy: disable-error-code="arg-type,union-attr"
"""Income linkage: a seeded ledger where participants' settled income per person rises by a known
amount and non-participants' by another gives exactly the expected difference-in-differences."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from ledger import service as ledger
from ledger.models import AccountType, Side
from ledger.share_rules import member_payable_key
from tests.catalog import factories
from tests.training.conftest import DEPOSITS, STAFF, TODAY, attribution, settle_share
from training import enrolments
from training.config import TrainingConfig
from training.income import add_months, settled_income
from training.models import Enrolment, ProgrammeSession
from training.outcomes import median, programme_report
from training.schemas import EnrolmentCreate

FIRST, LAST = date(2025, 3, 1), date(2025, 3, 8)
BEFORE = date(2024, 12, 15)  # inside [2024-09-01, 2025-03-01)
AFTER = date(2025, 6, 15)  # inside [2025-03-09, 2025-09-09)
API = "/api/v1/training"


def take_back(session, household_id, amount, *, on):
    """A settlement partly reversed for a refund (kind refund, Dr payable)."""
    ledger.post(
        session,
        ledger.EntrySpec(
            kind="refund",
            effective_date=on,
            postings=(
                ledger.PostingSpec(
                    member_payable_key(household_id),
                    Side.debit,
                    amount,
                    "CNY",
                    **attribution(session, household_id),
                ),
                ledger.PostingSpec(DEPOSITS, Side.credit, amount, "CNY"),
            ),
            idempotency_key=f"test-refund:{household_id}:{on}:{amount}",
        ),
    )


def payout(session, household_id, amount, *, on):
    ledger.open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    ledger.post(
        session,
        ledger.EntrySpec(
            kind="payout",
            effective_date=on,
            postings=(
                ledger.PostingSpec(member_payable_key(household_id), Side.debit, amount, "CNY"),
                ledger.PostingSpec("assets:bank", Side.credit, amount, "CNY"),
            ),
            idempotency_key=f"test-payout:{household_id}:{on}",
        ),
    )


@pytest.fixture
def scenario(world):
    """Participants A (4 people) and A2 (2); non-participants A3 (5), A4 (1), A5 (2) of the same
    cooperative; B (other cooperative, 3) stays out of the comparison.

    Per person: A 10,000 → 20,000 (+10,000); A2 10,000 → 18,000 (+8,000): mean and median +9,000.
    A3 10,000 → 12,000 (+2,000); A4 10,000 → 11,000 (+1,000, after a 2,000 take-back);
    A5 10,000 → 16,000 (+6,000): mean +3,000, median +2,000.
    Difference-in-differences: mean 6,000, median 7,000 (fen per person per 6 months).
    """
    session = world.session
    coop = world.coop_a
    a3 = factories.create_household(session, coop=coop, name="A3", household_size=5)
    a4 = factories.create_household(session, coop=coop, name="A4", household_size=1)
    a5 = factories.create_household(session, coop=coop, name="A5", household_size=2)
    a, a2, b = world.household_a, world.household_a2, world.household_b
    for household, before, after in (
        (a, 40_000, 80_000),
        (a2, 20_000, 36_000),
        (a3, 50_000, 60_000),
        (a4, 10_000, 13_000),
        (a5, 20_000, 32_000),
        (b, 30_000, 90_000),
    ):
        settle_share(session, household.id, before, on=BEFORE)
        settle_share(session, household.id, after, on=AFTER)
    take_back(session, a4.id, 2_000, on=AFTER)
    # Noise that must not count: between the windows, before them, a payout.
    settle_share(session, a.id, 99_000, on=date(2025, 3, 5))
    settle_share(session, a3.id, 77_000, on=date(2024, 8, 31))
    payout(session, a.id, 50_000, on=AFTER)
    session.commit()

    programme = world.programme(
        start=FIRST,
        sessions=[
            {"date": FIRST.isoformat(), "place": "村委会"},
            {"date": LAST.isoformat(), "place": "村委会"},
        ],
    )
    for household in (a, a2):
        enrolment = enrolments.apply(
            session,
            actor=STAFF,
            programme_id=programme.id,
            data=EnrolmentCreate(household_id=household.id),
        )
        enrolments.accept(session, actor=STAFF, enrolment_id=enrolment.id)
        first_session = session.scalars(
            select(ProgrammeSession).where(ProgrammeSession.programme_id == programme.id)
        ).first()
        enrolments.mark_attendance(
            session,
            actor=STAFF,
            enrolment_id=enrolment.id,
            session_id=first_session.id,
            present=True,
        )
        enrolments.complete(
            session,
            actor=STAFF,
            enrolment_id=enrolment.id,
            certificate_number=f"CERT-{household.id}",
        )
        # As if it happened in 2025: applied in February, completed on the last session day.
        enrolment.applied_at = datetime(2025, 2, 20, 9, tzinfo=UTC)
        enrolment.completed_at = datetime(2025, 3, 8, 17, tzinfo=UTC)
        session.add(enrolment)
    # Someone who applied and dropped is neither participant nor comparison.
    dropped = factories.create_household(session, coop=coop, name="D", household_size=1)
    settle_share(session, dropped.id, 1_000_000, on=AFTER)
    gone = enrolments.apply(
        session,
        actor=STAFF,
        programme_id=programme.id,
        data=EnrolmentCreate(household_id=dropped.id),
    )
    enrolments.drop(session, actor=STAFF, enrolment_id=gone.id)
    session.commit()
    return programme


def test_difference_in_differences_is_exact(world, scenario):
    report = programme_report(
        world.session, actor=STAFF, programme_id=scenario.id, config=TrainingConfig()
    )
    assert report.enough_data
    assert (report.before.start, report.before.end) == (date(2024, 9, 1), FIRST)
    assert (report.after.start, report.after.end) == (date(2025, 3, 9), date(2025, 9, 9))
    p, n = report.participants, report.non_participants
    assert (p.count, n.count) == (2, 3)
    assert p.mean_before.amount == 10_000
    assert p.mean_after.amount == 19_000
    assert (p.mean_change.amount, p.median_change.amount) == (9_000, 9_000)
    assert (n.mean_change.amount, n.median_change.amount) == (3_000, 2_000)
    assert report.did_mean.amount == 6_000
    assert report.did_median.amount == 7_000
    rows = {row.member_code: row for row in report.enrolments}
    row_a = rows[world.household_a.member_code]
    assert row_a.enough_data
    assert row_a.before.start == date(2024, 8, 20)
    assert row_a.before.end == date(2025, 2, 20)
    assert row_a.income_before_per_capita.amount == 10_000
    # Its own after window [2025-03-08, 2025-09-08) holds only the June share.
    assert row_a.income_after_per_capita.amount == 20_000
    assert row_a.change_per_capita.amount == 10_000
    assert all(r.status.value != "applied" for r in report.enrolments)


def test_report_through_the_api_and_csv(client, world, scenario, as_role):
    response = client.get(f"{API}/programmes/{scenario.id}/outcomes", headers=as_role("staff"))
    assert response.status_code == 200
    body = response.json()
    assert body["did_mean"] == {"amount": 6_000, "currency": "CNY"}
    assert body["view"] == "full"
    exported = client.get(f"{API}/programmes/{scenario.id}/outcomes.csv", headers=as_role("staff"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    did = next(r for r in rows if len(r) > 1 and r[1] == "difference_in_differences")
    assert did[5:7] == ["6000", "7000"]
    assert any(world.household_a.member_code in r for r in rows)


def test_public_aggregate_has_no_household_detail_and_hides_small_groups(
    client, app, world, scenario, as_role
):
    hidden = client.get(f"{API}/programmes/{scenario.id}/outcomes").json()
    assert hidden["view"] == "public"
    assert hidden["enrolments"] is None
    assert hidden["participants"]["count"] == 2
    assert hidden["did_mean"] is None  # 2 participants < the default group of 3
    app.state.training_config = TrainingConfig(public_min_group=2)
    shown = client.get(f"{API}/programmes/{scenario.id}/outcomes").json()
    assert shown["did_mean"]["amount"] == 6_000
    assert shown["enrolments"] is None
    exported = client.get(f"{API}/programmes/{scenario.id}/outcomes.csv").text
    assert world.household_a.member_code not in exported
    farmer = client.get(f"{API}/programmes/{scenario.id}/outcomes", headers=as_role("farmer_a"))
    assert farmer.json()["view"] == "public"


def test_manager_sees_their_cooperative_only(client, world, scenario, as_role):
    mine = client.get(f"{API}/programmes/{scenario.id}/outcomes", headers=as_role("manager_a"))
    assert mine.json()["view"] == "coop"
    assert mine.json()["did_mean"]["amount"] == 6_000
    assert len(mine.json()["enrolments"]) == 3  # two completed, one dropped
    other = client.get(f"{API}/programmes/{scenario.id}/outcomes", headers=as_role("manager_b"))
    body = other.json()
    assert body["participants"]["count"] == 0
    assert body["non_participants"]["count"] == 1  # household B
    assert body["enrolments"] == []
    assert body["did_mean"] is None


def test_not_enough_data_until_the_after_window_is_over(client, world, as_role):
    programme = world.programme(start=TODAY - timedelta(days=10))
    body = client.get(f"{API}/programmes/{programme.id}/outcomes", headers=as_role("staff")).json()
    assert body["enough_data"] is False
    assert body["message"].startswith("Not enough data")
    assert body["did_mean"] is None
    assert body["did_median"] is None


def test_window_length_comes_from_the_settings(world, scenario):
    report = programme_report(
        world.session, actor=STAFF, programme_id=scenario.id, config=TrainingConfig(window_months=3)
    )
    assert report.before.start == date(2024, 12, 1)
    assert report.after.end == date(2025, 6, 9)


def test_reversals_and_take_backs_reduce_income(world):
    session = world.session
    household = world.household_a.id
    entry = settle_share(session, household, 5_000, on=TODAY)
    settle_share(session, household, 7_000, on=TODAY)
    ledger.reverse(session, entry)
    take_back(session, household, 1_000, on=TODAY)
    # The reversal is dated the later of the original's date and today (UTC): a run that crosses
    # midnight after TODAY was read dates it tomorrow, so the window takes in the next day too.
    income = settled_income(session, [household], start=TODAY, end=TODAY + timedelta(days=2))
    assert income == {household: 6_000}


def test_helpers():
    assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 15), 2) == date(2025, 2, 15)
    from fractions import Fraction

    assert median([Fraction(1), Fraction(3), Fraction(2), Fraction(10)]) == Fraction(5, 2)


def test_enrolment_dates_are_used(world, scenario):
    enrolment = world.session.scalars(
        select(Enrolment).where(Enrolment.status == "completed")
    ).first()
    assert enrolment.completed_at.date() == LAST
