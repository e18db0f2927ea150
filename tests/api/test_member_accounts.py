"""A manager creates a member's account by phone and prints a one-time sign-in card: the card's URL
is built from HEZUO_PUBLIC_URL; the card signs in once and sets the first password; a used,
replaced or expired card is refused (410). Only the cooperative's manager or staff may do it; an
auditor, another cooperative's manager or a farmer are refused with nothing stored."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from api.accounts import MEMBER_EMAIL_DOMAIN, SignInCard
from api.models import Role, User
from api.phone_login import UserPhone
from catalog.models import Cooperative, Household
from ledger.base import utcnow
from tests.catalog import factories

Login = Callable[[User], dict[str, str]]
NEW_PASSWORD = "honey-bees-2026-spring"


@dataclass
class Coops:
    a: Cooperative
    b: Cooperative
    household: Household  # in coop a, no account yet


@pytest.fixture
def coops(session: Session) -> Coops:
    a = factories.create_coop(session, code="SJ")
    b = factories.create_coop(session, code="HX", village="红星村")
    household = factories.create_household(session, coop=a, name="王芳")
    session.commit()
    return Coops(a, b, household)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()
    return count


def _token_of(url: str) -> str:
    return url.rsplit("/card/", 1)[1]


def test_a_card_signs_a_new_member_in_once_and_sets_the_password(
    client: TestClient, session: Session, coops: Coops, make_user, login: Login
) -> None:
    manager = login(make_user(Role.manager, coop_id=coops.a.id))
    hid = coops.household.id
    made = client.post(
        f"/api/v1/households/{hid}/member-account",
        json={"phone": "+86 139 2222 0001"},
        headers=manager,
    )
    assert made.status_code == 201, made.text
    assert made.json()["phone"] == "13922220001"
    member = session.get(User, made.json()["user_id"])
    assert member is not None
    assert (member.role, member.household_id) == ("farmer", hid)
    assert member.email.endswith(MEMBER_EMAIL_DOMAIN)
    session.commit()

    card = client.post(
        f"/api/v1/households/{hid}/sign-in-cards",
        headers={**manager, "Host": "evil.example"},
    )
    assert card.status_code == 201, card.text
    url = card.json()["url"]
    assert url.startswith("http://127.0.0.1:8000/card/")  # HEZUO_PUBLIC_URL, not the Host
    lifetime = datetime.fromisoformat(card.json()["expires_at"]) - utcnow()
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)  # the default day
    token = _token_of(url)
    stored = session.scalars(select(col(SignInCard.token_hash))).all()
    session.commit()
    assert token not in stored  # only a digest is kept

    # No password works before the card is spent.
    early = client.post("/api/v1/auth/token", data={"username": "13922220001", "password": "x"})
    assert early.status_code == 401
    weak = client.post("/api/v1/auth/sign-in-card", json={"token": token, "password": "123456"})
    assert weak.status_code == 422
    spent = client.post(
        "/api/v1/auth/sign-in-card", json={"token": token, "password": NEW_PASSWORD}
    )
    assert spent.status_code == 200, spent.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {spent.json()['access_token']}"}
    )
    assert me.json()["id"] == member.id
    again = client.post(
        "/api/v1/auth/sign-in-card", json={"token": token, "password": NEW_PASSWORD + "x"}
    )
    assert again.status_code == 410
    assert again.headers["content-type"].startswith("application/problem+json")
    by_phone = client.post(
        "/api/v1/auth/token", data={"username": "139 2222 0001", "password": NEW_PASSWORD}
    )
    assert by_phone.status_code == 200  # the first password, not the refused second one


def test_a_new_card_voids_the_old_one_and_an_expired_card_is_refused(
    client: TestClient, session: Session, coops: Coops, make_user, login: Login
) -> None:
    staff = login(make_user(Role.staff))
    hid = coops.household.id
    client.post(
        f"/api/v1/households/{hid}/member-account", json={"phone": "13922220002"}, headers=staff
    )
    first = _token_of(
        client.post(f"/api/v1/households/{hid}/sign-in-cards", headers=staff).json()["url"]
    )
    second = _token_of(
        client.post(f"/api/v1/households/{hid}/sign-in-cards", headers=staff).json()["url"]
    )
    body = {"password": NEW_PASSWORD}
    assert (
        client.post("/api/v1/auth/sign-in-card", json={"token": first, **body}).status_code == 410
    )
    session.execute(update(SignInCard).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert (
        client.post("/api/v1/auth/sign-in-card", json={"token": second, **body}).status_code == 410
    )
    unknown = client.post("/api/v1/auth/sign-in-card", json={"token": "x" * 43, **body})
    assert unknown.status_code == 410


def test_who_may_create_accounts_and_print_cards(
    client: TestClient, session: Session, coops: Coops, make_user, login: Login
) -> None:
    hid = coops.household.id
    neighbour = factories.create_household(session, coop=coops.a, name="李四")
    session.commit()
    refused = {
        "auditor": login(make_user(Role.auditor)),
        "other manager": login(make_user(Role.manager, coop_id=coops.b.id)),
        "farmer": login(make_user(Role.farmer, coop_id=coops.a.id, household_id=neighbour.id)),
        "social worker": login(make_user(Role.social_worker)),
    }
    users_before = _count(session, User)
    for who, headers in refused.items():
        answer = client.post(
            f"/api/v1/households/{hid}/member-account",
            json={"phone": "13922220003"},
            headers=headers,
        )
        assert answer.status_code == 403, (who, answer.text)
        card = client.post(f"/api/v1/households/{hid}/sign-in-cards", headers=headers)
        assert card.status_code == 403, (who, card.text)
    assert client.post(f"/api/v1/households/{hid}/sign-in-cards").status_code == 401
    assert _count(session, User) == users_before
    assert _count(session, SignInCard) == 0

    manager = login(make_user(Role.manager, coop_id=coops.a.id))
    bad = client.post(
        f"/api/v1/households/{hid}/member-account", json={"phone": "12345678901"}, headers=manager
    )
    assert bad.status_code == 422
    no_account = client.post(f"/api/v1/households/{hid}/sign-in-cards", headers=manager)
    assert no_account.status_code == 404
    ok = client.post(
        f"/api/v1/households/{hid}/member-account", json={"phone": "13922220003"}, headers=manager
    )
    assert ok.status_code == 201
    twice = client.post(
        f"/api/v1/households/{hid}/member-account", json={"phone": "13922220004"}, headers=manager
    )
    assert twice.status_code == 409
    assert _count(session, UserPhone) == 1
