"""Account pages without JavaScript: a manager prints a sign-in card (a QR code of the public URL);
the member opens it (nothing spent), sets a password and is signed in; a used card shows a
translated refusal page (410); the reset pages answer the same for any number and re-render what
was typed with a translated message. Other cooperatives' managers and auditors are refused."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from api.accounts import SignInCard
from api.models import Role, User
from api.settings import Settings
from catalog.models import Cooperative, Household
from tests.catalog import factories
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

ZH = {**HTML, "Accept-Language": "zh-CN"}
NEW_PASSWORD = "honey-bees-2026-spring"


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
        public_url="https://hezuo.example.org",
    )


@pytest.fixture
def place(session: Session) -> tuple[Cooperative, Cooperative, Household]:
    a = factories.create_coop(session, code="SJ")
    b = factories.create_coop(session, code="HX", village="红星村")
    household = factories.create_household(session, coop=a, name="王芳")
    session.commit()
    return a, b, household


def _print_card(client: TestClient, household_id: int, **data: str):
    path = f"/manage/households/{household_id}/sign-in-card"
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, **data}, headers=ZH)


def test_a_printed_card_signs_the_member_in_once(app, place, make_user, session: Session) -> None:
    coop, _, household = place
    manager = make_user(Role.manager, coop_id=coop.id)
    with TestClient(app) as desk, TestClient(app) as phone:
        assert sign_in(desk, manager.email, TEST_PASSWORD).status_code == 303
        typo = _print_card(desk, household.id or 0, phone="139 2222")
        assert typo.status_code == 422
        assert "不是中国大陆手机号" in typo.text
        assert 'value="139 2222"' in typo.text
        printed = _print_card(desk, household.id or 0, phone="139 2222 0009")
        assert printed.status_code == 200, printed.text
        assert "<svg" in printed.text
        url = re.search(r"https://hezuo\.example\.org/card/[\w-]+", printed.text)
        assert url is not None
        path = url.group(0).removeprefix("https://hezuo.example.org")

        opened = phone.get(path, headers=ZH)
        assert opened.status_code == 200
        assert phone.get(path, headers=ZH).status_code == 200  # looking does not spend it
        token = re.search(r'name="csrf_token" value="([^"]+)"', opened.text)
        assert token is not None
        form = {"csrf_token": token.group(1), "password": NEW_PASSWORD}
        differ = phone.post(path, data={**form, "password_again": "other"}, headers=ZH)
        assert differ.status_code == 422
        assert "两次输入的密码不一致" in differ.text
        done = phone.post(
            path, data={**form, "password_again": NEW_PASSWORD}, headers=ZH, follow_redirects=False
        )
        assert done.status_code == 303
        assert phone.get("/plan", headers=ZH).status_code == 200  # signed in as the member

        with TestClient(app) as other_phone:
            used = other_phone.get(path, headers=ZH)
            assert used.status_code == 410
            assert "登录卡" in used.text
    session.expire_all()
    (card,) = session.scalars(select(SignInCard)).all()
    assert card.used_at is not None
    member = session.scalars(select(User).where(col(User.household_id) == household.id)).one()
    assert member.role == "farmer"


def test_only_the_cooperatives_manager_prints_cards(app, place, make_user) -> None:
    _, coop_b, household = place
    for user in (make_user(Role.manager, coop_id=coop_b.id), make_user(Role.auditor)):
        with TestClient(app, raise_server_exceptions=False) as client:
            assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
            page = client.get(f"/manage/households/{household.id}/sign-in-card", headers=HTML)
            assert page.status_code == 403
    with TestClient(app) as anonymous:
        answer = anonymous.get(
            f"/manage/households/{household.id}/sign-in-card",
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_the_reset_pages_answer_the_same_for_any_number(app) -> None:
    with TestClient(app) as client:
        assert 'href="/password-reset"' in client.get("/login", headers=ZH).text
        page = client.get("/password-reset", headers=ZH)
        assert page.status_code == 200
        token = csrf_token(client, "/password-reset")
        answers = [
            client.post("/password-reset", data={"csrf_token": token, "phone": number}, headers=ZH)
            for number in ("13933339998", "13933339997")
        ]
        assert [a.status_code for a in answers] == [200, 200]
        assert "短信" in answers[0].text
        bad = client.post("/password-reset", data={"csrf_token": token, "phone": "12"}, headers=ZH)
        assert bad.status_code == 422
        assert 'value="12"' in bad.text
        code = client.post(
            "/password-reset/code",
            data={
                "csrf_token": token,
                "phone": "13933339998",
                "code": "123456",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
            headers=ZH,
        )
        assert code.status_code == 422
        assert 'value="123456"' in code.text
        assert "验证码" in code.text


def test_a_signed_in_person_may_ask_for_a_code_too(app, make_user) -> None:
    """The page reads the signed-in user first; on SQLite that read must not hold the write lock
    against the reset limits' own transaction (it would answer 503 after the busy timeout)."""
    user = make_user(Role.buyer)
    with TestClient(app) as client:
        assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
        token = csrf_token(client, "/password-reset")
        answer = client.post(
            "/password-reset", data={"csrf_token": token, "phone": "13900001111"}, headers=ZH
        )
        assert answer.status_code == 200
        code = client.post(
            "/password-reset/code",
            data={
                "csrf_token": token,
                "phone": "13900001111",
                "code": "123456",
                "password": NEW_PASSWORD,
                "password_again": NEW_PASSWORD,
            },
            headers=ZH,
        )
        assert code.status_code == 422


def test_an_older_account_without_a_number_gets_one_with_its_card(
    app, place, make_user, session: Session
) -> None:
    coop, _, household = place
    farmer = make_user(Role.farmer, coop_id=coop.id, household_id=household.id)
    manager = make_user(Role.manager, coop_id=coop.id)
    with TestClient(app) as desk:
        assert sign_in(desk, manager.email, TEST_PASSWORD).status_code == 303
        form = desk.get(f"/manage/households/{household.id}/sign-in-card", headers=ZH)
        assert 'name="phone"' in form.text  # no number yet: the form asks for one
        printed = _print_card(desk, household.id or 0, phone="13922220010")
        assert printed.status_code == 200
    session.expire_all()
    from api.phone_login import UserPhone

    row = session.get(UserPhone, farmer.id)
    assert row is not None
    assert row.phone == "13922220010"
