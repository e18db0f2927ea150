"""Web sign-in and sign-out: cookies, CSRF, the brute-force limit, the signed-in user's page."""

import pytest
from sqlalchemy import func, select

from api.models import LoginAttempt, Role, WebSession
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def _count(session, model, **where) -> int:
    session.rollback()  # see the app's commits
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.scalar(query))


def test_the_login_form_has_a_csrf_field_and_cookie(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert '<form method="post" action="/login"' in page.text
    assert 'type="password"' in page.text
    token = csrf_token(client)
    assert client.cookies.get("hezuo_csrf") == token
    assert "httponly" in page.headers["set-cookie"].lower()


def test_signing_in_sets_a_safe_session_cookie_and_redirects(client, make_user, session):
    user = make_user(Role.farmer)
    answer = sign_in(client, user.email, TEST_PASSWORD, next="/me")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me"
    session_cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("hezuo_session=")
    )
    lowered = session_cookie.lower()
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "secure" not in lowered  # cookie_secure defaults to False for http://127.0.0.1
    assert _count(session, WebSession, user_id=user.id) == 1

    me = client.get("/me")
    assert me.status_code == 200
    assert user.email in me.text
    assert "农户" in me.text  # the farmer role, in Chinese


def test_the_session_cookie_is_secure_when_configured(settings, make_user):
    from fastapi.testclient import TestClient

    from api.app import create_app

    user = make_user()
    app = create_app(settings.model_copy(update={"cookie_secure": True}))
    with TestClient(app, base_url="https://testserver") as secure_client:
        answer = sign_in(secure_client, user.email, TEST_PASSWORD)
    app.state.engine.dispose()
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("hezuo_session=")
    )
    assert "secure" in cookie.lower()


@pytest.mark.parametrize("target", ["https://evil.example/x", "//evil.example", "/\\evil"])
def test_sign_in_never_redirects_off_site(client, make_user, target):
    user = make_user()
    answer = sign_in(client, user.email, TEST_PASSWORD, next=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_wrong_password_shows_the_form_again_and_is_counted(client, make_user, session):
    user = make_user()
    answer = sign_in(client, user.email, "wrong-password")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "邮箱或密码不正确" in answer.text
    assert f'value="{user.email}"' in answer.text  # the email is kept, the password is not
    assert "wrong-password" not in answer.text
    assert _count(session, LoginAttempt, email=user.email) == 1
    assert _count(session, WebSession) == 0
    assert "hezuo_session" not in client.cookies


def test_the_sixth_wrong_try_in_a_minute_is_a_429_page(client, make_user, session):
    user = make_user()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong-password").status_code == 401
    blocked = sign_in(client, user.email, TEST_PASSWORD)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "登录失败次数过多" in blocked.text
    assert _count(session, LoginAttempt, email=user.email) == 5
    assert _count(session, WebSession) == 0


def test_web_and_api_failures_share_one_count(client, make_user):
    user = make_user()
    for _ in range(3):
        sign_in(client, user.email, "wrong-password")
    for _ in range(2):
        client.post("/api/v1/auth/token", data={"username": user.email, "password": "nope"})
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 429


def test_an_empty_form_is_refused_without_counting(client, make_user, session):
    user = make_user()
    answer = sign_in(client, user.email, "")
    assert answer.status_code == 422
    assert "请输入邮箱和密码" in answer.text
    assert _count(session, LoginAttempt) == 0


def test_login_without_csrf_token_is_403_and_signs_nobody_in(client, make_user, session):
    user = make_user()
    client.get("/login")  # has the cookie, but the form field is missing
    answer = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "表单已过期" in answer.text
    assert "hezuo_session" not in answer.headers.get("set-cookie", "")
    assert _count(session, WebSession) == 0
    assert _count(session, LoginAttempt) == 0


def test_login_with_a_token_that_does_not_match_the_cookie_is_403(client, make_user, session):
    user = make_user()
    csrf_token(client)
    forged = "A" * 43
    answer = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": forged},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"].endswith("/csrf-refused")
    assert _count(session, WebSession) == 0


def test_login_without_the_cookie_is_403(client, make_user, session):
    user = make_user()
    token = csrf_token(client)
    client.cookies.clear()
    answer = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert _count(session, WebSession) == 0


def test_signing_in_rotates_the_csrf_token(client, make_user):
    user = make_user()
    before = csrf_token(client)
    sign_in(client, user.email, TEST_PASSWORD)
    after = client.cookies.get("hezuo_csrf")
    assert after
    assert after != before


def test_signed_in_state_shows_in_the_header(client, make_user):
    user = make_user(Role.buyer)
    sign_in(client, user.email, TEST_PASSWORD)
    home = client.get("/")
    assert user.email in home.text
    assert 'action="/logout"' in home.text
    assert 'href="/me"' in home.text


def test_logout_ends_the_session_and_clears_the_cookie(client, make_user, session):
    user = make_user()
    sign_in(client, user.email, TEST_PASSWORD)
    old_cookie = client.cookies.get("hezuo_session")
    token = csrf_token(client, "/me")
    answer = client.post(
        "/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    assert _count(session, WebSession) == 0
    assert "hezuo_session" not in client.cookies
    # The old cookie no longer signs anybody in.
    client.cookies.set("hezuo_session", old_cookie)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_logout_without_csrf_is_refused_and_keeps_the_session(client, make_user, session):
    user = make_user()
    sign_in(client, user.email, TEST_PASSWORD)
    answer = client.post("/logout", headers=HTML, follow_redirects=False)
    assert answer.status_code == 403
    assert _count(session, WebSession, user_id=user.id) == 1
    assert client.get("/me").status_code == 200


def test_me_redirects_to_login_when_signed_out(client):
    answer = client.get("/me", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/me"


def test_the_login_form_redirects_a_signed_in_user(client, make_user):
    user = make_user()
    sign_in(client, user.email, TEST_PASSWORD)
    answer = client.get("/login?next=/me", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me"


def test_an_inactive_users_session_no_longer_counts(client, make_user, session):
    from api.models import User

    user = make_user()
    sign_in(client, user.email, TEST_PASSWORD)
    session.rollback()
    stored = session.get(User, user.id)
    stored.is_active = False
    session.commit()
    assert client.get("/me", follow_redirects=False).status_code == 303
    assert user.email not in client.get("/").text


def test_demo_logins_are_listed_only_in_development(settings, client):
    assert "farmer@songjiang.demo" not in client.get("/login").text
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings.model_copy(update={"env": "development"}))
    with TestClient(app) as dev_client:
        assert "farmer@songjiang.demo" in dev_client.get("/login").text
    app.state.engine.dispose()
