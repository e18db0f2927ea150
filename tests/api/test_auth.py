"""Sign-in, brute-force limit, roles and the identity routes."""

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.models import LoginAttempt, Role, User
from tests.conftest import TEST_PASSWORD

PROBLEM = "application/problem+json"


def _token(client: TestClient, email: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_token_then_me_shows_the_user(client, make_user):
    user = make_user(Role.farmer)
    response = _token(client, user.email, TEST_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": user.id,
        "email": user.email,
        "role": "farmer",
        "coop_id": None,
        "household_id": None,
    }


def test_email_is_case_insensitive(client, make_user):
    user = make_user(Role.buyer, email="Mixed.Case@Example.com")
    assert user.email == "mixed.case@example.com"
    assert _token(client, "MIXED.case@example.COM", TEST_PASSWORD).status_code == 200


def test_wrong_password_is_401_problem(client, make_user):
    user = make_user()
    response = _token(client, user.email, "not-the-password")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert body["detail"] == "Incorrect email or password."
    assert set(body) >= {"type", "title", "status", "detail"}


def test_unknown_email_answers_like_a_wrong_password(client):
    response = _token(client, "nobody@example.com", "whatever-it-is")
    assert response.status_code == 401
    assert response.json()["detail"] == "Incorrect email or password."


def test_sixth_failure_in_a_minute_is_429_even_with_the_right_password(client, make_user, session):
    user = make_user()
    for _ in range(5):
        assert _token(client, user.email, "wrong-password").status_code == 401
    blocked = _token(client, user.email, TEST_PASSWORD)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"].startswith(PROBLEM)
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins" in blocked.json()["detail"]
    failures = session.scalar(
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == user.email)
    )
    assert failures == 5  # the refused try is not counted, so the window does not keep sliding


def test_failures_for_one_account_do_not_block_another(client, make_user):
    victim, other = make_user(), make_user()
    for _ in range(5):
        _token(client, victim.email, "wrong-password")
    assert _token(client, other.email, TEST_PASSWORD).status_code == 200


def test_expired_failures_no_longer_count(client, make_user, session):
    from datetime import timedelta

    from ledger.base import utcnow

    user = make_user()
    old = utcnow() - timedelta(seconds=61)
    session.add_all([LoginAttempt(email=user.email, attempted_at=old) for _ in range(5)])
    session.commit()
    assert _token(client, user.email, TEST_PASSWORD).status_code == 200


def test_me_without_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)


def test_me_with_a_forged_token_is_401(client, make_user, settings):
    from api.security import create_access_token

    user = make_user()
    forged = create_access_token(user.id, "some-other-secret-of-sufficient-length!!", 5)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_expired_token_is_401(client, make_user, settings):
    import jwt

    from ledger.base import utcnow

    user = make_user()
    from datetime import timedelta

    expired = jwt.encode(
        {"sub": str(user.id), "exp": utcnow() - timedelta(seconds=5)},
        settings.secret_key,
        algorithm="HS256",
    )
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


def test_deactivated_user_cannot_sign_in(client, make_user, session):
    user = make_user()
    stored = session.get(User, user.id)
    stored.is_active = False
    session.commit()
    assert _token(client, user.email, TEST_PASSWORD).status_code == 401


def test_register_creates_a_buyer(client, session):
    response = client.post(
        "/api/v1/auth/register", json={"email": "new@example.com", "password": "long-enough-pw"}
    )
    assert response.status_code == 201
    assert response.json()["role"] == "buyer"
    assert _token(client, "new@example.com", "long-enough-pw").status_code == 200


def test_register_cannot_choose_a_role(client):
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "sneaky@example.com", "password": "long-enough-pw", "role": "admin"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "role"]


def test_register_twice_is_409_and_keeps_the_first(client, session):
    body = {"email": "twice@example.com", "password": "long-enough-pw"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    again = client.post("/api/v1/auth/register", json={**body, "password": "another-password"})
    assert again.status_code == 409
    assert _token(client, "twice@example.com", "long-enough-pw").status_code == 200


def test_only_admin_manages_users(client, make_user, login):
    admin = make_user(Role.admin)
    new_user = {"email": "staff1@example.com", "password": "long-enough-pw", "role": "staff"}
    for role in (Role.buyer, Role.farmer, Role.manager, Role.staff):
        headers = login(make_user(role))
        listed = client.get("/api/v1/users", headers=headers)
        assert listed.status_code == 403, role
        assert listed.headers["content-type"].startswith(PROBLEM)
        assert client.post("/api/v1/users", json=new_user, headers=headers).status_code == 403
    assert client.get("/api/v1/users").status_code == 401
    assert client.post("/api/v1/users", json=new_user).status_code == 401

    headers = login(admin)
    created = client.post("/api/v1/users", json=new_user, headers=headers)
    assert created.status_code == 201
    assert created.json()["role"] == "staff"


def test_user_list_paginates_with_a_cursor(client, make_user, login):
    admin = make_user(Role.admin)
    for _ in range(4):
        make_user()
    headers = login(admin)
    first = client.get("/api/v1/users?limit=2", headers=headers).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = client.get(
        f"/api/v1/users?limit=2&cursor={first['next_cursor']}", headers=headers
    ).json()
    third = client.get(
        f"/api/v1/users?limit=2&cursor={second['next_cursor']}", headers=headers
    ).json()
    ids = [u["id"] for page in (first, second, third) for u in page["items"]]
    assert len(ids) == 5
    assert ids == sorted(set(ids))
    assert third["next_cursor"] is None


def test_a_buyer_refused_an_admin_route_changes_nothing(client, make_user, login, session: Session):
    buyer = make_user(Role.buyer)
    before = session.scalar(select(func.count()).select_from(User))
    session.rollback()  # end the read transaction, so the next read sees the app's commits
    response = client.post(
        "/api/v1/users",
        json={"email": "x@example.com", "password": "long-enough-pw", "role": "admin"},
        headers=login(buyer),
    )
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(User)) == before
