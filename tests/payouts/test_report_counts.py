"""Reports count only what happened: a payout is money the bank confirmed, never a hold; a failed
line shows as failed; a line that failed and was paid in a later batch counts once."""

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role, User
from catalog.models import Cooperative
from governance.disclosures import build_report
from tests.payouts.conftest import HouseholdFactory, earn

TODAY = date.today()


def _staff(make_user: Callable[..., User], login: Callable[[User], dict[str, str]]) -> dict:
    return login(make_user(Role.staff))


def _report(client: TestClient, staff: dict, coop: Cooperative) -> dict:
    answer = client.get(f"/api/v1/reports/coops/{coop.id}", headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _batch(client: TestClient, staff: dict, coop: Cooperative, period: str) -> dict:
    made = client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": coop.id, "period": period, "minimum": 100},
        headers=staff,
    )
    assert made.status_code == 201, made.text
    return made.json()


def _confirm(client: TestClient, staff: dict, line_id: int) -> None:
    answer = client.post(
        f"/api/v1/payouts/lines/{line_id}/confirm",
        json={"bank_reference": f"ICBC-{line_id}", "paid_on": TODAY.isoformat()},
        headers=staff,
    )
    assert answer.status_code == 200, answer.text


def _fail(client: TestClient, staff: dict, line_id: int) -> None:
    answer = client.post(
        f"/api/v1/payouts/lines/{line_id}/fail", json={"reason": "账户已注销"}, headers=staff
    )
    assert answer.status_code == 200, answer.text


def test_a_held_line_is_not_a_payout_until_the_bank_confirms_it(
    client, session: Session, coop, household: HouseholdFactory, make_user, login
) -> None:
    staff = _staff(make_user, login)
    earn(session, household(name="王芳"), 5000, on=TODAY)
    session.commit()
    batch = _batch(client, staff, coop, "2026-11")
    held = _report(client, staff, coop)
    assert (held["payouts"], held["households_paid"]) == (0, 0)
    _confirm(client, staff, batch["lines"][0]["id"])
    paid = _report(client, staff, coop)
    assert (paid["payouts"], paid["households_paid"]) == (5000, 1)
    assert paid["payouts_failed"] == {"amount": 0, "lines": 0}


def test_a_failed_line_shows_as_failed_and_is_not_counted_as_paid(
    client, session: Session, coop, household: HouseholdFactory, make_user, login
) -> None:
    staff = _staff(make_user, login)
    earn(session, household(name="王芳"), 5000, on=TODAY)
    earn(session, household(name="李四"), 3000, on=TODAY)
    session.commit()
    lines = _batch(client, staff, coop, "2026-11")["lines"]
    _confirm(client, staff, lines[0]["id"])
    _fail(client, staff, lines[1]["id"])  # the household left; its bank account is closed
    report = _report(client, staff, coop)
    assert (report["payouts"], report["households_paid"]) == (5000, 1)
    assert report["payouts_failed"] == {"amount": 3000, "lines": 1}
    history = client.get("/api/v1/reports/payouts", headers=staff).json()["items"]
    assert sorted((row["amount"], row["status"]) for row in history) == [
        (3000, "failed"),
        (5000, "paid"),
    ]
    session.rollback()
    disclosed = build_report(
        session, coop_id=coop.id, period=TODAY.strftime("%Y-%m"), currency="CNY"
    )
    assert disclosed["payouts"] == {"households": 1, "total": None}  # one household: withheld


def test_a_line_failed_then_paid_in_a_later_batch_counts_once(
    client, session: Session, coop, household: HouseholdFactory, make_user, login
) -> None:
    staff = _staff(make_user, login)
    earn(session, household(name="王芳"), 5000, on=TODAY)
    session.commit()
    first = _batch(client, staff, coop, "2026-11")["lines"][0]
    _fail(client, staff, first["id"])
    second = _batch(client, staff, coop, "2026-12")["lines"][0]
    _confirm(client, staff, second["id"])
    report = _report(client, staff, coop)
    assert (report["payouts"], report["households_paid"]) == (5000, 1)
    assert report["payouts_failed"] == {"amount": 5000, "lines": 1}
    csv_file = client.get(f"/api/v1/reports/coops/{coop.id}?format=csv", headers=staff)
    assert "payouts,5000,CNY" in csv_file.content.decode("utf-8-sig")
    session.rollback()
    disclosed = build_report(
        session, coop_id=coop.id, period=TODAY.strftime("%Y-%m"), currency="CNY"
    )
    assert disclosed["payouts"] == {"households": 1, "total": None}  # one household: withheld
