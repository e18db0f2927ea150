"""Enrolment through the API: apply, accept (seat + financing), attendance, completion, dropping,
and every refusal leaving nothing half stored."""

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import col

from ledger.models import JournalEntry
from ledger.share_rules import training_fund_key
from tests.training.conftest import TODAY, balance
from training.financing import ENTERPRISE_TRAINING_EXPENSE
from training.models import Enrolment, EnrolmentEvent, Programme

API = "/api/v1/training"


def _apply(client, headers, programme_id, **body):
    return client.post(f"{API}/programmes/{programme_id}/enrolments", json=body, headers=headers)


def _fund(world, coop):
    world.session.rollback()
    world.session.expire_all()
    return balance(world.session, training_fund_key(coop.id))


def _entries(session) -> int:
    session.rollback()
    session.expire_all()
    return session.scalar(select(func.count()).select_from(JournalEntry)) or 0


def test_farmer_applies_staff_accept_finances_the_seat(client, world, as_role):
    programme = world.programme()
    response = _apply(client, as_role("farmer_a"), programme.id)
    assert response.status_code == 201, response.text
    enrolment = response.json()
    assert enrolment["status"] == "applied"
    assert enrolment["household_id"] == world.household_a.id
    assert enrolment["history"][0]["to_status"] == "applied"

    accepted = client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["seat_cost"] == {"amount": 30_000, "currency": "CNY"}
    assert body["funding_account"] == training_fund_key(world.coop_a.id)
    assert [e["to_status"] for e in body["history"]] == ["applied", "accepted"]
    staff = world.user("staff")
    assert body["history"][1]["actor"] == f"user:{staff.id}"
    assert _fund(world, world.coop_a) == 100_000 - 30_000
    assert balance(world.session, f"liabilities:training:providers:{world.provider.id}") == 30_000
    seats = client.get(f"{API}/programmes/{programme.id}").json()
    assert (seats["seats_taken"], seats["seats_left"]) == (1, 9)


def test_applying_twice_is_409_and_stores_nothing(client, world, as_role):
    programme = world.programme()
    assert _apply(client, as_role("farmer_a"), programme.id).status_code == 201
    again = _apply(client, as_role("farmer_a"), programme.id)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    world.session.rollback()
    count = world.session.scalar(select(func.count()).select_from(Enrolment))
    assert count == 1


def test_fund_that_cannot_cover_the_seat_is_refused_with_its_balance(client, world, as_role):
    programme = world.programme(seat_cost={"amount": 150_000, "currency": "CNY"})
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    entries = _entries(world.session)
    refused = client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    assert refused.status_code == 409
    problem = refused.json()
    assert "¥1,000.00" in problem["detail"]
    assert "100000 CNY" in problem["detail"]
    assert problem["errors"][0]["balance"] == {"amount": 100_000, "currency": "CNY"}
    # Nothing half stored: no seat, no status change, no entry, fund untouched.
    assert _entries(world.session) == entries
    assert _fund(world, world.coop_a) == 100_000
    row = world.session.get(Enrolment, enrolment["id"])
    assert row.status == "applied"
    assert world.session.get(Programme, programme.id).seats_taken == 0


def test_accepting_beyond_capacity_is_409(client, world, as_role):
    programme = world.programme(capacity=1)
    first = _apply(client, as_role("farmer_a"), programme.id).json()
    second = _apply(client, as_role("farmer_a2"), programme.id).json()
    assert (
        client.post(f"{API}/enrolments/{first['id']}/accept", headers=as_role("staff")).status_code
        == 200
    )
    full = client.post(f"{API}/enrolments/{second['id']}/accept", headers=as_role("staff"))
    assert full.status_code == 409
    assert "seats" in full.json()["detail"]
    assert _fund(world, world.coop_a) == 70_000  # only one seat financed
    assert world.session.get(Enrolment, second["id"]).status == "applied"


