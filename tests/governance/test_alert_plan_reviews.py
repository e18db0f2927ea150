"""Alerts from monitoring propose a plan review: an alert on a household a social worker serves
shows on that worker's list with a link to review its plan (or open one when it has none), and the
outbox holds one "plan review proposed" message for each assigned worker — none for workers of
other households, none twice when monitoring runs again."""

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from api.models import Role
from core.time import to_reader_zone
from ledger.base import utcnow
from notify.models import Notification
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, sign_in
from tests.governance.conftest import World, post_sale
from training.income import add_months

AS_OF = date(2026, 11, 15)
TODAY = to_reader_zone(utcnow()).date()
EVERYONE_BELOW = {"line_kind": "absolute", "poverty_line": 10_000_000}


@pytest.fixture
def workers(world: World, client: TestClient, as_role):
    worker, other = world.make_user(Role.social_worker), world.make_user(Role.social_worker)
    for household, user in ((world.h1, worker), (world.h2, worker), (world.h4, other)):
        answer = client.post(
            f"/api/v1/households/{household.id}/social-workers",
            json={"user_id": user.id},
            headers=as_role("staff"),
        )
        assert answer.status_code == 201
    plan = {
        "review_on": (TODAY + timedelta(days=30)).isoformat(),
        "goals": [{"kind": "skills", "description": "学电商"}],
    }
    made = client.post(
        f"/api/v1/households/{world.h1.id}/plan", json=plan, headers=as_role("staff")
    )
    assert made.status_code == 201
    return worker, other


def _run(client: TestClient, as_role, session: Session, world: World) -> None:
    post_sale(
        session, coop_id=world.coop_a.id, on=add_months(AS_OF, -2), shares={world.h1.id or 0: 1000}
    )
    staff = as_role("staff")
    assert (
        client.put(
            "/api/v1/governance/monitoring/config", json=EVERYONE_BELOW, headers=staff
        ).status_code
        == 200
    )
    for _ in range(2):  # a rerun refreshes the same alerts and proposes nothing new
        ran = client.post(
            "/api/v1/governance/monitoring/run", json={"as_of": AS_OF.isoformat()}, headers=staff
        )
        assert ran.status_code == 200, ran.text


def _proposals(session: Session) -> list[Notification]:
    session.expire_all()
    rows = list(
        session.scalars(
            select(Notification)
            .where(col(Notification.kind) == "plan_review_proposed")
            .order_by(col(Notification.id))
        )
    )
    session.commit()
    return rows


def test_an_alert_proposes_a_plan_review_to_the_assigned_worker(
    app, client: TestClient, world: World, as_role, workers, session: Session
) -> None:
    worker, other = workers
    _run(client, as_role, session, world)
    proposals = _proposals(session)
    inbox = [r for r in proposals if r.channel == "inbox"]
    to = {(json.loads(r.payload)["household_id"], r.user_id) for r in inbox}
    # One message per alert and assigned worker; h3 has no social worker: no proposal.
    assert to == {(world.h1.id, worker.id), (world.h2.id, worker.id), (world.h4.id, other.id)}
    assert len(inbox) == 3  # the rerun proposed nothing twice
    by_household = {json.loads(r.payload)["household_id"]: json.loads(r.payload) for r in inbox}
    assert by_household[world.h1.id]["has_plan"] is True
    assert by_household[world.h2.id]["has_plan"] is False

    mine = client.get("/api/v1/social-worker/alerts", headers={**_bearer(client, worker)})
    assert mine.status_code == 200
    listed = {a["household_id"]: a for a in mine.json()}
    assert set(listed) == {world.h1.id, world.h2.id}
    assert listed[world.h1.id]["plan_url"] == f"/social-work/households/{world.h1.id}"
    assert listed[world.h2.id]["has_plan"] is False
    assert client.get("/api/v1/social-worker/alerts", headers=as_role("staff")).status_code == 403

    with TestClient(app) as browser:
        assert sign_in(browser, worker.email, TEST_PASSWORD).status_code == 303
        page = browser.get("/social-work", headers=HTML).text
        assert "复核计划" in page  # h1 has a plan: review it
        assert "制定计划" in page  # h2 has none: open one
        assert f'href="/social-work/households/{world.h2.id}"' in page


def _bearer(client: TestClient, user) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": TEST_PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_only_social_workers_choose_how_plan_reviews_reach_them(
    app, world: World, session: Session
) -> None:
    worker = world.make_user(Role.social_worker)
    farmer = world.user("farmer")
    pages = {}
    for user in (worker, farmer):
        with TestClient(app) as browser:
            assert sign_in(browser, user.email, TEST_PASSWORD).status_code == 303
            page = browser.get("/me/notifications", headers={**HTML, "Accept-Language": "en"})
            assert page.status_code == 200
            pages[user.role] = page.text
    assert "Plan review proposed" in pages["social_worker"]
    assert "Plan review proposed" not in pages["farmer"]
    for text in pages.values():  # a code asked for a moment ago is never switched off
        assert "Password reset code" not in text
