"""Household monitoring: a 40 % drop raises an alert with that reason, once; notes and outcomes."""

from datetime import date

import pytest
from sqlmodel import select

from api.cli import main
from governance.models import Alert
from governance.monitoring import flagged_households, run_monitor
from tests.governance.conftest import post_sale
from training.income import add_months

AS_OF = date(2026, 11, 15)
NO_LINE = {"line_kind": "absolute", "poverty_line": 0}


def _seed_drop(session, world) -> None:
    """h1: 100,000 in the previous 12 months, 60,000 in the last 12 (a 40 % fall)."""
    post_sale(
        session, coop_id=world.coop_a.id, on=add_months(AS_OF, -18), shares={world.h1.id: 100_000}
    )
    post_sale(
        session, coop_id=world.coop_a.id, on=add_months(AS_OF, -3), shares={world.h1.id: 60_000}
    )
    # h2 stays level: no drop alert
    post_sale(
        session, coop_id=world.coop_a.id, on=add_months(AS_OF, -18), shares={world.h2.id: 50_000}
    )
    post_sale(
        session, coop_id=world.coop_a.id, on=add_months(AS_OF, -2), shares={world.h2.id: 50_000}
    )


def _alerts(session, reason=None):
    session.rollback()
    query = select(Alert).order_by(Alert.id)
    if reason:
        query = query.where(Alert.reason == reason)
    found = list(session.scalars(query).all())
    session.expunge_all()  # keep what was read, end the read transaction (SQLite snapshots)
    session.rollback()
    return found


def test_a_40_percent_drop_raises_one_alert_with_that_reason_and_reruns_do_not_duplicate(
    client, world, as_role, session
):
    _seed_drop(session, world)
    assert (
        client.put(
            "/api/v1/governance/monitoring/config", json=NO_LINE, headers=as_role("staff")
        ).status_code
        == 200
    )
    first = client.post(
        "/api/v1/governance/monitoring/run",
        json={"as_of": AS_OF.isoformat()},
        headers=as_role("staff"),
    )
    assert first.status_code == 200, first.text
    assert len(first.json()["opened"]) == 1
    drops = _alerts(session, "income_drop")
    assert [a.household_id for a in drops] == [world.h1.id]
    assert "fell 40 %" in drops[0].detail
    assert drops[0].figures["drop_percent"] == 40
    assert drops[0].figures["per_capita_12m"] == 15_000  # 60,000 over 4 people
    assert _alerts(session, "below_line") == []  # the line is 0

    second = client.post(
        "/api/v1/governance/monitoring/run",
        json={"as_of": AS_OF.isoformat()},
        headers=as_role("staff"),
    ).json()
    assert second["opened"] == []
    assert second["refreshed"] == [drops[0].id]
    assert len(_alerts(session)) == 1
    assert flagged_households(session, [world.h1.id, world.h2.id]) == {world.h1.id}


def test_off_platform_income_recorded_by_staff_counts(client, world, as_role, session):
    _seed_drop(session, world)
    client.put("/api/v1/governance/monitoring/config", json=NO_LINE, headers=as_role("staff"))
    recorded = client.post(
        f"/api/v1/households/{world.h1.id}/off-platform-income",
        json={
            "amount": 40_000,
            "currency": "CNY",
            "received_on": add_months(AS_OF, -1).isoformat(),
            "source": "seasonal work in the county town",
        },
        headers=as_role("staff"),
    )
    assert recorded.status_code == 201, recorded.text
    run_monitor(session, as_of=AS_OF)
    session.commit()
    assert _alerts(session, "income_drop") == []


