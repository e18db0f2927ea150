"""Payout, reconciliation and report pages: who may open them, forms with CSRF, the income chart."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role, User
from catalog.models import Cooperative
from frontend.payout_pages import income_chart
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.payouts.conftest import HouseholdFactory, earn

STAFF_PAGES = ["/staff/payouts", "/staff/reconciliation", "/staff/reports"]


@pytest.fixture
def people(
    session: Session, coop: Cooperative, household: HouseholdFactory, make_user: Any
) -> dict[str, Any]:
    mine = household(name="李四")
    earn(session, mine, 5_000, on=date(2026, 10, 3))
    earn(session, mine, 9_000, on=date(2026, 11, 3))
    session.commit()
    return {
        "mine": mine,
        "staff": make_user(Role.staff),
        "farmer": make_user(Role.farmer, coop_id=coop.id, household_id=mine.id),
        "manager": make_user(Role.manager, coop_id=coop.id),
    }


def enter(client: TestClient, user: User) -> None:
    response = sign_in(client, user.email, TEST_PASSWORD)
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_send_visitors_to_sign_in_and_refuse_other_roles(
    client: TestClient, people: dict[str, Any], path: str
) -> None:
    visitor = client.get(path, headers=HTML, follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"].startswith("/login?next=")
    for role in ("farmer", "manager"):
        enter(client, people[role])
        assert client.get(path, headers=HTML).status_code == 403
        client.cookies.clear()
    enter(client, people["staff"])
    assert client.get(path, headers=HTML).status_code == 200


def test_staff_create_a_batch_and_mark_a_line_paid_from_the_page(
    client: TestClient, people: dict[str, Any], coop: Cooperative
) -> None:
    enter(client, people["staff"])
    token = csrf_token(client, "/staff/payouts")
    refused = client.post(
        "/staff/payouts", data={"coop_id": coop.id, "period": "2026-11"}, headers=HTML
    )
    assert refused.status_code == 403  # no CSRF token
    created = client.post(
        "/staff/payouts",
        data={"coop_id": coop.id, "period": "2026-11", "minimum": "1", "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = client.get(created.headers["location"], headers=HTML)
    assert "李四" in page.text
    assert "¥140.00" in page.text
    line_form = page.text.split('action="/staff/payouts/1/lines/')[1].split('"')[0]
    done = client.post(
        f"/staff/payouts/1/lines/{line_form}",
        data={
            "csrf_token": token,
            "action": "confirm",
            "bank_reference": "B1",
            "paid_on": "2026-11-30",
        },
        headers=HTML,
    )
    assert "B1" in done.text
    assert "已付款" in done.text  # the line's status as a word, not the code
    assert f"打款明细 {line_form} 已确认到账。" in done.text  # the notice, in the reader's language


def test_bank_import_preview_then_import_from_the_page(
    client: TestClient, people: dict[str, Any], session: Session
) -> None:
    enter(client, people["staff"])
    token = csrf_token(client, "/staff/reconciliation?period=2026-11")
    raw = "date,amount,reference\n2026-11-30,-15.00,FEE\n".encode("gbk")
    form = {"csrf_token": token, "account": "assets:bank", "period": "2026-11"}
    preview = client.post(
        "/staff/reconciliation/import",
        data={**form, "action": "preview"},
        files={"file": ("nov.csv", raw, "text/csv")},
        headers=HTML,
    )
    assert preview.status_code == 200
    assert "-¥15.00" in preview.text
    imported = client.post(
        "/staff/reconciliation/import",
        data={**form, "action": "import"},
        files={"file": ("nov.csv", raw, "text/csv")},
        headers=HTML,
    )
    assert "已导入 1 行，0 行此前已存在；自动匹配 0 笔。" in imported.text
    again = client.post(
        "/staff/reconciliation/import",
        data={**form, "action": "import"},
        files={"file": ("nov.csv", raw, "text/csv")},
        headers={**HTML, "Accept-Language": "en"},
    )
    assert "This file was imported before: nothing new (1 lines)." in again.text
    assert 'id="unexplained">1<' in imported.text
    bad = client.post(
        "/staff/reconciliation/import",
        data={**form, "action": "import"},
        files={"file": ("bad.csv", b"date,amount\n2026-11-40,1\n", "text/csv")},
        headers=HTML,
    )
    assert "line / 2 / column / date" in bad.text


def test_my_income_shows_the_farmers_own_chart(client: TestClient, people: dict[str, Any]) -> None:
    assert client.get("/me/income", headers=HTML, follow_redirects=False).status_code == 303
    enter(client, people["manager"])
    assert client.get("/me/income", headers=HTML).status_code == 403
    client.cookies.clear()
    enter(client, people["farmer"])
    page = client.get("/me/income", headers=HTML)
    assert page.status_code == 200
    assert page.text.count("<rect ") == 2
    assert "¥140.00" in page.text  # the balance
    assert "<script" not in page.text


def test_income_chart_scales_bars_to_the_best_month() -> None:
    chart = income_chart([("2026-10", 5_000), ("2026-11", 10_000), ("2026-12", -200)], "CNY")
    assert [bar.height for bar in chart.bars] == [60, 120, 0]
    assert chart.bars[1].y == 20


# The payout minimum is typed in 元 like every other amount on the pages.


def _create(client: TestClient, coop: Cooperative, minimum: str, period: str = "2026-11"):
    token = csrf_token(client, "/staff/payouts")
    return client.post(
        "/staff/payouts",
        data={"coop_id": coop.id, "period": period, "minimum": minimum, "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )


def test_the_form_shows_and_reads_the_minimum_in_yuan(
    client: TestClient,
    people: dict[str, Any],
    coop: Cooperative,
) -> None:
    enter(client, people["staff"])
    page = client.get("/staff/payouts", headers=HTML).text
    assert "最低金额（元）" in page
    assert 'value="10.00"' in page  # HEZUO_PAYOUT_MINIMUM 1000 fen, shown as yuan
    # ¥150 is more than the household's ¥140: nobody is paid
    high = _create(client, coop, "¥150")
    shown = client.get(high.headers["location"], headers=HTML).text
    assert "¥140.00" not in shown
    bad = _create(client, coop, "ten")
    assert "error=" not in bad.headers["location"]  # the message travels signed, not in the address
    assert "请以元为单位填写最低金额" in client.get(bad.headers["location"], headers=HTML).text
    low = _create(client, coop, "１００", period="2026-12")  # full-width digits, ¥100
    assert low.status_code == 303
