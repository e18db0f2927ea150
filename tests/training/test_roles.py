# mypy: disable-error-code="arg-type,union-attr"
"""Every training route × every role: who gets in, who is refused (401, 403, or 404 for what
they may not even see). Refused roles go first, so an allowed change comes last."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import select

from tests.training.conftest import STAFF, TODAY, settle_share
from training import enrolments
from training.models import ProgrammeSession
from training.schemas import EnrolmentCreate

API = "/api/v1/training"


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {p} programme, {e} enrolment, {h} household A, {entry} a settlement entry
    expect: dict[str, int]
    body: dict[str, Any] | None = None
    stage: str = "applied"  # the enrolment's state before the call: applied | attending
    extra: dict[str, Any] = field(default_factory=dict)


NOT_STAFF = {"anonymous": 401, "buyer": 403, "farmer_a": 403, "manager_a": 403}
EVERYONE_OK = {
    r: 200
    for r in (
        "anonymous",
        "buyer",
        "farmer_a",
        "farmer_b",
        "manager_a",
        "manager_b",
        "staff",
        "admin",
    )
}
PROGRAMME = {
    "provider_id": "{prov}",
    "title": {"zh": "记账"},
    "skill_area": "bookkeeping",
    "capacity": 3,
    "seat_cost": {"amount": 100, "currency": "CNY"},
    "funding": {"source": "enterprise"},
    "min_attendance": 0,
}
SEEING = {
    "anonymous": 401,
    "buyer": 404,
    "farmer_b": 404,
    "manager_b": 404,
    "farmer_a": 200,
    "manager_a": 200,
    "staff": 200,
    "admin": 200,
}

CASES = {
    "create provider": Case(
        "POST", "/providers", {**NOT_STAFF, "staff": 201, "admin": 201}, {"name": "学校"}
    ),
    "list providers": Case("GET", "/providers", {**NOT_STAFF, "staff": 200, "admin": 200}),
    "create programme": Case(
        "POST", "/programmes", {**NOT_STAFF, "staff": 201, "admin": 201}, PROGRAMME
    ),
    "list programmes": Case("GET", "/programmes", EVERYONE_OK),
    "read programme": Case("GET", "/programmes/{p}", EVERYONE_OK),
    "update programme": Case(
        "PATCH", "/programmes/{p}", {**NOT_STAFF, "staff": 200, "admin": 200}, {"capacity": 9}
    ),
    "apply": Case(
        "POST",
        "/programmes/{p}/enrolments",
        {"anonymous": 401, "buyer": 403, "farmer_a": 409, "manager_a": 422, "farmer_b": 201},
        {},
    ),
    "manager applies for a member": Case(
        "POST",
        "/programmes/{p}/enrolments",
        {"manager_a": 403, "staff": 201},
        {"household_id": "{hb}"},
    ),
    "list programme enrolments": Case(
        "GET",
        "/programmes/{p}/enrolments",
        {
            "anonymous": 401,
            "buyer": 403,
            "farmer_a": 403,
            "manager_a": 200,
            "manager_b": 200,
            "staff": 200,
            "admin": 200,
        },
    ),
    "priority": Case(
        "GET",
        "/programmes/{p}/priority",
        {**NOT_STAFF, "manager_b": 403, "staff": 200, "admin": 200},
    ),
    "my enrolments": Case(
        "GET",
        "/me/enrolments",
        {
            "anonymous": 401,
            "buyer": 403,
            "manager_a": 403,
            "staff": 403,
            "farmer_a": 200,
            "farmer_b": 200,
        },
    ),
    "household enrolments": Case(
        "GET",
        "/households/{h}/enrolments",
        {
            "anonymous": 401,
            "buyer": 403,
            "farmer_b": 403,
            "manager_b": 403,
            "farmer_a": 200,
            "manager_a": 200,
            "staff": 200,
            "admin": 200,
        },
    ),
    "read enrolment": Case("GET", "/enrolments/{e}", SEEING),
    "enrolment deductions": Case("GET", "/enrolments/{e}/deductions", SEEING),
    "accept": Case(
        "POST",
        "/enrolments/{e}/accept",
        {**NOT_STAFF, "manager_b": 403, "farmer_b": 403, "staff": 200},
    ),
    "attendance": Case(
        "POST",
        "/enrolments/{e}/attendance",
        {**NOT_STAFF, "farmer_b": 403, "staff": 200, "admin": 200},
        {"session_id": "{s}"},
        stage="accepted",
    ),
    "complete": Case(
        "POST",
        "/enrolments/{e}/complete",
        {**NOT_STAFF, "manager_b": 403, "admin": 200},
        {"certificate_number": "C-9"},
        stage="attending",
    ),
    "drop": Case(
        "POST",
        "/enrolments/{e}/drop",
        {
            "anonymous": 401,
            "buyer": 404,
            "farmer_b": 404,
            "manager_b": 404,
            "manager_a": 403,
            "farmer_a": 200,
            "staff": 409,
        },
        {},
    ),
    "deduct a settlement": Case(
        "POST", "/deductions/settlements/{entry}", {**NOT_STAFF, "staff": 200, "admin": 200}
    ),
    "deduction sweep": Case("POST", "/deductions/run", {**NOT_STAFF, "staff": 200, "admin": 200}),
    "outcomes": Case("GET", "/programmes/{p}/outcomes", EVERYONE_OK),
    "outcomes csv": Case("GET", "/programmes/{p}/outcomes.csv", EVERYONE_OK),
}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        for name, number in ids.items():
            if value == "{" + name + "}":
                return number
            value = value.replace("{" + name + "}", str(number))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_route_roles(client, world, as_role, name):
    case = CASES[name]
    session = world.session
    programme = world.programme(funding={"source": "enterprise"})
    enrolment = enrolments.apply(
        session,
        actor=STAFF,
        programme_id=programme.id,
        data=EnrolmentCreate(household_id=world.household_a.id),
    )
    held = session.scalars(
        select(ProgrammeSession).where(ProgrammeSession.programme_id == programme.id)
    ).first()
    if case.stage in ("accepted", "attending"):
        enrolments.accept(session, actor=STAFF, enrolment_id=enrolment.id)
    if case.stage == "attending":
        enrolments.mark_attendance(
            session, actor=STAFF, enrolment_id=enrolment.id, session_id=held.id, present=True
        )
    entry = settle_share(session, world.household_a.id, 1_000, on=TODAY)
    session.commit()
    ids = {
        "p": programme.id,
        "e": enrolment.id,
        "h": world.household_a.id,
        "hb": world.household_b.id,
        "s": held.id,
        "entry": entry,
        "prov": world.provider.id,
    }
    path = API + _fill(case.path, ids)
    body = _fill(case.body, ids) if case.body is not None else None
    for role, expected in case.expect.items():
        response = client.request(case.method, path, json=body, headers=as_role(role))
        assert response.status_code == expected, f"{name} as {role}: {response.text}"
        if expected >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")


def test_drafts_are_hidden_from_everyone_but_staff(client, world, as_role):
    draft = world.programme(status="draft")
    for role in ("anonymous", "buyer", "farmer_a", "manager_a"):
        assert client.get(f"{API}/programmes/{draft.id}", headers=as_role(role)).status_code == 404
        outcome = client.get(f"{API}/programmes/{draft.id}/outcomes", headers=as_role(role))
        assert outcome.status_code == 404
    assert client.get(f"{API}/programmes/{draft.id}", headers=as_role("staff")).status_code == 200


def test_managers_see_only_their_members_enrolments(client, world, as_role):
    programme = world.programme()
    for farmer in ("farmer_a", "farmer_b"):
        client.post(f"{API}/programmes/{programme.id}/enrolments", json={}, headers=as_role(farmer))
    mine = client.get(
        f"{API}/programmes/{programme.id}/enrolments", headers=as_role("manager_a")
    ).json()["items"]
    assert [e["household_id"] for e in mine] == [world.household_a.id]
    everyone = client.get(
        f"{API}/programmes/{programme.id}/enrolments", headers=as_role("staff")
    ).json()["items"]
    assert len(everyone) == 2
