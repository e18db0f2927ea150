"""The ledger HTTP API: shapes from docs/api.md, staff and admin only, problems for bad input."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role
from tests.ledger.conftest import count_rows

BASE = "/api/v1/ledger"


@pytest.fixture
def staff(make_user, login) -> dict[str, str]:
    headers: dict[str, str] = login(make_user(Role.staff))
    return headers


def _entry(amount: object = 1000, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "kind": "adjustment",
        "effective_date": "2026-11-29",
        "memo": "opening cash",
        "reference": "ref-1",
        "metadata": {"by": "test"},
        "postings": [
            {"account": "assets:bank", "side": "debit", "amount": amount, "currency": "CNY"},
            {
                "account": "income:enterprise:service-fees",
                "side": "credit",
                "amount": amount,
                "currency": "CNY",
            },
        ],
    }
    body.update(overrides)
    return body


def _headers(auth: dict[str, str], key: str = "key-1") -> dict[str, str]:
    return {**auth, "Idempotency-Key": key}


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager])
def test_only_staff_and_admin_reach_the_ledger(
    client: TestClient, make_user, login, chart, role
) -> None:
    headers = login(make_user(role))
    for method, path in [
        ("get", "/accounts"),
        ("get", "/trial-balance"),
        ("get", "/verify"),
        ("get", "/entries/1"),
        ("get", "/accounts/assets:bank/balance"),
        ("get", "/accounts/assets:bank/statement"),
    ]:
        assert client.request(method, BASE + path, headers=headers).status_code == 403
    assert (
        client.post(f"{BASE}/entries", json=_entry(), headers=_headers(headers)).status_code == 403
    )
    assert client.post(f"{BASE}/periods/2026-10/close", headers=headers).status_code == 403
    anonymous = client.post(f"{BASE}/entries", json=_entry(), headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401
    assert client.get(f"{BASE}/trial-balance").status_code == 401


def test_admin_is_allowed(client: TestClient, make_user, login, chart) -> None:
    assert (
        client.get(f"{BASE}/trial-balance", headers=login(make_user(Role.admin))).status_code == 200
    )


def test_create_and_list_accounts(client: TestClient, staff) -> None:
    # assets:bank is in the chart from installation (migration 0012): open another asset.
    body = {
        "key": "assets:cash",
        "type": "asset",
        "currency": "CNY",
        "name": "Cash",
        "limit": "none",
    }
    created = client.post(f"{BASE}/accounts", json=body, headers=staff)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "key": "assets:cash",
        "type": "asset",
        "currency": "CNY",
        "name": "Cash",
        "limit": "none",
        "balance": {"amount": 0, "currency": "CNY"},
    }
    member = {
        "key": "liabilities:members:3:payable",
        "type": "liability",
        "currency": "CNY",
        "limit": "non_negative",
    }
    assert client.post(f"{BASE}/accounts", json=member, headers=staff).status_code == 201
    again = client.post(f"{BASE}/accounts", json=body, headers=staff)
    assert again.status_code == 200  # opening it again is a replay
    assert again.json() == created.json()
    clash = client.post(f"{BASE}/accounts", json={**body, "currency": "USD"}, headers=staff)
    assert clash.status_code == 409
    unlimited = client.post(f"{BASE}/accounts", json={**member, "limit": "none"}, headers=staff)
    assert unlimited.status_code == 409
    assert "limit" in unlimited.json()["detail"]
    assert clash.headers["content-type"].startswith("application/problem+json")
    assert (
        client.post(f"{BASE}/accounts", json={**body, "extra": 1}, headers=staff).status_code == 422
    )
    listed = client.get(f"{BASE}/accounts", params={"prefix": "liabilities"}, headers=staff).json()
    assert [a["key"] for a in listed["items"]] == ["liabilities:members:3:payable"]
    page = client.get(f"{BASE}/accounts", params={"limit": 1}, headers=staff).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]
    rest = client.get(
        f"{BASE}/accounts", params={"limit": 1, "cursor": page["next_cursor"]}, headers=staff
    )
    assert rest.json()["items"][0]["key"] == "assets:cash"  # after assets:bank, by key


def test_post_replay_conflict_get_and_reverse(
    client: TestClient, staff, chart, session: Session
) -> None:
    created = client.post(f"{BASE}/entries", json=_entry(), headers=_headers(staff))
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["kind"] == "adjustment"
    assert entry["postings"] == [
        {"account": "assets:bank", "side": "debit", "amount": 1000, "currency": "CNY"},
        {
            "account": "income:enterprise:service-fees",
            "side": "credit",
            "amount": 1000,
            "currency": "CNY",
        },
    ]
    assert entry["reversed_by"] is None
    assert entry["reverses"] is None
    assert set(entry) == {
        "id",
        "kind",
        "effective_date",
        "memo",
        "reference",
        "postings",
        "reversed_by",
        "reverses",
        "created_at",
    }

    replay = client.post(f"{BASE}/entries", json=_entry(), headers=_headers(staff))
    assert replay.status_code == 200
    assert replay.json() == entry
    conflict = client.post(f"{BASE}/entries", json=_entry(amount=999), headers=_headers(staff))
    assert conflict.status_code == 409
    assert "different content" in conflict.json()["detail"]
    assert count_rows(session) == (1, 2)

    assert client.get(f"{BASE}/entries/{entry['id']}", headers=staff).json() == entry
    assert client.get(f"{BASE}/entries/9999", headers=staff).status_code == 404
    reversal = client.post(f"{BASE}/entries/{entry['id']}/reverse", headers=staff)
    assert reversal.status_code == 201, reversal.text
    assert reversal.json()["reverses"] == entry["id"]
    assert (
        client.get(f"{BASE}/entries/{entry['id']}", headers=staff).json()["reversed_by"]
        == reversal.json()["id"]
    )
    again = client.post(f"{BASE}/entries/{entry['id']}/reverse", headers=staff)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (_entry(amount=10.0), 422, "integer"),
        (_entry(amount="1000"), 422, "integer"),
        (_entry(amount=True), 422, "integer"),
        (_entry(amount=0), 422, "greater than 0"),
        (_entry(unknown_field=1), 422, "unknown_field"),
        (
            _entry(
                postings=[
                    {"account": "assets:bank", "side": "debit", "amount": 5, "currency": "CNY"}
                ]
            ),
            422,
            "postings",
        ),
        (
            _entry(
                postings=[
                    {"account": "assets:bank", "side": "debit", "amount": 5, "currency": "CNY"},
                    {
                        "account": "income:enterprise:service-fees",
                        "side": "credit",
                        "amount": 4,
                        "currency": "CNY",
                    },
                ]
            ),
            422,
            "does not balance",
        ),
        (
            _entry(
                postings=[
                    {"account": "assets:bank", "side": "debit", "amount": 5, "currency": "CNY"},
                    {"account": "income:nowhere", "side": "credit", "amount": 5, "currency": "CNY"},
                ]
            ),
            422,
            "No such ledger account",
        ),
        (
            _entry(
                postings=[
                    {"account": "assets:bank", "side": "debit", "amount": 5, "currency": "USD"},
                    {
                        "account": "income:enterprise:service-fees",
                        "side": "credit",
                        "amount": 5,
                        "currency": "USD",
                    },
                ]
            ),
            422,
            "holds CNY",
        ),
        (
            _entry(
                postings=[
                    {
                        "account": "liabilities:members:1:payable",
                        "side": "debit",
                        "amount": 5,
                        "currency": "CNY",
                    },
                    {"account": "assets:bank", "side": "credit", "amount": 5, "currency": "CNY"},
                ]
            ),
            409,
            "below zero",
        ),
        (_entry(effective_date="2026-10-15"), 409, "closed"),
    ],
)
def test_bad_input_is_a_problem_and_nothing_is_stored(
    client: TestClient, staff, chart, session: Session, body, status, words
) -> None:
    from ledger import service

    service.close_period(session, "2026-10")
    session.commit()
    response = client.post(f"{BASE}/entries", json=body, headers=_headers(staff, "bad-1"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert words in (problem["detail"] + str(problem.get("errors")))
    assert count_rows(session) == (0, 0)


@pytest.mark.parametrize("key", [None, "", "x" * 256, "tab\tkey"])
def test_idempotency_key_header_is_required(
    client: TestClient, staff, chart, session: Session, key
) -> None:
    headers = dict(staff) if key is None else {**staff, "Idempotency-Key": key}
    response = client.post(f"{BASE}/entries", json=_entry(), headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"]
    assert count_rows(session) == (0, 0)


def test_balance_statement_trial_balance_period_and_verify(
    client: TestClient, staff, chart
) -> None:
    for i, day in enumerate(["2026-11-01", "2026-11-02", "2026-11-03"]):
        response = client.post(
            f"{BASE}/entries",
            json=_entry(amount=100 * (i + 1), effective_date=day, memo=f"m{i}"),
            headers=_headers(staff, f"k{i}"),
        )
        assert response.status_code == 201
    balance = client.get(f"{BASE}/accounts/assets:bank/balance", headers=staff).json()
    assert balance == {
        "account": "assets:bank",
        "balance": {"amount": 600, "currency": "CNY"},
        "debits": 600,
        "credits": 0,
        "as_of": None,
    }
    as_of = client.get(
        f"{BASE}/accounts/assets:bank/balance", params={"as_of": "2026-11-02"}, headers=staff
    ).json()
    assert as_of["balance"]["amount"] == 300
    assert as_of["as_of"] == "2026-11-02"
    assert client.get(f"{BASE}/accounts/assets:nowhere/balance", headers=staff).status_code == 404

    page = client.get(
        f"{BASE}/accounts/income:enterprise:service-fees/statement",
        params={"limit": 2},
        headers=staff,
    ).json()
    assert [(i["memo"], i["side"], i["amount"], i["running_balance"]) for i in page["items"]] == [
        ("m0", "credit", 100, 100),
        ("m1", "credit", 200, 300),
    ]
    assert set(page["items"][0]) == {
        "entry_id",
        "effective_date",
        "side",
        "amount",
        "running_balance",
        "memo",
    }
    rest = client.get(
        f"{BASE}/accounts/income:enterprise:service-fees/statement",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=staff,
    ).json()
    assert [i["running_balance"] for i in rest["items"]] == [600]
    assert rest["next_cursor"] is None
    bad_cursor = client.get(
        f"{BASE}/accounts/assets:bank/statement", params={"cursor": "zzz"}, headers=staff
    )
    assert bad_cursor.status_code == 422

    trial = client.get(
        f"{BASE}/trial-balance", params={"as_of": "2026-11-02"}, headers=staff
    ).json()
    assert trial["as_of"] == "2026-11-02"
    assert trial["totals"] == [
        {"currency": "CNY", "debits": 300, "credits": 300},
        {"currency": "USD", "debits": 0, "credits": 0},
    ]
    fees = next(a for a in trial["accounts"] if a["key"] == "income:enterprise:service-fees")
    assert fees == {
        "key": "income:enterprise:service-fees",
        "type": "income",
        "currency": "CNY",
        "debits": 0,
        "credits": 300,
        "balance": 300,
    }

    closed = client.post(f"{BASE}/periods/2026-11/close", headers=staff)
    assert closed.status_code == 200
    assert closed.json()["period"] == "2026-11"
    assert client.post(f"{BASE}/periods/2026-99/close", headers=staff).status_code == 422
    late = client.post(
        f"{BASE}/entries", json=_entry(effective_date="2026-11-30"), headers=_headers(staff, "late")
    )
    assert late.status_code == 409

    verified = client.get(f"{BASE}/verify", headers=staff).json()
    assert verified["ok"] is True
    assert verified["first_mismatch"] is None
    assert verified["sealed_entries"] == 0
