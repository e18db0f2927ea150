"""Payout, reconciliation and report routes: who may call each, shapes, exports, conflicts."""

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from api.models import Role, User
from catalog.models import Cooperative, HouseholdStatus
from tests.catalog.factories import create_coop, create_household
from tests.payouts.conftest import HouseholdFactory, earn

Login = Callable[[User], dict[str, str]]
MakeUser = Callable[..., User]

STAFF_ONLY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/payouts/batches", {"coop_id": 1, "period": "2026-11"}),
    ("GET", "/api/v1/payouts/batches", None),
    ("GET", "/api/v1/payouts/batches/1", None),
    ("GET", "/api/v1/payouts/batches/1/export?format=csv", None),
    ("POST", "/api/v1/payouts/batches/1/confirm", {"bank_reference": "R", "paid_on": "2026-11-30"}),
    ("POST", "/api/v1/payouts/lines/1/confirm", {"bank_reference": "R", "paid_on": "2026-11-30"}),
    ("POST", "/api/v1/payouts/lines/1/fail", {"reason": "bounced"}),
    ("GET", "/api/v1/reconciliation/lines", None),
    ("POST", "/api/v1/reconciliation/auto-match", {}),
    ("GET", "/api/v1/reconciliation/matches", None),
    (
        "POST",
        "/api/v1/reconciliation/matches",
        {"line_ids": [1], "posting_ids": [1], "reason": "x"},
    ),
    ("POST", "/api/v1/reconciliation/matches/1/unmatch", {"reason": "x"}),
    ("POST", "/api/v1/reconciliation/lines/1/adjustment", {"counter_account": "x", "memo": "m"}),
    ("POST", "/api/v1/reconciliation/explanations", {"period": "2026-11", "reason": "r"}),
    ("GET", "/api/v1/reconciliation?period=2026-11", None),
    ("POST", "/api/v1/reconciliation/periods/2026-11/close", None),
    ("POST", "/api/v1/reconciliation/stripe/sync", None),
    ("GET", "/api/v1/reports/enterprise", None),
    ("GET", "/api/v1/reports/trial-balance", None),
]


@pytest.fixture
def world(
    session: Session, coop: Cooperative, household: HouseholdFactory, make_user: MakeUser
) -> dict[str, Any]:
    mine, other = household(payout_account="6222 0000 1111"), household()
    earn(session, mine, 12_000)
    earn(session, other, 8_000)
    elsewhere = create_coop(session, code="HS")
    stranger = create_household(session, coop=elsewhere)
    session.commit()
    return {
        "mine": mine,
        "other": other,
        "stranger": stranger,
        "staff": make_user(Role.staff),
        "admin": make_user(Role.admin),
        "farmer": make_user(Role.farmer, coop_id=coop.id, household_id=mine.id),
        "manager": make_user(Role.manager, coop_id=coop.id),
        "foreign_manager": make_user(Role.manager, coop_id=elsewhere.id),
        "buyer": make_user(Role.buyer),
    }


