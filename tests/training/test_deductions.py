# mypy: disable-error-code="arg-type,union-attr"
"""Tuition by deduction: a capped share of each later settled share repays the seat, exactly once
per settlement, and stops at the seat cost."""

from datetime import timedelta

import pytest

from ledger import service as ledger
from ledger.share_rules import member_payable_key, training_fund_key
from tests.training.conftest import STAFF, TODAY, balance, settle_share
from training import deductions, enrolments
from training.schemas import EnrolmentCreate


def _deduction_enrolment(world, *, bps=None, seat=30_000):
    programme = world.programme(
        seat_cost={"amount": seat, "currency": "CNY"}, deduction_cap_bps=1000
    )
    enrolment = enrolments.apply(
        world.session,
        actor=STAFF,
        programme_id=programme.id,
        data=EnrolmentCreate(
            household_id=world.household_a.id, repayment="deduction", deduction_bps=bps
        ),
    )
    enrolments.accept(world.session, actor=STAFF, enrolment_id=enrolment.id)
    world.session.commit()
    return enrolment


def test_pure_rule():
    assert deductions.deduction_for(12_345, rate_bps=1000, outstanding=50_000) == 1234
    assert deductions.deduction_for(12_345, rate_bps=1000, outstanding=100) == 100
    assert deductions.deduction_for(0, rate_bps=1000, outstanding=100) == 0
    assert deductions.deduction_for(5_000, rate_bps=10_000, outstanding=9_000) == 5_000


def test_each_settlement_gives_ten_percent_until_the_seat_is_repaid(world):
    session = world.session
    enrolment = _deduction_enrolment(world, seat=3_000)
    fund = training_fund_key(world.coop_a.id)
    payable = member_payable_key(world.household_a.id)
    assert balance(session, fund) == 100_000 - 3_000
    made = []
    for share in (10_000, 12_000, 15_000):
        entry_id = settle_share(session, world.household_a.id, share, on=TODAY)
        made.append(deductions.deduct_after_settlement(session, entry_id=entry_id))
        session.commit()
    # 1,000 + 1,200, then only the 800 still owed (not 1,500).
    assert [sum(p.amount for p in postings) // 2 for postings in made] == [1_000, 1_200, 800]
    assert balance(session, payable) == 37_000 - 3_000
    assert balance(session, fund) == 100_000
    assert enrolments.repaid(session, enrolment.id) == 3_000
    later = settle_share(session, world.household_a.id, 20_000, on=TODAY)
    assert deductions.deduct_after_settlement(session, entry_id=later) == []
    statement = ledger.statement(session, payable)
    memos = [line.memo for line in statement.lines]
    assert sum("Tuition deduction" in memo for memo in memos) == 3


def test_deduction_is_idempotent_per_settlement(world):
    session = world.session
    _deduction_enrolment(world)
    entry_id = settle_share(session, world.household_a.id, 10_000, on=TODAY)
    first = deductions.deduct_after_settlement(session, entry_id=entry_id)
    session.commit()
    again = deductions.deduct_after_settlement(session, entry_id=entry_id)
    session.commit()
    assert first == again
    assert balance(session, member_payable_key(world.household_a.id)) == 9_000
    assert deductions.deduct_pending(session) == 0


def test_a_lower_chosen_rate_is_used(world):
    session = world.session
    _deduction_enrolment(world, bps=500)
    entry_id = settle_share(session, world.household_a.id, 10_000, on=TODAY)
    postings = deductions.deduct_after_settlement(session, entry_id=entry_id)
    assert postings[0].amount == 500


def test_shares_settled_before_acceptance_are_not_deducted(world):
    session = world.session
    earlier = settle_share(session, world.household_a.id, 10_000, on=TODAY - timedelta(days=3))
    session.commit()
    _deduction_enrolment(world)
    assert deductions.deduct_after_settlement(session, entry_id=earlier) == []


def test_sweep_catches_settlements_no_one_passed_on(world):
    session = world.session
    _deduction_enrolment(world)
    for share in (10_000, 20_000):
        settle_share(session, world.household_a.id, share, on=TODAY)
    session.commit()
    assert deductions.deduct_pending(session) == 2
    session.commit()
    assert deductions.deduct_pending(session) == 0
    assert balance(session, member_payable_key(world.household_a.id)) == 30_000 - 3_000


def test_fund_repaid_enrolments_are_not_deducted(world):
    session = world.session
    programme = world.programme()
    enrolment = enrolments.apply(
        session,
        actor=STAFF,
        programme_id=programme.id,
        data=EnrolmentCreate(household_id=world.household_a.id),
    )
    enrolments.accept(session, actor=STAFF, enrolment_id=enrolment.id)
    entry_id = settle_share(session, world.household_a.id, 10_000, on=TODAY)
    assert deductions.deduct_after_settlement(session, entry_id=entry_id) == []


def test_deductions_visible_through_the_api(client, world, as_role):
    enrolment = _deduction_enrolment(world)
    entry_id = settle_share(world.session, world.household_a.id, 10_000, on=TODAY)
    world.session.commit()
    run = client.post(
        f"/api/v1/training/deductions/settlements/{entry_id}", headers=as_role("staff")
    )
    assert run.status_code == 200
    assert run.json() == {"postings": 2}
    listed = client.get(
        f"/api/v1/training/enrolments/{enrolment.id}/deductions", headers=as_role("farmer_a")
    )
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert items[0]["amount"] == {"amount": 1_000, "currency": "CNY"}
    read = client.get(f"/api/v1/training/enrolments/{enrolment.id}", headers=as_role("farmer_a"))
    assert read.json()["repaid"]["amount"] == 1_000
    assert read.json()["outstanding"]["amount"] == 29_000


@pytest.mark.parametrize("bps", [0, 10_001, 12.5, "1000"])
def test_programme_deduction_cap_out_of_range_is_422(client, world, as_role, bps):
    response = client.post(
        "/api/v1/training/programmes",
        json={
            "provider_id": world.provider.id,
            "title": {"zh": "养蜂"},
            "skill_area": "beekeeping",
            "capacity": 5,
            "seat_cost": {"amount": 1000, "currency": "CNY"},
            "funding": {"source": "coop_fund"},
            "min_attendance": 0,
            "deduction_cap_bps": bps,
        },
        headers=as_role("staff"),
    )
    assert response.status_code == 422
    assert any("deduction_cap_bps" in e["loc"] for e in response.json()["errors"])
