"""Providers and programmes: shapes, validation (nothing stored on bad input), visibility."""

import pytest
from sqlalchemy import func, select

from training.models import Programme, TrainingProvider

API = "/api/v1/training"


def _body(world, **overrides):
    return {
        "provider_id": world.provider.id,
        "title": {"zh": "有机种植", "en": "Organic farming"},
        "description": {"zh": "土壤与堆肥", "en": "Soil and compost"},
        "skill_area": "organic_farming",
        "sessions": [{"date": "2027-01-10", "place": "红星村", "trainer": "张老师"}],
        "capacity": 20,
        "seat_cost": {"amount": 12_000, "currency": "CNY"},
        "funding": {"source": "coop_fund"},
        "eligibility": "coops",
        "eligible_coop_ids": [world.coop_b.id],
        "deduction_cap_bps": 1000,
        "status": "open",
        **overrides,
    }


def _count(session, table) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(table)) or 0


def test_provider_gets_a_ledger_payable(client, world, as_role):
    response = client.post(
        f"{API}/providers", json={"name": "蜂业合作社讲师团"}, headers=as_role("staff")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["payable_account"] == f"liabilities:training:providers:{body['id']}"
    assert body["balance"] == {"amount": 0, "currency": "CNY"}
    accounts = client.get(
        "/api/v1/ledger/accounts?prefix=liabilities:training:providers", headers=as_role("staff")
    ).json()
    assert body["payable_account"] in [a["key"] for a in accounts["items"]]


def test_programme_created_and_read(client, world, as_role):
    response = client.post(f"{API}/programmes", json=_body(world), headers=as_role("staff"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["seat_cost"] == {"amount": 12_000, "currency": "CNY"}
    assert body["eligible_coop_ids"] == [world.coop_b.id]
    assert body["sessions"][0]["place"] == "红星村"
    assert body["starts_on"] == "2027-01-10"
    assert body["seats_left"] == 20
    public = client.get(f"{API}/programmes/{body['id']}").json()
    assert public["provider"] is None  # balances are for staff
    assert public["provider_name"] == world.provider.name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seat_cost": {"amount": -1, "currency": "CNY"}}, "seat_cost"),
        ({"seat_cost": {"amount": 120.5, "currency": "CNY"}}, "seat_cost"),
        ({"seat_cost": {"amount": "12000", "currency": "CNY"}}, "seat_cost"),
        ({"seat_cost": {"amount": 100, "currency": "USD"}}, "seat_cost"),
        ({"deduction_cap_bps": 10_001}, "deduction_cap_bps"),
        ({"capacity": 0}, "capacity"),
        ({"eligible_coop_ids": []}, "eligible_coop_ids"),
        ({"eligible_coop_ids": [999]}, "eligible_coop_ids"),
        ({"funding": {"source": "enterprise", "coop_id": 1}}, "funding"),
        ({"min_attendance": 2}, "min_attendance"),
        ({"skill_area": "astrology"}, "skill_area"),
        ({"title": {"zh": " "}}, "title"),
    ],
)
def test_bad_programmes_are_422_and_store_nothing(client, world, as_role, change, field):
    before = _count(world.session, Programme)
    response = client.post(
        f"{API}/programmes", json=_body(world, **change), headers=as_role("staff")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["status"] == 422
    assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"]), problem
    assert _count(world.session, Programme) == before


def test_unknown_provider_is_422(client, world, as_role):
    response = client.post(
        f"{API}/programmes", json=_body(world, provider_id=999), headers=as_role("staff")
    )
    assert response.status_code == 422
    assert _count(world.session, TrainingProvider) == 1


def test_drafts_are_for_staff_only(client, world, as_role):
    draft = world.programme(status="draft")
    shown = world.programme(status="open")
    public = client.get(f"{API}/programmes").json()["items"]
    assert [p["id"] for p in public] == [shown.id]
    assert client.get(f"{API}/programmes/{draft.id}").status_code == 404
    staff = client.get(f"{API}/programmes", headers=as_role("staff")).json()["items"]
    assert {p["id"] for p in staff} == {draft.id, shown.id}


def test_programme_list_paginates(client, world):
    for _ in range(3):
        world.programme()
    first = client.get(f"{API}/programmes?limit=2").json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = client.get(f"{API}/programmes?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None


def test_capacity_cannot_go_below_seats_taken(client, world, as_role):
    programme = world.programme(capacity=2)
    enrolment = client.post(
        f"{API}/programmes/{programme.id}/enrolments", json={}, headers=as_role("farmer_a")
    ).json()
    client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    lowered = client.patch(
        f"{API}/programmes/{programme.id}", json={"capacity": 0}, headers=as_role("staff")
    )
    assert lowered.status_code == 422
    ok = client.patch(
        f"{API}/programmes/{programme.id}",
        json={"capacity": 1, "status": "closed"},
        headers=as_role("staff"),
    )
    assert ok.status_code == 200
    assert (ok.json()["capacity"], ok.json()["status"]) == (1, "closed")
