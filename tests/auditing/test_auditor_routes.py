"""The auditor reads everything staff read and changes nothing: route × role over the whole API.

Every GET route of the OpenAPI schema is asked by staff and by an auditor (on the demo data, path
ids 1): the auditor gets exactly the status staff get. Every other route that knows who is asking
refuses the auditor with 403 problem+json and stores nothing. Each auditor request is logged.
"""

import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel, col

from api.auditing import AuditorRead
from api.demo import load_demo
from api.models import Role, User
from api.settings import Settings

Login = Callable[[User], dict[str, str]]
NOT_COUNTED = {"auditor_reads"}


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _api_routes(app: FastAPI, *, get: bool, knows_user: bool = False) -> list[tuple[str, str]]:
    """(method, path) of the OpenAPI schema; `knows_user`: only routes that know who is asking
    (their operation declares the bearer scheme, so the signed-in user is resolved)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if (method == "get") != get:
                continue
            if not knows_user or operation.get("security"):
                found.append((method.upper(), path))
    return found


def _counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in SQLModel.metadata.sorted_tables
        if table.name not in NOT_COUNTED
    }


def test_auditor_gets_what_staff_get_on_every_api_read(
    app: FastAPI,
    client: TestClient,
    session: Session,
    settings: Settings,
    make_user: Callable[..., User],
    login: Login,
) -> None:
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    staff = login(make_user(Role.staff))
    auditor_user = make_user(Role.auditor)
    auditor = login(auditor_user)
    reads = _api_routes(app, get=True)
    assert len(reads) > 30
    allowed, differ = 0, []
    for _method, path in reads:
        url = _filled(path)
        as_staff = client.get(url, headers=staff)
        as_auditor = client.get(url, headers=auditor)
        if as_auditor.status_code != as_staff.status_code:
            differ.append((path, as_staff.status_code, as_auditor.text[:160]))
        allowed += as_auditor.status_code == 200
    assert differ == [], "\n".join(map(str, differ))
    assert allowed > 20  # the demo data makes most reads real answers, not 404s
    session.expire_all()
    logged = session.scalars(
        select(col(AuditorRead.path)).where(col(AuditorRead.user_id) == auditor_user.id)
    ).all()
    # Public reads (no bearer scheme) do not ask who is there: those are not the auditor's.
    assert len(logged) == len(_api_routes(app, get=True, knows_user=True))
    assert "/api/v1/ledger/accounts" in {p.split("?")[0] for p in logged}


def test_every_api_write_by_an_auditor_is_refused_and_stores_nothing(
    app: FastAPI,
    client: TestClient,
    session: Session,
    settings: Settings,
    make_user: Callable[..., User],
    login: Login,
) -> None:
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    auditor = login(make_user(Role.auditor))
    writes = _api_routes(app, get=False, knows_user=True)
    assert len(writes) > 30
    before = _counts(session)
    for method, path in writes:
        response = client.request(method, _filled(path), headers=auditor, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("role-refused"), (method, path)
    assert _counts(session) == before


def test_staff_writes_still_pass_the_same_checks(
    client: TestClient, make_user: Callable[..., User], login: Login
) -> None:
    """The guard is for auditors only: staff create a provider, a buyer is refused as before."""
    staff = login(make_user(Role.staff))
    buyer = login(make_user(Role.buyer))
    body = {"name": "县农技站"}
    assert client.post("/api/v1/training/providers", headers=buyer, json=body).status_code == 403
    made = client.post("/api/v1/training/providers", headers=staff, json=body)
    assert made.status_code in (200, 201), made.text


def test_admin_creates_auditor_and_social_worker_users(
    client: TestClient, make_user: Callable[..., User], login: Login
) -> None:
    admin = login(make_user(Role.admin))
    for role in ("auditor", "social_worker"):
        body = {"email": f"{role}@example.org", "password": "long-enough-pw-2026", "role": role}
        response = client.post("/api/v1/users", headers=admin, json=body)
        assert response.status_code == 201, response.text
        assert response.json()["role"] == role
    staff = login(make_user(Role.staff))
    refused = client.post(
        "/api/v1/users",
        headers=staff,
        json={"email": "x@example.org", "password": "long-enough-pw-2026", "role": "auditor"},
    )
    assert refused.status_code == 403


def test_the_read_log_tells_who_read_what_and_is_itself_read_only(
    client: TestClient, make_user: Callable[..., User], login: Login
) -> None:
    auditor_user = make_user(Role.auditor)
    auditor = login(auditor_user)
    staff = login(make_user(Role.staff))
    buyer = login(make_user(Role.buyer))
    assert client.get("/api/v1/ledger/accounts?limit=5", headers=auditor).status_code == 200
    assert client.get("/api/v1/ledger/accounts", headers=staff).status_code == 200
    log = client.get(f"/api/v1/audit/auditor-reads?user_id={auditor_user.id}", headers=staff)
    assert log.status_code == 200
    (row,) = log.json()["items"]  # staff's own reads are not logged
    assert (row["user_id"], row["method"], row["path"]) == (
        auditor_user.id,
        "GET",
        "/api/v1/ledger/accounts?limit=5",
    )
    assert client.get("/api/v1/audit/auditor-reads", headers=auditor).status_code == 200
    assert client.get("/api/v1/audit/auditor-reads", headers=buyer).status_code == 403
    assert client.get("/api/v1/audit/auditor-reads").status_code == 401
