# mypy: disable-error-code="arg-type,union-attr"
"""Training pages: public list and detail, a farmer's application form (CSRF), my trainings,
staff management with attendance and completion, and the outcome report (who sees what)."""

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import col

from ledger.share_rules import training_fund_key
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.training.conftest import balance
from training.models import Enrolment


@pytest.fixture
def browser_for(app, world) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in TestClient (its own cookies) per role name; 'anonymous' signs nobody in."""
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        user = world.user(role)
        if user is not None:
            response = sign_in(client, user.email, TEST_PASSWORD)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.close()


def _post(client: TestClient, path: str, form_page: str, **data: str):
    token = csrf_token(client, form_page)
    return client.post(
        path, data={"csrf_token": token, **data}, headers=HTML, follow_redirects=False
    )


def _enrolments(world) -> int:
    world.session.rollback()
    return world.session.scalar(select(func.count()).select_from(Enrolment)) or 0


def test_public_list_and_detail(world, browser_for):
    shown = world.programme()
    draft = world.programme(status="draft")
    public = browser_for("anonymous")
    page = public.get("/training", headers=HTML)
    assert page.status_code == 200
    assert f'href="/training/{shown.id}"' in page.text
    assert f'href="/training/{draft.id}"' not in page.text
    detail = public.get(f"/training/{shown.id}", headers=HTML)
    assert "电商销售培训" in detail.text
    assert "¥300.00" in detail.text
    assert "松江村委会" in detail.text
    assert public.get(f"/training/{draft.id}", headers=HTML).status_code == 404


def test_farmer_applies_with_the_form_and_sees_it(world, browser_for):
    programme = world.programme()
    farmer = browser_for("farmer_a")
    detail = farmer.get(f"/training/{programme.id}", headers=HTML)
    assert f'action="/training/{programme.id}/apply"' in detail.text
    response = _post(
        farmer,
        f"/training/{programme.id}/apply",
        f"/training/{programme.id}",
        repayment="deduction",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/me/training"
    mine = farmer.get("/me/training", headers=HTML)
    assert "电商销售培训" in mine.text
    assert "已报名" in mine.text
    again = _post(farmer, f"/training/{programme.id}/apply", f"/training/{programme.id}")
    assert again.status_code == 409
    assert "您已报名" in again.text
    assert _enrolments(world) == 1


def test_apply_without_csrf_is_refused_and_stores_nothing(world, browser_for):
    programme = world.programme()
    farmer = browser_for("farmer_a")
    response = farmer.post(
        f"/training/{programme.id}/apply", data={}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 403
    assert _enrolments(world) == 0


def test_staff_accept_attend_and_complete(world, browser_for):
    programme = world.programme()
    _post(browser_for("farmer_a"), f"/training/{programme.id}/apply", f"/training/{programme.id}")
    staff = browser_for("staff")
    manage = f"/staff/training/{programme.id}"
    page = staff.get(manage, headers=HTML)
    assert world.household_a.member_code in page.text
    assert "¥1,000.00" in page.text  # the fund before
    enrolment_id = int(re.search(r"/enrolments/(\d+)/accept", page.text).group(1))
    accepted = _post(staff, f"{manage}/enrolments/{enrolment_id}/accept", manage)
    assert accepted.status_code == 303
    assert balance(world.session, training_fund_key(world.coop_a.id)) == 70_000
    page = staff.get(manage, headers=HTML)
    assert "¥700.00" in page.text
    session_id = re.search(r'name="session_id" value="(\d+)"', page.text).group(1)
    marked = _post(
        staff, f"{manage}/enrolments/{enrolment_id}/attendance", manage, session_id=session_id
    )
    assert marked.status_code == 303
    done = _post(
        staff,
        f"{manage}/enrolments/{enrolment_id}/complete",
        manage,
        certificate_number="YN-2026-001",
    )
    assert done.status_code == 303
    world.session.rollback()
    world.session.expire_all()
    row = world.session.get(Enrolment, enrolment_id)
    assert (row.status, row.certificate_number) == ("completed", "YN-2026-001")
    report = staff.get(f"/training/{programme.id}/outcomes", headers=HTML)
    assert world.household_a.member_code in report.text
    assert "已结业" in report.text


def test_fund_too_small_is_shown_on_the_page(world, browser_for):
    programme = world.programme(seat_cost={"amount": 500_000, "currency": "CNY"})
    _post(browser_for("farmer_a"), f"/training/{programme.id}/apply", f"/training/{programme.id}")
    staff = browser_for("staff")
    manage = f"/staff/training/{programme.id}"
    page = staff.get(manage, headers=HTML)
    enrolment_id = int(re.search(r"/enrolments/(\d+)/accept", page.text).group(1))
    refused = _post(staff, f"{manage}/enrolments/{enrolment_id}/accept", manage)
    assert refused.status_code == 409
    assert "培训基金余额为 ¥1,000.00 (100000 CNY)" in refused.text
    assert balance(world.session, training_fund_key(world.coop_a.id)) == 100_000


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        ("anonymous", "/staff/training", 303),
        ("farmer_a", "/staff/training", 403),
        ("manager_a", "/staff/training", 403),
        ("staff", "/staff/training", 200),
        ("admin", "/staff/training", 200),
        ("anonymous", "/staff/training/{p}", 303),
        ("buyer", "/staff/training/{p}", 403),
        ("manager_a", "/staff/training/{p}", 403),
        ("staff", "/staff/training/{p}", 200),
        ("anonymous", "/me/training", 303),
        ("buyer", "/me/training", 403),
        ("farmer_a", "/me/training", 200),
        ("anonymous", "/training/{p}/outcomes", 200),
        ("farmer_a", "/training/{p}/outcomes", 200),
        ("manager_b", "/training/{p}/outcomes", 200),
        ("staff", "/training/{p}/outcomes", 200),
    ],
)
def test_page_roles(world, browser_for, role, path, expected):
    programme = world.programme()
    client = browser_for(role)
    response = client.get(
        path.replace("{p}", str(programme.id)), headers=HTML, follow_redirects=False
    )
    assert response.status_code == expected


@pytest.mark.parametrize("role", ["anonymous", "farmer_a", "manager_a", "buyer"])
def test_staff_steps_refused_for_others(world, browser_for, role):
    programme = world.programme()
    _post(browser_for("farmer_a2"), f"/training/{programme.id}/apply", f"/training/{programme.id}")
    world.session.rollback()
    enrolment_id = world.session.scalar(select(col(Enrolment.id)))
    client = browser_for(role)
    response = _post(
        client,
        f"/staff/training/{programme.id}/enrolments/{enrolment_id}/accept",
        "/login",
    )
    if role == "anonymous":  # a visitor is sent to sign in
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == 403
    assert world.session.get(Enrolment, enrolment_id).status == "applied"


def test_outcome_page_public_has_no_member_detail(world, browser_for):
    programme = world.programme()
    _post(browser_for("farmer_a"), f"/training/{programme.id}/apply", f"/training/{programme.id}")
    staff_page = browser_for("staff").get(f"/training/{programme.id}/outcomes", headers=HTML)
    assert "<svg" in staff_page.text or "数据不足" in staff_page.text
    public_page = browser_for("anonymous").get(f"/training/{programme.id}/outcomes", headers=HTML)
    assert public_page.status_code == 200
    assert world.household_a.member_code not in public_page.text
    assert "双重差分" in public_page.text


# Giving up a place, applying once, and attendance only for sessions held


def test_giving_up_a_place_is_confirmed_and_the_page_then_says_so(world, browser_for):
    from datetime import timedelta

    from tests.training.conftest import TODAY

    programme = world.programme(start=TODAY + timedelta(days=30))
    farmer = browser_for("farmer_a")
    detail = farmer.get(f"/training/{programme.id}", headers=HTML)
    assert 'action="/training/' in detail.text  # may apply
    applied = _post(farmer, f"/training/{programme.id}/apply", f"/training/{programme.id}")
    assert applied.status_code == 303
    detail = farmer.get(f"/training/{programme.id}", headers=HTML)
    assert f'action="/training/{programme.id}/apply"' not in detail.text  # no second Apply
    assert 'id="my-enrolment"' in detail.text
    mine = farmer.get("/me/training", headers=HTML).text
    assert "退出" not in mine.split("<main", 1)[1]  # not the sign-out word
    enrolment_id = int(re.search(r'action="/me/training/(\d+)/drop"', mine).group(1))
    asked = _post(farmer, f"/me/training/{enrolment_id}/drop", "/me/training")
    assert asked.status_code == 200
    assert "不能再报名" in asked.text
    assert "已报名" in farmer.get("/me/training", headers=HTML).text  # nothing changed yet
    done = _post(farmer, f"/me/training/{enrolment_id}/drop", "/me/training", confirmed="yes")
    assert done.status_code == 303
    detail = farmer.get(f"/training/{programme.id}", headers=HTML)
    assert "已退出" in detail.text
    assert f'action="/training/{programme.id}/apply"' not in detail.text


def test_attendance_cannot_be_ticked_for_a_session_still_to_come(world, browser_for, client):
    from datetime import timedelta

    from tests.training.conftest import TODAY

    programme = world.programme(start=TODAY - timedelta(days=2))  # sessions 2 days ago, in 5 days
    farmer = browser_for("farmer_a")
    _post(farmer, f"/training/{programme.id}/apply", f"/training/{programme.id}")
    world.session.rollback()
    enrolment = world.session.scalars(select(Enrolment)).one()
    staff = browser_for("staff")
    path = f"/staff/training/{programme.id}/enrolments/{enrolment.id}"
    assert _post(staff, f"{path}/accept", f"/staff/training/{programme.id}").status_code == 303
    page = staff.get(f"/staff/training/{programme.id}", headers=HTML).text
    sessions = re.findall(r'data-session="(\d+)"', page)
    assert len(sessions) == 2
    assert page.count('class="button small attend"') == 1  # only the session already held
    assert 'class="button small future"' in page
    future = _post(
        staff, f"{path}/attendance", f"/staff/training/{programme.id}", session_id=sessions[1]
    )
    assert future.status_code == 422
    past = _post(
        staff, f"{path}/attendance", f"/staff/training/{programme.id}", session_id=sessions[0]
    )
    assert past.status_code == 303
