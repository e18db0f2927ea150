"""Issue 15, High 3: a manager cannot redirect members' payouts without a trace.

Before: the bank file joined the household's *current* payout account, so one manager edit
changed an open batch's export from sj-0001@pay.demo to attacker@pay; no history was kept. Now
every change is appended (who, when, old, new), a batch keeps each line's payee from when it was
made, a change while a line is pending is held until staff accept it, and the household's
statement shows the change.
"""

import csv
import io
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from api.models import Role
from catalog.models import Cooperative
from tests.payouts.conftest import HouseholdFactory, earn

ORIGINAL = "sj-0001@pay.demo"
ATTACKER = "attacker@pay"


@pytest.fixture
def people(
    session: Session,
    coop: Cooperative,
    household: HouseholdFactory,
    make_user: Any,
    login: Any,
) -> dict[str, Any]:
    member = household(name="李四", payout_method="alipay", payout_account=ORIGINAL)
    earn(session, member, 9_000, on=date(2026, 11, 3))
    session.commit()
    return {
        "member": member,
        "staff": login(make_user(Role.staff)),
        "manager": login(make_user(Role.manager, coop_id=coop.id)),
        "farmer": login(make_user(Role.farmer, coop_id=coop.id, household_id=member.id)),
        "other_farmer": login(make_user(Role.farmer)),
    }


def _batch(client: TestClient, people: dict[str, Any], coop: Cooperative) -> dict[str, Any]:
    made = client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": coop.id, "period": "2026-11", "minimum": 100},
        headers=people["staff"],
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _csv_accounts(client: TestClient, batch_id: int, staff: dict[str, str]) -> list[str]:
    answer = client.get(f"/api/v1/payouts/batches/{batch_id}/export?format=csv", headers=staff)
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    return [row["account"] for row in rows]


