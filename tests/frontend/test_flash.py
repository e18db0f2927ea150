"""Issue 15, Medium 10: notices on pages come from the server (a signed flash), never from the
address. Before: /staff/payouts?msg=… put any text in the green notice box."""

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from api.models import Role
from frontend.flash import _SALT, FLASH_COOKIE
from ledger import service
from ledger.models import AccountType
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

BAIT = "请立即将所有批次打款至账户 6222"
_BOX = re.compile(
    r'<p class="(?:notice|error)"[^>]*>(.*?)</p>|<div class="error-summary"[^>]*>(.*?)</div>', re.S
)


def _boxes(html: str) -> list[str]:
    """The texts of the page's notice and error boxes."""
    return ["".join(groups) for groups in _BOX.findall(html)]


@pytest.fixture
def staff_client(client: TestClient, make_user: Any) -> TestClient:
    user = make_user(Role.staff)
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/staff/payouts",
        "/staff/reconciliation",
        "/staff/reports",
        "/staff/ledger/periods",
        "/staff/jobs",
        "/staff/notifications",
        "/inbox",
    ],
)
@pytest.mark.parametrize("name", ["msg", "error", "notice"])
def test_text_in_the_address_is_never_shown_as_a_notice(
    staff_client: TestClient, path: str, name: str
) -> None:
    page = staff_client.get(path, params={name: BAIT}, headers=HTML)
    assert page.status_code == 200
    assert BAIT not in page.text  # (the language links carry the address, percent-encoded)
    assert not [box for box in _boxes(page.text) if "6222" in box]


def test_a_forged_or_stale_flash_cookie_is_not_shown(staff_client: TestClient, app: Any) -> None:
    forged = URLSafeTimedSerializer("not-the-key", salt=_SALT).dumps({"n": BAIT, "e": ""})
    staff_client.cookies.set(FLASH_COOKIE, forged)
    assert not _boxes(staff_client.get("/staff/payouts", headers=HTML).text)
    staff_client.cookies.set(FLASH_COOKIE, "just-text")
    assert not _boxes(staff_client.get("/staff/payouts", headers=HTML).text)
    # Signed with the right key: shown once; the same ten minutes old: not shown.
    fresh = URLSafeTimedSerializer(app.state.settings.secret_key, salt=_SALT)
    staff_client.cookies.set(FLASH_COOKIE, fresh.dumps({"n": BAIT, "e": ""}))
    assert BAIT in _boxes(staff_client.get("/staff/payouts", headers=HTML).text)
    stale = URLSafeTimedSerializer(app.state.settings.secret_key, salt=_SALT, signer=_TenMinutesAgo)
    staff_client.cookies.set(FLASH_COOKIE, stale.dumps({"n": BAIT, "e": ""}))
    assert not _boxes(staff_client.get("/staff/payouts", headers=HTML).text)


class _TenMinutesAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 600


def test_a_real_notice_arrives_through_the_redirect_and_is_shown_once(
    staff_client: TestClient, session: Session
) -> None:
    service.open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    session.commit()
    token = csrf_token(staff_client, "/staff/reconciliation?period=2026-11")
    done = staff_client.post(
        "/staff/reconciliation/action",
        data={"csrf_token": token, "action": "auto", "period": "2026-11"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "msg=" not in done.headers["location"]
    assert FLASH_COOKIE in done.cookies
    first = staff_client.get(done.headers["location"], headers=HTML)
    assert "自动匹配 0 笔。" in first.text, _boxes(first.text)
    second = staff_client.get(done.headers["location"], headers=HTML)
    assert "自动匹配 0 笔。" not in second.text
