"""The staff page control for periods: staff close an ended month, an administrator reopens one
with a reason; refusals come back as the form with what was typed and a message in Chinese."""

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.models import Role
from ledger import periods, service
from ledger.models import AccountType
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

PAGE = "/staff/ledger/periods"


def _enter(client: TestClient, make_user, role: Role) -> str:
    user = make_user(role)
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, PAGE)


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager])
def test_other_roles_are_refused_the_page_and_its_forms(
    client: TestClient, make_user, role: Role
) -> None:
    assert client.get(PAGE, headers=HTML, follow_redirects=False).status_code == 303
    user = make_user(role)
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    assert client.get(PAGE, headers=HTML).status_code == 403
    token = csrf_token(client, "/")
    closing = client.post(
        f"{PAGE}/close", data={"period": "2026-10", "csrf_token": token}, headers=HTML
    )
    assert closing.status_code == 403


def test_staff_close_a_past_month_but_a_typo_comes_back_in_chinese(
    client: TestClient, make_user, session: Session
) -> None:
    token = _enter(client, make_user, Role.staff)
    typo = client.post(
        f"{PAGE}/close", data={"period": "9999-12", "csrf_token": token}, headers=HTML
    )
    assert typo.status_code == 422
    assert 'value="9999-12"' in typo.text  # what was typed, again
    assert "年份在 2000 到 2100 之间" in typo.text
    current = client.post(
        f"{PAGE}/close",
        data={"period": date.today().strftime("%Y-%m"), "csrf_token": token},
        headers=HTML,
    )
    assert current.status_code == 422
    assert "只能结账已经结束的月份" in current.text
    session.rollback()
    assert periods.closed_through(session) is None

    done = client.post(
        f"{PAGE}/close", data={"period": "2026-10", "csrf_token": token}, headers=HTML
    )
    assert done.status_code == 200
    assert "2026-10 已结账。" in done.text
    # Staff see no reopen form and are refused if they post one.
    assert 'action="/staff/ledger/periods/reopen"' not in done.text
    refused = client.post(
        f"{PAGE}/reopen",
        data={"period": "2026-10", "reason": "x", "csrf_token": token},
        headers=HTML,
    )
    assert refused.status_code == 403
    session.rollback()
    assert periods.closed_through(session) == "2026-10"


def test_an_admin_reopens_with_a_reason_shown_in_the_history(
    client: TestClient, make_user, session: Session
) -> None:
    service.open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    periods.close_period(session, "2026-10", closed_by="user:staff")
    session.commit()
    token = _enter(client, make_user, Role.admin)
    page = client.get(PAGE, headers=HTML)
    assert 'action="/staff/ledger/periods/reopen"' in page.text
    missing = client.post(
        f"{PAGE}/reopen",
        data={"period": "2026-10", "reason": " ", "csrf_token": token},
        headers=HTML,
    )
    assert missing.status_code == 422
    reopened = client.post(
        f"{PAGE}/reopen",
        data={"period": "2026-10", "reason": "银行流水漏记", "csrf_token": token},
        headers=HTML,
    )
    assert reopened.status_code == 200
    assert "2026-10 已重新开账。" in reopened.text
    assert "银行流水漏记" in reopened.text  # the history keeps the reason
    again = client.get(PAGE, headers=HTML)
    assert "2026-10 已重新开账。" not in again.text  # the notice is shown once
    session.rollback()
    assert periods.closed_through(session) is None
