"""Plan pages without JavaScript: the social worker opens a plan on a form (bad dates come back
with what was typed and a message in the reader's language, nothing stored); the farmer sees
"my plan" and agrees; other households, buyers, other managers and the public are refused."""

import re
from collections import deque
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.models import Role
from core.time import to_reader_zone
from governance.plan_models import HouseholdPlan
from ledger.base import utcnow
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.governance.conftest import World

LATER = (to_reader_zone(utcnow()).date() + timedelta(days=60)).isoformat()


def _plans(session: Session) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(HouseholdPlan)) or 0
    session.commit()
    return count


@pytest.fixture
def worker(world: World, session: Session):
    user = world.make_user(Role.social_worker)
    for role in ("farmer", "farmer2", "buyer", "manager_a", "manager_b", "staff"):
        world.user(role)
    return user


def _assign(client: TestClient, as_role, world: World, worker) -> None:
    answer = client.post(
        f"/api/v1/households/{world.h1.id}/social-workers",
        json={"user_id": worker.id},
        headers=as_role("staff"),
    )
    assert answer.status_code == 201


def _open(client: TestClient, page: str, **form: str):
    token = csrf_token(client, page)
    return client.post(
        page, data={**form, "csrf_token": token}, headers=HTML, follow_redirects=False
    )


def test_the_social_worker_opens_a_plan_and_the_farmer_agrees(
    app, client: TestClient, world: World, worker, as_role, session: Session
) -> None:
    _assign(client, as_role, world, worker)
    assert sign_in(client, worker.email, TEST_PASSWORD).status_code == 303
    listing = client.get("/social-work", headers=HTML)
    assert 'href="/social-work"' in listing.text  # in the social worker's menu
    assert world.h1.name in listing.text
    assert world.h2.name not in listing.text
    page = f"/social-work/households/{world.h1.id}"
    bad = _open(
        client,
        page,
        kind="income",
        description="养蜂增收",
        target="3000",
        target_on="2020-01-01",
        review_on=LATER,
    )
    assert bad.status_code == 422
    assert "养蜂增收" in bad.text  # what was typed comes back
    assert "日期" in bad.text  # the message in the reader's language (zh-CN by default)
    assert _plans(session) == 0
    made = _open(
        client, page, kind="income", description="养蜂增收", target="3000", review_on=LATER
    )
    assert made.status_code == 303
    assert _plans(session) == 1
    shown = client.get(page, headers=HTML)
    assert "养蜂增收" in shown.text
    assert "¥3,000.00" in shown.text
    for link in ("/ledger", "/payout"):
        assert f'href="{link}' not in shown.text  # no money controls for social workers

    with TestClient(app) as farmer:
        assert sign_in(farmer, world.user("farmer").email, TEST_PASSWORD).status_code == 303
        mine = farmer.get("/plan", headers=HTML)
        assert 'href="/plan"' in farmer.get("/", headers=HTML).text  # in the farmer's menu
        assert "养蜂增收" in mine.text
        token = csrf_token(farmer, "/plan")
        agreed = farmer.post(
            "/plan/agree", data={"csrf_token": token}, headers=HTML, follow_redirects=False
        )
        assert agreed.status_code == 303, agreed.headers
        assert agreed.headers["location"] == "/plan"
        assert "农户已同意这份计划" in farmer.get("/plan", headers=HTML).text
    session.commit()  # a fresh snapshot: the farmer's agreement was committed by the app
    plan = session.scalars(select(HouseholdPlan)).one()
    assert plan.agreed_by == world.user("farmer").id


@pytest.mark.parametrize("role", ["farmer2", "buyer", "manager_b"])
def test_others_do_not_see_the_plan_page(
    app, client: TestClient, world: World, worker, as_role, role: str
) -> None:
    _assign(client, as_role, world, worker)
    made = client.post(
        f"/api/v1/households/{world.h1.id}/plan",
        json={"review_on": LATER, "goals": [{"kind": "health", "description": "看病报销"}]},
        headers=as_role("staff"),
    )
    assert made.status_code == 201
    with TestClient(app, raise_server_exceptions=False) as other:
        assert sign_in(other, world.user(role).email, TEST_PASSWORD).status_code == 303
        answer = other.get(f"/social-work/households/{world.h1.id}", headers=HTML)
        assert answer.status_code == 403
        assert "看病报销" not in answer.text
        mine = other.get("/plan", headers=HTML)
        assert "看病报销" not in mine.text
    with TestClient(app, raise_server_exceptions=False) as public:
        answer = public.get(
            f"/social-work/households/{world.h1.id}", headers=HTML, follow_redirects=False
        )
        assert answer.status_code == 303
        assert "看病报销" not in answer.text


PLAN_SECRET = "家庭计划 PLAN-SECRET 负债三万"
HREF = re.compile(r'(?:href|action)="(/[^"]*)"')
SKIP = ("/login", "/logout", "/locale", "/static/", "/docs", "/openapi.json", "/register")


def _crawl(client: TestClient, start: list[str], limit: int = 150) -> set[str]:
    """Follow every same-site link from `start`; fail if the plan's text shows anywhere."""
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        body = client.get(path, headers={} if path.startswith("/api/") else HTML).text
        assert "PLAN-SECRET" not in body, f"the plan leaked on {path}"
        queue.extend(
            link.replace("&amp;", "&").split("#")[0]
            for link in HREF.findall(body)
            if not link.startswith(SKIP)
        )
    return seen


@pytest.mark.parametrize("role", ["anonymous", "farmer", "buyer", "manager_b", "other_worker"])
def test_privacy_crawl_never_shows_another_households_plan(
    app, client: TestClient, world: World, worker, as_role, role: str
) -> None:
    """h2's plan: crawled by the public, h1's farmer, a buyer, coop B's manager, a social worker
    not assigned to h2 — from the home page, "my plan", the social work pages and the API."""
    client.post(
        f"/api/v1/households/{world.h2.id}/social-workers",
        json={"user_id": worker.id},
        headers=as_role("staff"),
    )
    made = client.post(
        f"/api/v1/households/{world.h2.id}/plan",
        json={"review_on": LATER, "goals": [{"kind": "income", "description": PLAN_SECRET}]},
        headers=as_role("staff"),
    )
    assert made.status_code == 201
    other_worker = world.make_user(Role.social_worker)
    with TestClient(app, raise_server_exceptions=False) as visitor:
        if role != "anonymous":
            user = other_worker if role == "other_worker" else world.user(role)
            assert sign_in(visitor, user.email, TEST_PASSWORD).status_code == 303
        seen = _crawl(
            visitor,
            [
                "/",
                "/plan",
                "/social-work",
                f"/social-work/households/{world.h2.id}",
                f"/api/v1/households/{world.h2.id}/plan",
                "/api/v1/social-worker/households",
                f"/coops/{world.coop_a.id}",
            ],
        )
        assert len(seen) > 5
    # The crawl looks for something real: the plan is there for those who may see it.
    assert (
        "PLAN-SECRET"
        in client.get(
            f"/api/v1/households/{world.h2.id}/plan",
            headers=as_role("farmer2"),
        ).text
    )