def test_accepting_twice_is_409(client, world, as_role):
    programme = world.programme()
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    url = f"{API}/enrolments/{enrolment['id']}/accept"
    assert client.post(url, headers=as_role("staff")).status_code == 200
    assert client.post(url, headers=as_role("staff")).status_code == 409
    assert _fund(world, world.coop_a) == 70_000


def test_attendance_then_completion_with_certificate(client, world, as_role):
    programme = world.programme()
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    staff = as_role("staff")
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=staff)
    too_early = client.post(
        f"{API}/enrolments/{enrolment['id']}/complete",
        json={"certificate_number": "CERT-1"},
        headers=staff,
    )
    assert too_early.status_code == 409  # no attendance yet
    sessions = client.get(f"{API}/programmes/{programme.id}").json()["sessions"]
    marked = client.post(
        f"{API}/enrolments/{enrolment['id']}/attendance",
        json={"session_id": sessions[0]["id"], "present": True},
        headers=staff,
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "attending"
    assert marked.json()["attendance"][0]["present"] is True
    done = client.post(
        f"{API}/enrolments/{enrolment['id']}/complete",
        json={"certificate_number": "CERT-1"},
        headers=staff,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["certificate_number"] == "CERT-1"
    assert [e["to_status"] for e in done.json()["history"]] == [
        "applied",
        "accepted",
        "attending",
        "completed",
    ]


def test_completion_needs_the_minimum_attendance_and_a_unique_certificate(client, world, as_role):
    programme = world.programme(min_attendance=2)
    staff = as_role("staff")
    ids = []
    for farmer in ("farmer_a", "farmer_a2"):
        enrolment = _apply(client, as_role(farmer), programme.id).json()
        client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=staff)
        ids.append(enrolment["id"])
    sessions = client.get(f"{API}/programmes/{programme.id}").json()["sessions"]
    client.post(
        f"{API}/enrolments/{ids[0]}/attendance",
        json={"session_id": sessions[0]["id"]},
        headers=staff,
    )
    short = client.post(
        f"{API}/enrolments/{ids[0]}/complete", json={"certificate_number": "C-1"}, headers=staff
    )
    assert short.status_code == 409
    assert "needs 2" in short.json()["detail"]
    for enrolment_id in ids:
        for held in sessions:
            client.post(
                f"{API}/enrolments/{enrolment_id}/attendance",
                json={"session_id": held["id"]},
                headers=staff,
            )
    ok = client.post(
        f"{API}/enrolments/{ids[0]}/complete", json={"certificate_number": "C-1"}, headers=staff
    )
    assert ok.status_code == 200
    dup = client.post(
        f"{API}/enrolments/{ids[1]}/complete", json={"certificate_number": "C-1"}, headers=staff
    )
    assert dup.status_code == 409
    world.session.rollback()
    world.session.expire_all()
    assert world.session.get(Enrolment, ids[1]).status == "attending"


def test_attendance_for_another_programmes_session_is_422(client, world, as_role):
    first = world.programme()
    other = world.programme()
    enrolment = _apply(client, as_role("farmer_a"), first.id).json()
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    foreign = client.get(f"{API}/programmes/{other.id}").json()["sessions"][0]["id"]
    response = client.post(
        f"{API}/enrolments/{enrolment['id']}/attendance",
        json={"session_id": foreign},
        headers=as_role("staff"),
    )
    assert response.status_code == 422


def test_dropping_before_the_start_returns_the_seat_cost(client, world, as_role):
    programme = world.programme(capacity=1, start=TODAY + timedelta(days=30))
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    accepted = client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    assert _fund(world, world.coop_a) == 70_000
    dropped = client.post(
        f"{API}/enrolments/{enrolment['id']}/drop",
        json={"reason": "harvest"},
        headers=as_role("farmer_a"),
    )
    assert dropped.status_code == 200, dropped.text
    body = dropped.json()
    assert body["status"] == "dropped"
    assert body["refund_entry_id"] is not None
    assert _fund(world, world.coop_a) == 100_000
    assert balance(world.session, f"liabilities:training:providers:{world.provider.id}") == 0
    reversal = world.session.get(JournalEntry, body["refund_entry_id"])
    assert reversal.reverses_id == accepted.json()["financing_entry_id"]
    # The seat is free again.
    other = _apply(client, as_role("farmer_a2"), programme.id).json()
    assert (
        client.post(f"{API}/enrolments/{other['id']}/accept", headers=as_role("staff")).status_code
        == 200
    )


def test_dropping_after_the_start_keeps_the_seat_paid(client, world, as_role):
    programme = world.programme(start=TODAY - timedelta(days=1))
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    dropped = client.post(
        f"{API}/enrolments/{enrolment['id']}/drop", json={}, headers=as_role("staff")
    )
    assert dropped.status_code == 200
    assert dropped.json()["refund_entry_id"] is None
    assert _fund(world, world.coop_a) == 70_000
    assert world.session.get(Programme, programme.id).seats_taken == 1
    again = client.post(
        f"{API}/enrolments/{enrolment['id']}/drop", json={}, headers=as_role("staff")
    )
    assert again.status_code == 409


def test_enterprise_funded_seat_is_an_enterprise_expense(client, world, as_role):
    programme = world.programme(funding={"source": "enterprise"})
    enrolment = _apply(client, as_role("farmer_b"), programme.id).json()
    body = client.post(
        f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff")
    ).json()
    assert body["funding_account"] == ENTERPRISE_TRAINING_EXPENSE
    assert balance(world.session, ENTERPRISE_TRAINING_EXPENSE) == 30_000
    assert _fund(world, world.coop_b) == 100_000


def test_named_coop_fund_pays_for_everyone(client, world, as_role):
    programme = world.programme(funding={"source": "coop_fund", "coop_id": world.coop_a.id})
    enrolment = _apply(client, as_role("farmer_b"), programme.id).json()
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    assert _fund(world, world.coop_a) == 70_000
    assert _fund(world, world.coop_b) == 100_000


def test_eligibility_limited_to_named_coops(client, world, as_role):
    programme = world.programme(eligibility="coops", eligible_coop_ids=[world.coop_a.id])
    refused = _apply(client, as_role("farmer_b"), programme.id)
    assert refused.status_code == 409
    assert _apply(client, as_role("farmer_a"), programme.id).status_code == 201


def test_closed_or_draft_programmes_take_no_applications(client, world, as_role):
    closed = world.programme(status="closed")
    draft = world.programme(status="draft")
    assert _apply(client, as_role("farmer_a"), closed.id).status_code == 409
    assert _apply(client, as_role("farmer_a"), draft.id).status_code == 404


def test_manager_applies_for_a_member_of_their_coop_only(client, world, as_role):
    programme = world.programme()
    mine = _apply(client, as_role("manager_a"), programme.id, household_id=world.household_a2.id)
    assert mine.status_code == 201
    theirs = _apply(client, as_role("manager_a"), programme.id, household_id=world.household_b.id)
    assert theirs.status_code == 403
    farmer_for_other = _apply(
        client, as_role("farmer_a"), programme.id, household_id=world.household_a2.id
    )
    assert farmer_for_other.status_code == 403


def test_deduction_rate_above_the_cap_is_422(client, world, as_role):
    programme = world.programme(deduction_cap_bps=1000)
    over = _apply(
        client, as_role("farmer_a"), programme.id, repayment="deduction", deduction_bps=1500
    )
    assert over.status_code == 422
    no_cap = world.programme(deduction_cap_bps=None)
    refused = _apply(client, as_role("farmer_a"), no_cap.id, repayment="deduction")
    assert refused.status_code == 422
    world.session.rollback()
    assert world.session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_history_records_who_and_when(client, world, as_role):
    programme = world.programme()
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    world.session.rollback()
    events = world.session.scalars(
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.enrolment_id) == enrolment["id"])
        .order_by(col(EnrolmentEvent.id))
    ).all()
    farmer, staff = world.user("farmer_a"), world.user("staff")
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        (None, "applied", f"user:{farmer.id}"),
        ("applied", "accepted", f"user:{staff.id}"),
    ]
    assert all(e.at is not None and e.at.tzinfo is not None for e in events)