def test_a_relative_line_flags_households_below_half_the_median(client, world, as_role, session):
    day = add_months(AS_OF, -1)
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 80_000})
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h2.id: 100_000})
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h3.id: 10_000})
    post_sale(session, coop_id=world.coop_b.id, on=day, shares={world.h4.id: 90_000})
    client.put(
        "/api/v1/governance/monitoring/config",
        json={"line_kind": "relative", "relative_bp": 5000},
        headers=as_role("staff"),
    )
    result = client.post(
        "/api/v1/governance/monitoring/run",
        json={"as_of": AS_OF.isoformat()},
        headers=as_role("staff"),
    ).json()
    assert result["line"] == 10_625  # half the median per person (21,250)
    below = _alerts(session, "below_line")
    assert [a.household_id for a in below] == [world.h3.id]
    assert "below the line" in below[0].detail


def test_staff_add_case_notes_close_with_an_outcome_and_see_suggested_programmes(
    client, world, as_role, session
):
    _seed_drop(session, world)
    client.put("/api/v1/governance/monitoring/config", json=NO_LINE, headers=as_role("staff"))
    client.post(
        "/api/v1/governance/monitoring/run",
        json={"as_of": AS_OF.isoformat()},
        headers=as_role("staff"),
    )
    alert_id = _alerts(session)[0].id
    listed = client.get("/api/v1/governance/alerts?status=open", headers=as_role("staff")).json()
    assert [a["id"] for a in listed["items"]] == [alert_id]
    note = client.post(
        f"/api/v1/governance/alerts/{alert_id}/notes",
        json={"body": "Visited: the tea harvest failed after the frost."},
        headers=as_role("staff"),
    )
    assert note.status_code == 201
    detail = client.get(f"/api/v1/governance/alerts/{alert_id}", headers=as_role("staff")).json()
    assert detail["notes"][0]["body"].startswith("Visited")
    assert detail["suggested_programmes"] == []
    closed = client.post(
        f"/api/v1/governance/alerts/{alert_id}/close",
        json={"outcome": "Enrolled in the e-commerce course; income recovering."},
        headers=as_role("admin"),
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    again = client.post(
        f"/api/v1/governance/alerts/{alert_id}/close",
        json={"outcome": "x"},
        headers=as_role("staff"),
    )
    assert again.status_code == 409
    blank = client.post(
        f"/api/v1/governance/alerts/{alert_id}/notes", json={"body": "  "}, headers=as_role("staff")
    )
    assert blank.status_code == 422


@pytest.mark.parametrize("role", ["anonymous", "buyer", "farmer", "manager_a"])
def test_monitoring_routes_refuse_everyone_but_staff(client, world, as_role, session, role):
    _seed_drop(session, world)
    run_monitor(session, as_of=AS_OF)
    session.commit()
    alert_id = _alerts(session)[0].id
    expected = 401 if role == "anonymous" else 403
    headers = as_role(role)
    calls = [
        ("get", "/api/v1/governance/alerts", None),
        ("get", f"/api/v1/governance/alerts/{alert_id}", None),
        ("post", f"/api/v1/governance/alerts/{alert_id}/notes", {"body": "x"}),
        ("post", f"/api/v1/governance/alerts/{alert_id}/close", {"outcome": "x"}),
        ("post", "/api/v1/governance/monitoring/run", {}),
        ("get", "/api/v1/governance/monitoring/config", None),
        ("put", "/api/v1/governance/monitoring/config", NO_LINE),
        ("get", "/api/v1/governance/dashboard", None),
        ("get", f"/api/v1/households/{world.h1.id}/off-platform-income", None),
        (
            "post",
            f"/api/v1/households/{world.h1.id}/off-platform-income",
            {"amount": 1, "received_on": "2026-01-01", "source": "x"},
        ),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == expected, (method, path, response.text)


def test_the_monitor_command_recomputes_idempotently(world, session, settings, monkeypatch, capsys):
    _seed_drop(session, world)
    monkeypatch.setenv("HEZUO_DATABASE_URL", settings.database_url)
    assert main(["governance", "monitor", "--as-of", AS_OF.isoformat()]) == 0
    assert main(["governance", "monitor", "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "opened" in out
    drops = _alerts(session, "income_drop")
    assert [a.household_id for a in drops] == [world.h1.id]
