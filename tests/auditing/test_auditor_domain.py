"""The auditor in the domains themselves: reads everything, writes nothing — even with the edge
guard switched off. The Actor carries the two capabilities explicitly; services refuse an
auditor's change with 403; with the edge guard off, no API write by an auditor succeeds and
nothing is stored; and the auditor's session refuses to store anything (the third line)."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from api import accounts
from api.models import Role, User
from catalog import service as catalog_service
from catalog.schemas import HouseholdCreate
from core.actor import Actor
from core.errors import DomainError
from governance import monitoring, plans
from tests.governance.conftest import World, world  # noqa: F401 — shared fixture
from training import programmes
from training.schemas import ProviderCreate

AUDITOR = Actor(user_id=999, role="auditor")
NOT_COUNTED = {"auditor_reads", "login_throttles", "login_attempts", "web_sessions"}


def test_the_actor_says_what_each_role_may_do() -> None:
    staff = Actor(user_id=1, role="staff")
    manager = Actor(user_id=2, role="manager", coop_id=1)
    assert (AUDITOR.reads_all, AUDITOR.is_staff, AUDITOR.may_write) == (True, False, False)
    assert (staff.reads_all, staff.is_staff, staff.may_write) == (True, True, True)
    assert (manager.reads_all, manager.is_staff, manager.may_write) == (False, False, True)


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    counts = {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in SQLModel.metadata.sorted_tables
        if table.name not in NOT_COUNTED
    }
    session.rollback()
    return counts


def _writes(place: World) -> dict[str, Callable[[Session], Any]]:
    coop, household = place.coop_a.id or 0, place.h1.id or 0
    plan = plans.PlanCreate.model_validate(
        {"review_on": "2099-01-01", "goals": [{"kind": "skills", "description": "学电商"}]}
    )
    return {
        "create a household": lambda s: catalog_service.create_household(
            s,
            actor=AUDITOR,
            coop_id=coop,
            data=HouseholdCreate(name="新户", household_size=3),
            currency="CNY",
        ),
        "create a training provider": lambda s: programmes.create_provider(
            s, actor=AUDITOR, data=ProviderCreate(name="县农技站")
        ),
        "change monitoring": lambda s: monitoring.set_config(
            s, actor=AUDITOR, values={"poverty_line": 1}
        ),
        "assign a social worker": lambda s: plans.assign(
            s, actor=AUDITOR, household_id=household, worker_id=1, worker_role="social_worker"
        ),
        "open a plan": lambda s: plans.create_plan(
            s,
            actor=AUDITOR,
            household_id=household,
            data=plan,
            today=plan.review_on.replace(year=2026),
        ),
        "create a member account": lambda s: accounts.create_member_account(
            s, actor=AUDITOR, household_id=household, phone_text="13955550001"
        ),
    }


def test_every_domain_refuses_an_auditors_change_and_stores_nothing(
    world: World,  # noqa: F811
    session: Session,
) -> None:
    before = _counts(session)
    for what, write in _writes(world).items():
        with pytest.raises(DomainError) as refused:
            write(session)
        assert refused.value.status_code == 403, what
        session.rollback()
    assert _counts(session) == before


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_with_the_edge_guard_off_no_auditor_write_succeeds(
    app: FastAPI,
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
    make_user: Callable[..., User],
    login: Callable[[User], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("api.deps.refuse_auditor_write", lambda *args, **kwargs: None)
    auditor = login(make_user(Role.auditor))
    before = _counts(session)
    succeeded = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if method == "get" or not operation.get("security"):
                continue
            answer = client.request(method.upper(), _filled(path), headers=auditor, json={})
            if answer.status_code < 400 or answer.status_code >= 500:
                succeeded.append((method, path, answer.status_code))
    assert succeeded == []
    # With real bodies, the domains answer 403 themselves.
    real = [
        ("/api/v1/training/providers", {"name": "县农技站"}),
        (f"/api/v1/households/{world.h1.id}/member-account", {"phone": "13955550002"}),
        (
            f"/api/v1/households/{world.h1.id}/plan",
            {"review_on": "2099-01-01", "goals": [{"kind": "skills", "description": "学电商"}]},
        ),
        (f"/api/v1/coops/{world.coop_a.id}/households", {"name": "新户", "household_size": 3}),
    ]
    for path, body in real:
        answer = client.post(path, headers=auditor, json=body)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert _counts(session) == before


def test_an_auditors_session_stores_nothing_whatever_the_route(
    app: FastAPI,
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
    make_user: Callable[..., User],
    login: Callable[[User], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even a (hypothetical) service that forgot its check cannot store an auditor's change:
    the edge marks the auditor's session, and a flush with changes is refused."""
    from api import auditing

    def mark_only(state: dict[str, object], user: Any, method: str, path: str, s=None) -> None:
        if s is not None and auditing.is_auditor(user):
            s.info[auditing.READ_ONLY] = True

    monkeypatch.setattr("api.deps.refuse_auditor_write", mark_only)
    monkeypatch.setattr(programmes, "require_staff", lambda actor: None)  # the forgotten check
    auditor = login(make_user(Role.auditor))
    before = _counts(session)
    answer = client.post("/api/v1/training/providers", headers=auditor, json={"name": "县农技站"})
    assert answer.status_code == 403, answer.text
    assert answer.json()["type"].endswith("role-refused")
    assert _counts(session) == before


def test_the_auditor_reads_drafts_like_staff_but_may_not_edit_them(
    client: TestClient,
    session: Session,
    world: World,  # noqa: F811
    make_user: Callable[..., User],
    login: Callable[[User], dict[str, str]],
) -> None:
    from tests.catalog import factories

    draft = factories.create_product(session, coop=world.coop_a, status="draft")
    session.commit()
    auditor, staff = login(make_user(Role.auditor)), login(make_user(Role.staff))
    buyer = login(make_user(Role.buyer))
    path = f"/api/v1/products/{draft.id}"
    assert client.get(path, headers=staff).status_code == 200
    assert client.get(path, headers=auditor).status_code == 200
    assert client.get(path, headers=buyer).status_code == 404
    listed = client.get("/api/v1/products?status=draft", headers=auditor)
    assert draft.id in [p["id"] for p in listed.json()["items"]]
    edit = client.patch(path, headers=auditor, json={"status": "active"})
    assert edit.status_code == 403