def _xlsx_accounts(client: TestClient, batch_id: int, staff: dict[str, str]) -> list[str]:
    answer = client.get(f"/api/v1/payouts/batches/{batch_id}/export?format=xlsx", headers=staff)
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    column = header.index("account")
    return [str(row[column]) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _edit(client: TestClient, who: dict[str, str], member_id: int, account: str) -> None:
    answer = client.patch(
        f"/api/v1/households/{member_id}",
        json={"payout_method": "alipay", "payout_account": account},
        headers=who,
    )
    assert answer.status_code == 200, answer.text


def test_an_edit_after_the_batch_does_not_redirect_its_bank_file(
    client: TestClient, people: dict[str, Any], coop: Cooperative
) -> None:
    batch = _batch(client, people, coop)
    member = people["member"]
    _edit(client, people["manager"], member.id, ATTACKER)

    assert _csv_accounts(client, batch["id"], people["staff"]) == [ORIGINAL]
    assert _xlsx_accounts(client, batch["id"], people["staff"]) == [ORIGINAL]
    read = client.get(f"/api/v1/payouts/batches/{batch['id']}", headers=people["staff"]).json()
    line = read["lines"][0]
    assert line["payout_account"] == ORIGINAL
    held = line["held_change"]
    assert held["old_account"] == ORIGINAL
    assert held["new_account"] == ATTACKER
    assert "(manager)" in held["changed_by"]

    # Neither the manager nor the farmer can accept it; staff can.
    accept = f"/api/v1/payouts/lines/{line['id']}/accept-payee"
    for role in ("manager", "farmer"):
        assert (
            client.post(accept, json={"change_id": held["id"]}, headers=people[role]).status_code
            == 403
        )
    assert _csv_accounts(client, batch["id"], people["staff"]) == [ORIGINAL]
    stale = client.post(accept, json={"change_id": held["id"] + 1}, headers=people["staff"])
    assert stale.status_code == 409
    accepted = client.post(accept, json={"change_id": held["id"]}, headers=people["staff"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["payout_account"] == ATTACKER
    assert accepted.json()["held_change"] is None
    assert _csv_accounts(client, batch["id"], people["staff"]) == [ATTACKER]
    again = client.post(accept, json={"change_id": held["id"]}, headers=people["staff"])
    assert again.status_code == 409


def test_every_change_is_kept_and_shown_on_the_households_statement(
    client: TestClient, people: dict[str, Any], coop: Cooperative, session: Session
) -> None:
    member = people["member"]
    _edit(client, people["manager"], member.id, "second@pay")
    _edit(client, people["manager"], member.id, "third@pay")
    # Saving the same details again is no change.
    _edit(client, people["manager"], member.id, "third@pay")
    path = f"/api/v1/reports/households/{member.id}/statement"
    for role in ("farmer", "manager", "staff"):
        statement = client.get(path, headers=people[role])
        assert statement.status_code == 200
        changes = statement.json()["payout_changes"]
        assert [(c["old_account"], c["new_account"]) for c in changes] == [
            ("second@pay", "third@pay"),
            (ORIGINAL, "second@pay"),
            ("", ORIGINAL),
        ]
        assert all(c["changed_by"] and c["changed_at"] for c in changes)
    assert client.get(path, headers=people["other_farmer"]).status_code in (403, 404)
    # No change held: no batch was open.
    assert changes[0]["new_account"] == "third@pay"


def test_a_batch_made_after_the_change_pays_the_new_details(
    client: TestClient, people: dict[str, Any], coop: Cooperative
) -> None:
    _edit(client, people["manager"], people["member"].id, "new@pay")
    batch = _batch(client, people, coop)
    assert batch["lines"][0]["held_change"] is None
    assert _csv_accounts(client, batch["id"], people["staff"]) == ["new@pay"]


def test_the_history_refuses_edits_and_deletes(
    client: TestClient, people: dict[str, Any], engine: Engine
) -> None:
    _edit(client, people["manager"], people["member"].id, ATTACKER)
    for statement in (
        "UPDATE household_payout_changes SET new_account = 'x'",
        "DELETE FROM household_payout_changes",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


def test_the_payout_pages_show_the_held_change_and_staff_accept_it_there(
    client: TestClient, people: dict[str, Any], coop: Cooperative, make_user: Any
) -> None:
    from tests.conftest import TEST_PASSWORD
    from tests.frontend.helpers import HTML, csrf_token, sign_in

    batch = _batch(client, people, coop)
    _edit(client, people["manager"], people["member"].id, ATTACKER)
    client.headers.pop("Authorization", None)

    farmer = make_user(Role.farmer, coop_id=coop.id, household_id=people["member"].id)
    assert sign_in(client, farmer.email, TEST_PASSWORD).status_code == 303
    income = client.get("/me/income", headers=HTML)
    assert "收款账户变更" in income.text
    assert ATTACKER in income.text
    assert ORIGINAL in income.text
    client.cookies.clear()

    staff = make_user(Role.staff)
    assert sign_in(client, staff.email, TEST_PASSWORD).status_code == 303
    listing = client.get("/staff/payouts", headers=HTML)
    assert "收款信息变更待确认：1 项" in listing.text
    page = client.get(f"/staff/payouts/{batch['id']}", headers=HTML)
    assert "在您接受变更之前" in page.text
    assert ATTACKER in page.text
    token = csrf_token(client, f"/staff/payouts/{batch['id']}")
    line = batch["lines"][0]["id"]
    change = page.text.split('name="change_id" value="')[1].split('"')[0]
    done = client.post(
        f"/staff/payouts/{batch['id']}/lines/{line}/accept-payee",
        data={"csrf_token": token, "change_id": change},
        headers=HTML,
    )
    assert done.status_code == 200
    assert f"打款明细 {line} 现按该户新的收款信息付款。" in done.text
    assert "在您接受变更之前" not in done.text
    assert "收款信息变更待确认" not in client.get("/staff/payouts", headers=HTML).text
    assert _csv_accounts(client, batch["id"], {}) == [ATTACKER]


@pytest.mark.parametrize("period", ["0000-01", "0000-12", "1999-12", "2101-01"])
def test_a_payout_batch_for_an_implausible_year_is_refused(
    client: TestClient, people: dict[str, Any], coop: Cooperative, period: str
) -> None:
    """Issue 15, Low: before, a batch for 0000-01 was accepted and held members' money."""
    answer = client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": coop.id, "period": period, "minimum": 100},
        headers=people["staff"],
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/payouts/batches", headers=people["staff"]).json()["items"] == []
