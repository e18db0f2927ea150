"""Issue 15, High 1: one request must not freeze all money movement for good.

Before: staff could close any month (9999-12, 0000-01, the current one), every later payment was
refused 409 and nothing could undo it. Now only a month that has ended, in a plausible year, can be
closed; an administrator reopens a closed month with a reason; closes and reopenings are appended,
never deleted, and a month is closed while its latest event is a close.
"""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role
from ledger import periods, service
from ledger.models import PeriodEvent
from tests.ledger.conftest import count_rows

BASE = "/api/v1/ledger"


@pytest.fixture
def staff(make_user, login) -> dict[str, str]:
    headers: dict[str, str] = login(make_user(Role.staff))
    return headers


@pytest.fixture
def admin(make_user, login) -> dict[str, str]:
    headers: dict[str, str] = login(make_user(Role.admin))
    return headers


def _post_entry(
    client: TestClient, headers: dict[str, str], on: str, key: str
) -> tuple[int, dict[str, object]]:
    body = {
        "kind": "adjustment",
        "effective_date": on,
        "memo": "cash",
        "postings": [
            {"account": "assets:bank", "side": "debit", "amount": 100, "currency": "CNY"},
            {
                "account": "income:enterprise:service-fees",
                "side": "credit",
                "amount": 100,
                "currency": "CNY",
            },
        ],
    }
    answer = client.post(f"{BASE}/entries", json=body, headers={**headers, "Idempotency-Key": key})
    return answer.status_code, answer.json()


def _this_month() -> str:
    return date.today().strftime("%Y-%m")


@pytest.mark.parametrize(
    ("period", "slug"),
    [
        ("9999-12", "ledger-period-invalid"),
        ("0000-01", "ledger-period-invalid"),
        ("1999-12", "ledger-period-invalid"),
        ("2026-13", "ledger-period-invalid"),
        ("2101-01", "ledger-period-invalid"),
        ("current", "ledger-period-not-ended"),
        ("next-year", "ledger-period-not-ended"),
    ],
)
def test_an_implausible_or_unfinished_month_cannot_be_closed(
    client: TestClient, staff: dict[str, str], chart, session: Session, period: str, slug: str
) -> None:
    today = date.today()
    period = {
        "current": _this_month(),
        "next-year": f"{today.year + 1}-{today.month:02d}",
    }.get(period, period)
    answer = client.post(f"{BASE}/periods/{period}/close", headers=staff)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith(slug)
    assert answer.json()["detail"]
    # Nothing was closed: money still moves today.
    status, _ = _post_entry(client, staff, today.isoformat(), f"after-{period}")
    assert status == 201
    session.rollback()
    assert periods.period_history(session) == []


def test_the_same_refusals_on_the_reconciliation_close(
    client: TestClient, staff: dict[str, str], chart
) -> None:
    for period in ("9999-12", "0000-01", _this_month()):
        answer = client.post(f"/api/v1/reconciliation/periods/{period}/close", headers=staff)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_an_admin_reopens_a_closed_month_with_a_reason_and_it_can_close_again(
    client: TestClient, staff: dict[str, str], admin: dict[str, str], chart, session: Session
) -> None:
    closed = client.post(f"{BASE}/periods/2026-10/close", headers=staff)
    assert closed.status_code == 200, closed.text
    assert closed.json()["period"] == "2026-10"
    status, body = _post_entry(client, staff, "2026-10-15", "oct-1")
    assert status == 409
    assert str(body["type"]).endswith("ledger-period-closed")

    # Staff may close but not reopen; a reopening needs a reason.
    assert (
        client.post(
            f"{BASE}/periods/2026-10/reopen", json={"reason": "late bank line"}, headers=staff
        ).status_code
        == 403
    )
    no_reason = client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": ""}, headers=admin)
    assert no_reason.status_code == 422
    blank = client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": "  "}, headers=admin)
    assert blank.status_code == 422
    assert blank.headers["content-type"].startswith("application/problem+json")

    reopened = client.post(
        f"{BASE}/periods/2026-10/reopen", json={"reason": "late bank line"}, headers=admin
    )
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["action"] == "reopen"
    assert reopened.json()["reason"] == "late bank line"
    assert reopened.json()["by"].startswith("user:")
    status, _ = _post_entry(client, staff, "2026-10-15", "oct-2")
    assert status == 201

    # Reopening an open month is a conflict; closing it again works and refuses entries again.
    again = client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": "x"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("ledger-period-not-closed")
    assert client.post(f"{BASE}/periods/2026-10/close", headers=staff).status_code == 200
    status, _ = _post_entry(client, staff, "2026-10-16", "oct-3")
    assert status == 409

    # The audit trail: every close and reopening, newest first, nothing deleted.
    history = client.get(f"{BASE}/periods", headers=staff).json()
    assert [(e["period"], e["action"]) for e in history] == [
        ("2026-10", "close"),
        ("2026-10", "reopen"),
        ("2026-10", "close"),
    ]
    assert all(e["by"] and e["at"] for e in history)
    assert history[1]["reason"] == "late bank line"
    assert count_rows(session) == (1, 2)


def test_a_month_stays_closed_while_a_later_month_is(
    client: TestClient, staff: dict[str, str], admin: dict[str, str], chart
) -> None:
    assert client.post(f"{BASE}/periods/2026-09/close", headers=staff).status_code == 200
    assert client.post(f"{BASE}/periods/2026-10/close", headers=staff).status_code == 200
    early = client.post(f"{BASE}/periods/2026-09/reopen", json={"reason": "x"}, headers=admin)
    assert early.status_code == 409
    assert early.json()["type"].endswith("ledger-period-closed-later")
    assert "2026-10" in early.json()["detail"]
    assert (
        client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": "y"}, headers=admin)
    ).status_code == 201
    # September is still closed by its own close; October is open again.
    assert _post_entry(client, staff, "2026-09-30", "sep")[0] == 409
    assert _post_entry(client, staff, "2026-10-01", "oct")[0] == 201


def test_books_frozen_by_the_old_bug_can_be_reopened(
    client: TestClient, staff: dict[str, str], admin: dict[str, str], chart, session: Session
) -> None:
    """A 9999-12 close stored before the checks existed: an administrator can undo it."""
    session.add(PeriodEvent(period="9999-12", action="close", by="user:legacy"))
    session.commit()
    today = date.today().isoformat()
    assert _post_entry(client, staff, today, "frozen")[0] == 409
    reopened = client.post(
        f"{BASE}/periods/9999-12/reopen", json={"reason": "typo for 2026-12"}, headers=admin
    )
    assert reopened.status_code == 201, reopened.text
    assert _post_entry(client, staff, today, "thawed")[0] == 201


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager, Role.staff])
def test_only_an_admin_reopens(
    client: TestClient, make_user, login, chart, session: Session, role: Role
) -> None:
    service.close_period(session, "2026-10")
    session.commit()
    headers = login(make_user(role))
    answer = client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": "x"}, headers=headers)
    assert answer.status_code == 403
    assert client.post(f"{BASE}/periods/2026-10/reopen", json={"reason": "x"}).status_code == 401
    session.rollback()
    assert [e.action for e in periods.period_history(session)] == ["close"]
