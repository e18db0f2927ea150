"""Reconciliation pages: a bank's own export previewed once and imported by its kept upload, an
unknown layout mapped in a form and saved, a fee account chosen from a list, a ledger account
opened from a page; who is refused."""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.models import Role
from frontend.flash import FLASH_COOKIE
from ledger import service
from ledger.bank.models import StatementPreset
from ledger.payout_models import StatementLine
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

SAMPLES = Path(__file__).parents[1] / "ledger" / "bank_samples"


@pytest.fixture
def staff(client: TestClient, make_user: Any, session: Session) -> str:
    user = make_user(Role.staff)
    session.commit()
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, "/staff/reconciliation?period=2026-11")


def _lines(session: Session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(StatementLine)) or 0


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_preview_names_the_format_and_skipped_totals_then_imports_without_a_new_upload(
    client: TestClient, staff: str, session: Session
) -> None:
    raw = (SAMPLES / "icbc-2026-11.csv").read_bytes()
    preview = client.post(
        "/staff/reconciliation/import",
        data={"csrf_token": staff, "action": "preview", "period": "2026-11"},
        files={"file": ("icbc.csv", raw, "text/csv")},
        headers=HTML,
    )
    assert preview.status_code == 200, preview.text
    assert "中国工商银行 ICBC" in preview.text
    assert "人民币合计" in preview.text
    assert 'type="file"' not in preview.text
    assert _lines(session) == 0
    form = {"csrf_token": staff, "token": _token(preview.text), "action": "import"}
    imported = client.post(
        "/staff/reconciliation/import", data=form, headers=HTML, follow_redirects=False
    )
    assert imported.status_code == 303
    assert imported.headers["location"].startswith("/staff/reconciliation")
    assert FLASH_COOKIE in imported.headers["set-cookie"]  # the notice travels signed
    assert _lines(session) == 4
    again = client.post(
        "/staff/reconciliation/import", data=form, headers=HTML, follow_redirects=False
    )
    assert FLASH_COOKIE in again.headers["set-cookie"]  # the refusal travels signed
    assert 'class="error-summary"' in client.get(again.headers["location"], headers=HTML).text
    assert _lines(session) == 4
    second = client.post(
        "/staff/reconciliation/import",
        data={"csrf_token": staff, "action": "preview", "period": "2026-11"},
        files={"file": ("icbc.csv", raw, "text/csv")},
        headers=HTML,
    )
    assert second.text.count('class="already-stored"') == 4  # the preview says nothing is new


def test_an_unknown_layout_is_mapped_in_a_form_and_saved_for_next_time(
    client: TestClient, staff: str, session: Session
) -> None:
    raw = '某某村镇银行 对账单\n记帐日,发生额,对方,用途\n2026-11-03,"1,280.00",王芳,货款\n'.encode(
        "gbk"
    )
    upload = {"file": ("odd.csv", raw, "text/csv")}
    mapping = client.post(
        "/staff/reconciliation/import",
        data={"csrf_token": staff, "action": "preview"},
        files=upload,
        headers=HTML,
    )
    assert mapping.status_code == 422
    assert '<option value="发生额"' in mapping.text
    assert "某某村镇银行 对账单" in mapping.text  # the first lines seen
    token = _token(mapping.text)
    bad = client.post(
        "/staff/reconciliation/mapping",
        data={"csrf_token": staff, "token": token, "name": "村镇银行", "date": "记帐日"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'value="村镇银行"' in bad.text
    assert '<option value="记帐日" selected>' in bad.text
    good = client.post(
        "/staff/reconciliation/mapping",
        data={
            "csrf_token": staff,
            "token": token,
            "name": "村镇银行",
            "date": "记帐日",
            "amount": "发生额",
            "counterparty": "对方",
        },
        headers=HTML,
    )
    assert good.status_code == 200, good.text
    assert "村镇银行" in good.text
    assert "王芳" in good.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(StatementPreset)) == 1
    second = client.post(
        "/staff/reconciliation/import",
        data={"csrf_token": staff, "action": "preview"},
        files=upload,
        headers=HTML,
    )
    assert second.status_code == 200  # recognised by the saved preset
    assert 'id="preset">村镇银行' in second.text


def test_fee_accounts_are_offered_from_the_expense_accounts(client: TestClient, staff: str) -> None:
    page = client.get("/staff/reconciliation?period=2026-11", headers=HTML)
    select_html = page.text.split('id="counter_account"', 1)[1].split("</select>", 1)[0]
    assert '<option value="expenses:bank:fees" selected>' in select_html
    assert "assets:bank" not in select_html


def test_staff_open_an_account_from_a_page_with_the_apis_rules(
    client: TestClient, staff: str, session: Session
) -> None:
    token = csrf_token(client, "/staff/accounts/new")
    bad = client.post(
        "/staff/accounts/new",
        data={"csrf_token": token, "key": "Bank Wire Fees", "type": "expense", "currency": "CNY"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert 'value="Bank Wire Fees"' in bad.text
    wrong_root = client.post(
        "/staff/accounts/new",
        data={"csrf_token": token, "key": "assets:wire", "type": "expense", "currency": "CNY"},
        headers=HTML,
    )
    assert wrong_root.status_code == 422
    opened = client.post(
        "/staff/accounts/new",
        data={
            "csrf_token": token,
            "key": "expenses:bank:wire-fees",
            "type": "expense",
            "currency": "CNY",
            "name": "电汇手续费",
            "limit": "none",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert opened.status_code == 303
    session.rollback()
    account = service.find_account(session, "expenses:bank:wire-fees")
    assert account is not None
    assert account.name == "电汇手续费"
    page = client.get("/staff/reconciliation?period=2026-11", headers=HTML)
    assert '<option value="expenses:bank:wire-fees"' in page.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/staff/accounts/new"),
        ("post", "/staff/accounts/new"),
        ("post", "/staff/reconciliation/import"),
        ("post", "/staff/reconciliation/mapping"),
    ],
)
def test_other_roles_are_refused(
    client: TestClient, make_user: Any, session: Session, method: str, path: str
) -> None:
    farmer = make_user(Role.buyer)
    session.commit()
    assert sign_in(client, farmer.email, TEST_PASSWORD).status_code == 303
    token = csrf_token(client, "/")
    data = {"csrf_token": token, "key": "expenses:x", "type": "expense", "currency": "CNY"}
    data |= {"token": "x", "action": "import"}
    response = (
        client.get(path, headers=HTML)
        if method == "get"
        else client.post(path, data=data, headers=HTML)
    )
    assert response.status_code == 403
    assert "您的账户无权打开此页面" in response.text  # refused for the role, not the token
    session.rollback()
    assert service.find_account(session, "expenses:x") is None
