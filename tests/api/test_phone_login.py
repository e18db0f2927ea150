"""Signing in with a mainland mobile number: an admin records it; the token route and the login
page accept it (with spaces or +86); a wrong password still fails and counts against the account;
bad or taken numbers are refused with nothing stored."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.models import Role, User
from api.phone_login import UserPhone, normalize_mobile
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import sign_in

Login = Callable[[User], dict[str, str]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13911110001", "13911110001"),
        ("+86 139-1111-0001", "13911110001"),
        ("0086 13911110001", "13911110001"),
        ("12911110001", None),  # no mobile network starts 12
        ("1391111000", None),
        ("farmer@example.org", None),
    ],
)
def test_mainland_mobile_numbers(text: str, expected: str | None) -> None:
    assert normalize_mobile(text) == expected


def test_a_farmer_signs_in_with_a_mobile_number(
    client: TestClient, make_user: Callable[..., User], login: Login, session: Session
) -> None:
    admin = login(make_user(Role.admin))
    farmer = make_user(Role.farmer)
    put = client.put(
        f"/api/v1/users/{farmer.id}/phone", json={"phone": "+86 139 1111 0001"}, headers=admin
    )
    assert put.status_code == 200, put.text
    assert put.json()["phone"] == "13911110001"

    token = client.post(
        "/api/v1/auth/token", data={"username": "139-1111-0001", "password": TEST_PASSWORD}
    )
    assert token.status_code == 200, token.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["id"] == farmer.id

    wrong = client.post(
        "/api/v1/auth/token", data={"username": "13911110001", "password": "wrong-pass"}
    )
    assert wrong.status_code == 401
    unknown = client.post(
        "/api/v1/auth/token", data={"username": "13911119999", "password": TEST_PASSWORD}
    )
    assert unknown.status_code == 401

    page = sign_in(client, "13911110001", TEST_PASSWORD)
    assert page.status_code == 303


def test_bad_or_taken_numbers_are_refused(
    client: TestClient, make_user: Callable[..., User], login: Login, session: Session
) -> None:
    admin = login(make_user(Role.admin))
    first, second = make_user(Role.farmer), make_user(Role.farmer)
    assert (
        client.put(
            f"/api/v1/users/{first.id}/phone", json={"phone": "13911110001"}, headers=admin
        ).status_code
        == 200
    )
    taken = client.put(
        f"/api/v1/users/{second.id}/phone", json={"phone": "13911110001"}, headers=admin
    )
    assert taken.status_code == 409
    bad = client.put(
        f"/api/v1/users/{second.id}/phone", json={"phone": "12345678901"}, headers=admin
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    by_staff = client.put(
        f"/api/v1/users/{second.id}/phone",
        json={"phone": "13911110002"},
        headers=login(make_user(Role.staff)),
    )
    assert by_staff.status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(UserPhone)) == 1
