"""Password reset by SMS, delivered through the outbox to the local Alibaba SMS endpoint: the same
answer for a member's number and an unknown one (no enumeration), one code sent only to the
member, wrong codes refused and limited, a used code refused, requests per number limited."""

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from api.models import Role
from api.phone_login import set_phone
from notify.delivery import Counts
from notify.models import Notification
from tests.conftest import TEST_PASSWORD
from tests.notify.servers import SmsEndpoint

PHONE = "13933330001"
TEMPLATES = {"password_reset_code": "SMS_200001"}
NEW_PASSWORD = "spring-honey-harvest-26"


@pytest.fixture
def member(session: Session, make_user):
    user = make_user(Role.farmer)
    set_phone(session, user_id=user.id, phone_text=PHONE)
    session.commit()
    return user


def _code(endpoint: SmsEndpoint) -> str:
    (call,) = endpoint.calls
    assert call["PhoneNumbers"] == PHONE
    assert call["TemplateCode"] == "SMS_200001"
    code = json.loads(call["TemplateParam"])["code"]
    assert len(code) == 6
    assert code.isdigit()
    return str(code)


def test_a_member_resets_the_password_with_a_code_by_sms(
    client: TestClient,
    member,
    session: Session,
    sms_endpoint: SmsEndpoint,
    deliver: Callable[..., Counts],
) -> None:
    known = client.post("/api/v1/auth/password-reset", json={"phone": "+86 139 3333 0001"})
    unknown = client.post("/api/v1/auth/password-reset", json={"phone": "13933339999"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()  # nothing tells whether the number has an account
    rows = session.scalars(
        select(Notification).where(col(Notification.kind) == "password_reset_code")
    ).all()
    session.commit()
    assert [(r.channel, r.address) for r in rows] == [("sms", PHONE)]

    deliver(sms_templates=TEMPLATES)
    code = _code(sms_endpoint)
    wrong = "000000" if code != "000000" else "111111"

    body = {"phone": PHONE, "password": NEW_PASSWORD}
    refused = client.post("/api/v1/auth/password-reset/confirm", json={**body, "code": wrong})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    stranger = client.post(
        "/api/v1/auth/password-reset/confirm", json={**body, "phone": "13933339999", "code": code}
    )
    assert stranger.status_code == 422
    done = client.post("/api/v1/auth/password-reset/confirm", json={**body, "code": code})
    assert done.status_code == 200, done.text
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": PHONE, "password": NEW_PASSWORD}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": PHONE, "password": TEST_PASSWORD}
        ).status_code
        == 401
    )
    reused = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={**body, "code": code, "password": NEW_PASSWORD + "!"},
    )
    assert reused.status_code == 422


def test_guesses_and_requests_are_limited(
    client: TestClient, member, sms_endpoint: SmsEndpoint, deliver: Callable[..., Counts]
) -> None:
    assert client.post("/api/v1/auth/password-reset", json={"phone": PHONE}).status_code == 202
    deliver(sms_templates=TEMPLATES)
    code = _code(sms_endpoint)
    wrong = "000000" if code != "000000" else "111111"
    body = {"phone": PHONE, "password": NEW_PASSWORD}
    for _ in range(5):
        guess = client.post("/api/v1/auth/password-reset/confirm", json={**body, "code": wrong})
        assert guess.status_code == 422
    blocked = client.post("/api/v1/auth/password-reset/confirm", json={**body, "code": code})
    assert blocked.status_code == 429  # even the right code: the guesses are spent
    assert "Retry-After" in blocked.headers

    for _ in range(2):  # three codes an hour per number (one was sent above)
        assert client.post("/api/v1/auth/password-reset", json={"phone": PHONE}).status_code == 202
    limited = client.post("/api/v1/auth/password-reset", json={"phone": PHONE})
    assert limited.status_code == 429
    assert (
        client.post("/api/v1/auth/password-reset", json={"phone": "not a phone"}).status_code == 422
    )