@pytest.mark.parametrize(("method", "path", "body"), STAFF_ONLY)
def test_staff_routes_refuse_everyone_else(
    client: TestClient,
    login: Login,
    world: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    assert client.request(method, path, json=body).status_code == 401
    for role in ("buyer", "farmer", "manager"):
        response = client.request(method, path, json=body, headers=login(world[role]))
        assert response.status_code == 403, (role, response.text)
    response = client.request(method, path, json=body, headers=login(world["staff"]))
    assert response.status_code not in (401, 403), response.text


def test_statement_upload_refuses_non_staff(
    client: TestClient, login: Login, world: dict[str, Any]
) -> None:
    files = {"file": ("s.csv", b"date,amount\n2026-11-30,1\n", "text/csv")}
    assert client.post("/api/v1/reconciliation/statements", files=files).status_code == 401
    for role in ("buyer", "farmer", "manager"):
        response = client.post(
            "/api/v1/reconciliation/statements", files=files, headers=login(world[role])
        )
        assert response.status_code == 403


def test_batch_lifecycle_over_http(
    client: TestClient, login: Login, world: dict[str, Any], coop: Cooperative
) -> None:
    staff = login(world["staff"])
    body = {"coop_id": coop.id, "period": "2026-11", "minimum": 100, "effective_date": "2026-11-28"}
    created = client.post("/api/v1/payouts/batches", json=body, headers=staff)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["total"] == {"amount": 20_000, "currency": "CNY"}
    assert client.post("/api/v1/payouts/batches", json=body, headers=staff).status_code == 200
    changed = client.post("/api/v1/payouts/batches", json={**body, "minimum": 5}, headers=staff)
    assert changed.status_code == 409
    assert changed.headers["content-type"].startswith("application/problem+json")

    csv_file = client.get(f"/api/v1/payouts/batches/{batch['id']}/export?format=csv", headers=staff)
    text = csv_file.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("member_code,name,payout_method,account,amount")
    assert f"{world['mine'].member_code},{world['mine'].name},,6222 0000 1111,12000" in text
    xlsx = client.get(f"/api/v1/payouts/batches/{batch['id']}/export?format=xlsx", headers=staff)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [12_000, 8_000]

    first, second = batch["lines"]
    confirm = {"bank_reference": "B-77", "paid_on": "2026-11-30"}
    url = f"/api/v1/payouts/lines/{first['id']}/confirm"
    assert client.post(url, json=confirm, headers=staff).json()["status"] == "paid"
    assert client.post(url, json=confirm, headers=staff).status_code == 200
    other = {"bank_reference": "B-78", "paid_on": "2026-11-30"}
    assert client.post(url, json=other, headers=staff).status_code == 409
    failed = client.post(
        f"/api/v1/payouts/lines/{second['id']}/fail",
        json={"reason": "wrong account"},
        headers=staff,
    )
    assert failed.json()["status"] == "failed"
    assert (
        client.post(
            f"/api/v1/payouts/lines/{second['id']}/confirm", json=confirm, headers=staff
        ).status_code
        == 409
    )


def test_confirming_for_a_household_that_left_is_409(
    client: TestClient, login: Login, world: dict[str, Any], coop: Cooperative, session: Session
) -> None:
    staff = login(world["staff"])
    body = {"coop_id": coop.id, "period": "2026-11", "minimum": 100}
    batch = client.post("/api/v1/payouts/batches", json=body, headers=staff).json()
    mine = world["mine"]
    mine.status = HouseholdStatus.left.value
    session.add(mine)
    session.commit()
    line = next(li for li in batch["lines"] if li["household_id"] == mine.id)
    response = client.post(
        f"/api/v1/payouts/lines/{line['id']}/confirm",
        json={"bank_reference": "X", "paid_on": "2026-11-30"},
        headers=staff,
    )
    assert response.status_code == 409
    assert "left" in response.json()["detail"]


def test_household_statement_is_the_farmers_own(
    client: TestClient, login: Login, world: dict[str, Any]
) -> None:
    mine, other = world["mine"].id, world["other"].id
    farmer = login(world["farmer"])
    url = "/api/v1/reports/households/{}/statement"
    own = client.get(url.format(mine), headers=farmer)
    assert own.status_code == 200
    assert (own.json()["earned"], own.json()["closing"]) == (12_000, 12_000)
    assert client.get(url.format(other), headers=farmer).status_code == 404
    assert client.get(url.format(mine)).status_code == 401
    assert client.get(url.format(mine), headers=login(world["buyer"])).status_code == 404
    assert client.get(url.format(other), headers=login(world["manager"])).status_code == 200
    foreign = login(world["foreign_manager"])
    assert client.get(url.format(other), headers=foreign).status_code == 404
    staff = login(world["staff"])
    csv_file = client.get(url.format(mine) + "?format=csv", headers=staff)
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert ",12000,0,0,12000,CNY" in csv_file.content.decode("utf-8-sig")
    xlsx = client.get(url.format(mine) + "?format=xlsx", headers=farmer)
    assert xlsx.content[:2] == b"PK"
    income = client.get(f"/api/v1/reports/households/{mine}/income", headers=farmer)
    assert income.json()["months"] == [{"month": "2026-11", "amount": 12_000}]
    refused = client.get(f"/api/v1/reports/households/{other}/income", headers=farmer)
    assert refused.status_code == 404


def test_coop_report_for_its_manager_and_staff(
    client: TestClient, login: Login, world: dict[str, Any], coop: Cooperative
) -> None:
    url = f"/api/v1/reports/coops/{coop.id}"
    assert client.get(url, headers=login(world["manager"])).status_code == 200
    assert client.get(url, headers=login(world["staff"])).status_code == 200
    assert client.get(url + "?format=xlsx", headers=login(world["admin"])).status_code == 200
    for role in ("foreign_manager", "farmer", "buyer"):
        assert client.get(url, headers=login(world[role])).status_code == 403, role
    assert client.get(url).status_code == 401


def test_payout_history_by_role(
    client: TestClient, login: Login, world: dict[str, Any], coop: Cooperative
) -> None:
    staff = login(world["staff"])
    body = {"coop_id": coop.id, "period": "2026-11", "minimum": 100}
    client.post("/api/v1/payouts/batches", json=body, headers=staff)
    url = "/api/v1/reports/payouts"
    assert len(client.get(url, headers=staff).json()["items"]) == 2
    own = client.get(url, headers=login(world["farmer"])).json()["items"]
    assert [row["member_code"] for row in own] == [world["mine"].member_code]
    assert len(client.get(url, headers=login(world["manager"])).json()["items"]) == 2
    foreign = login(world["foreign_manager"])
    assert client.get(f"{url}?coop_id={coop.id}", headers=foreign).status_code == 403
    assert client.get(url, headers=foreign).json()["items"] == []
    assert client.get(url, headers=login(world["buyer"])).status_code == 403
    assert client.get(url + "?format=csv", headers=staff).status_code == 200


def test_statement_upload_preview_import_replay_and_refusal(
    client: TestClient, login: Login, world: dict[str, Any], session: Session
) -> None:
    from tests.payouts.conftest import open_chart

    open_chart(session)
    session.commit()
    staff = login(world["staff"])
    raw = '日期,金额,摘要\n2026-11-30,"-1,200.00",工资\n'.encode("gbk")
    data = {"mapping": '{"date": "日期", "amount": "金额", "reference": "摘要"}'}
    files = {"file": ("s.csv", raw, "text/csv")}
    url = "/api/v1/reconciliation/statements"
    preview = client.post(url, files=files, data={**data, "preview": "true"}, headers=staff)
    assert preview.status_code == 200, preview.text
    assert preview.json()["lines"][0]["amount"] == -120_000
    assert client.get("/api/v1/reconciliation/lines", headers=staff).json() == []
    first = client.post(url, files=files, data=data, headers=staff)
    assert first.status_code == 201
    assert first.json()["encoding"] == "gbk"
    assert client.post(url, files=files, data=data, headers=staff).json()["replayed"] is True
    bad = {"file": ("b.csv", b"date,amount\n2026-11-31,5\n", "text/csv")}
    refused = client.post(url, files=bad, headers=staff)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["line", 2, "column", "date"]
    assert len(client.get("/api/v1/reconciliation/lines", headers=staff).json()) == 1


def test_stripe_sync_without_keys_is_409(
    client: TestClient, login: Login, world: dict[str, Any]
) -> None:
    # A state of this installation, not an outage (503 would tell clients to retry).
    response = client.post("/api/v1/reconciliation/stripe/sync", headers=login(world["staff"]))
    assert response.status_code == 409
    assert "not configured" in response.json()["detail"]


def test_paid_on_is_a_date(client: TestClient, login: Login, world: dict[str, Any]) -> None:
    bad = {"bank_reference": "R", "paid_on": "yesterday"}
    response = client.post(
        "/api/v1/payouts/lines/1/confirm", json=bad, headers=login(world["admin"])
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-1] == "paid_on"
