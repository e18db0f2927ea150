"""The auditor on the pages: every page staff may open opens for the auditor the same way; every
form an auditor sends is refused with the refusal page (403) and stores nothing."""

import re
from collections.abc import Callable

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col

from api.auditing import AuditorRead
from api.demo import load_demo
from api.models import Role, User
from api.settings import Settings
from frontend import (
    account_pages,
    catalog_manage_pages,
    catalog_pages,
    governance_pages,
    job_pages,
    ledger_pages,
    notify_pages,
    order_pages,
    pages,
    payout_pages,
    plan_pages,
    reconciliation_pages,
    refund_request_pages,
    training_pages,
)
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

PAGE_MODULES = (
    pages,
    account_pages,
    catalog_pages,
    catalog_manage_pages,
    order_pages,
    refund_request_pages,
    ledger_pages,
    payout_pages,
    plan_pages,
    reconciliation_pages,
    training_pages,
    governance_pages,
    job_pages,
    notify_pages,
)
NOT_COUNTED = {"auditor_reads", "web_sessions", "login_attempts"}
# Pages that are only a form for a change: the domain refuses the auditor (it never writes).
WRITE_FORMS = {
    "/products/{product_id}/lots/new",
    "/manage/households/{household_id}/sign-in-card",
}


def _page_routes(method: str) -> list[str]:
    found = []
    for module in PAGE_MODULES:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and method in (route.methods or set()):
                found.append(route.path)
    return sorted(set(found))


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in SQLModel.metadata.sorted_tables
        if table.name not in NOT_COUNTED
    }


def _signed_in(client: TestClient, user: User) -> None:
    answer = sign_in(client, user.email, TEST_PASSWORD)
    assert answer.status_code == 303, answer.text


def test_the_auditor_opens_every_page_staff_open_and_sends_no_form(
    app: object,
    session: Session,
    settings: Settings,
    make_user: Callable[..., User],
) -> None:
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    staff_user, auditor_user = make_user(Role.staff), make_user(Role.auditor)
    with (
        TestClient(app, raise_server_exceptions=False) as staff,
        TestClient(  # type: ignore[arg-type]
            app,  # type: ignore[arg-type]
            raise_server_exceptions=False,
        ) as auditor,
    ):
        _signed_in(staff, staff_user)
        _signed_in(auditor, auditor_user)
        gets = _page_routes("GET")
        assert "/staff/ledger" in gets
        assert len(gets) > 20
        differ, opened = [], 0
        for path in gets:
            url = _filled(path)
            as_staff = staff.get(url, headers=HTML, follow_redirects=False)
            as_auditor = auditor.get(url, headers=HTML, follow_redirects=False)
            expected = 403 if path in WRITE_FORMS else as_staff.status_code
            if path in WRITE_FORMS:
                assert as_staff.status_code == 200, path
            if as_auditor.status_code != expected:
                differ.append((path, as_staff.status_code, as_auditor.status_code))
            opened += as_auditor.status_code == 200
        assert differ == [], differ
        assert opened > 15
        session.expire_all()
        logged = session.scalars(
            select(col(AuditorRead.path)).where(col(AuditorRead.user_id) == auditor_user.id)
        ).all()
        assert {_filled(p) for p in gets} <= set(logged)  # every page the auditor opened

        token = csrf_token(auditor, "/")
        posts = [p for p in _page_routes("POST") if p != "/logout"]
        assert "/staff/ledger/seals" in posts
        before = _counts(session)
        for path in posts:
            answer = auditor.post(
                _filled(path), data={"csrf_token": token}, headers=HTML, follow_redirects=False
            )
            assert answer.status_code == 403, (path, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html")
        assert _counts(session) == before
        out = auditor.post(
            "/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False
        )
        assert out.status_code == 303  # leaving is allowed
