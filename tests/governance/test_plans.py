"""Household development plans: staff assign a social worker, who opens a plan with goals; the
household sees and agrees to it; a settlement moves the plan's income figure; an assigned social
worker reviews it. Bad input and every role that may not see or change the plan are refused,
with nothing stored."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from api.models import Role
from core.time import to_reader_zone
from governance.plan_models import HouseholdPlan, PlanGoal, PlanReview, SocialWorkerAssignment
from ledger.base import utcnow
from tests.governance.conftest import World

TODAY = to_reader_zone(utcnow()).date()
LATER = (TODAY + timedelta(days=90)).isoformat()
INCOME_GOAL: dict[str, Any] = {
    "kind": "income",
    "description": "蜂蜜增收",
    "target_per_capita": 1,
    "target_on": (TODAY + timedelta(days=365)).isoformat(),
}
PLAN_BODY: dict[str, Any] = {
    "review_on": LATER,
    "goals": [
        {
            "kind": "income",
            "description": "蜂蜜增收",
            "target_per_capita": 1,
            "target_on": (TODAY + timedelta(days=365)).isoformat(),
        },
        {"kind": "schooling", "description": "孩子上高中"},
    ],
}
Headers = dict[str, str]


@pytest.fixture
def workers(world: World, login: Callable[..., Headers]) -> dict[str, Any]:
    assigned = world.make_user(Role.social_worker)
    other = world.make_user(Role.social_worker)
    return {
        "assigned": assigned,
        "other": other,
        "h_assigned": login(assigned),
        "h_other": login(other),
    }


def _assign(client: TestClient, as_role: Callable[[str], Headers], household_id: int, user_id: int):
    return client.post(
        f"/api/v1/households/{household_id}/social-workers",
        json={"user_id": user_id},
        headers=as_role("staff"),
    )


def _count(session: Session, model: type) -> int:
    session.expire_all()
    count = session.scalar(select(func.count()).select_from(model)) or 0
    session.commit()  # end the read: the test session later writes (e.g. a new user)
    return count


def test_a_plan_from_assignment_to_agreement_and_review(
    client: TestClient, world: World, as_role, workers, settle_order, session: Session
) -> None:
    hid = world.h1.id
    assert _assign(client, as_role, hid, workers["assigned"].id).status_code == 201
    mine = client.get("/api/v1/social-worker/households", headers=workers["h_assigned"])
    assert [h["id"] for h in mine.json()] == [hid]
    assert client.get("/api/v1/social-worker/households", headers=workers["h_other"]).json() == []

    made = client.post(
        f"/api/v1/households/{hid}/plan", json=PLAN_BODY, headers=workers["h_assigned"]
    )
    assert made.status_code == 201, made.text
    plan = made.json()
    assert [g["kind"] for g in plan["goals"]] == ["income", "schooling"]
    assert plan["agreed"] is False
    assert plan["progress"]["income_per_capita"] == 0
    assert plan["goals"][0]["met"] is False
    assert plan["goals"][1]["met"] is None

    seen = client.get(f"/api/v1/households/{hid}/plan", headers=as_role("farmer"))
    assert seen.status_code == 200
    agreed = client.post(f"/api/v1/households/{hid}/plan/agreement", headers=as_role("farmer"))
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["agreed"] is True
    twice = client.post(f"/api/v1/households/{hid}/plan/agreement", headers=as_role("farmer"))
    assert twice.status_code == 409

    settle_order()  # the household's settled share moves the plan's income figure
    after = client.get(f"/api/v1/households/{hid}/plan", headers=as_role("farmer")).json()
    assert after["progress"]["income_per_capita"] > 0
    assert after["goals"][0]["met"] is True

    review = client.post(
        f"/api/v1/households/{hid}/plan/reviews",
        json={"note": "进展顺利", "next_review_on": LATER},
        headers=workers["h_assigned"],
    )
    assert review.status_code == 201, review.text
    assert [r["note"] for r in review.json()["reviews"]] == ["进展顺利"]

    goal = client.post(
        f"/api/v1/households/{hid}/plan/goals",
        json={"kind": "skills", "description": "电商培训"},
        headers=workers["h_assigned"],
    )
    assert goal.status_code == 201
    assert goal.json()["agreed"] is False  # a changed plan needs the household's agreement again


def test_bad_input_is_refused_and_nothing_is_stored(
    client: TestClient, world: World, as_role, workers, session: Session
) -> None:
    hid = world.h1.id
    _assign(client, as_role, hid, workers["assigned"].id)
    past = {**PLAN_BODY, "goals": [{**INCOME_GOAL, "target_on": "2020-01-01"}]}
    for body in (past, {**PLAN_BODY, "review_on": "2020-01-01"}, {**PLAN_BODY, "goals": []}):
        answer = client.post(
            f"/api/v1/households/{hid}/plan", json=body, headers=workers["h_assigned"]
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert _count(session, HouseholdPlan) == 0
    assert _count(session, PlanGoal) == 0

    # A social worker not assigned to the household neither plans nor reviews.
    refused = client.post(
        f"/api/v1/households/{hid}/plan", json=PLAN_BODY, headers=workers["h_other"]
    )
    assert refused.status_code == 403
    assert (
        client.post(
            f"/api/v1/households/{hid}/plan", json=PLAN_BODY, headers=workers["h_assigned"]
        ).status_code
        == 201
    )
    review = {"note": "未分配", "next_review_on": LATER}
    answer = client.post(
        f"/api/v1/households/{hid}/plan/reviews", json=review, headers=workers["h_other"]
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    staff_review = client.post(
        f"/api/v1/households/{hid}/plan/reviews", json=review, headers=as_role("staff")
    )
    assert staff_review.status_code == 403
    assert _count(session, PlanReview) == 0

    # Only staff assign, only social workers can be assigned.
    farmer = world.user("farmer")
    assert _assign(client, as_role, hid, farmer.id).status_code == 422
    by_manager = client.post(
        f"/api/v1/households/{hid}/social-workers",
        json={"user_id": workers["other"].id},
        headers=as_role("manager_a"),
    )
    assert by_manager.status_code == 403
    assert _count(session, SocialWorkerAssignment) == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("farmer2", 403),  # another household of the same cooperative
        ("farmer_b", 403),
        ("manager_b", 403),  # another cooperative's manager
        ("other_worker", 403),  # a social worker not assigned to this household
        ("farmer", 200),
        ("manager_a", 200),
        ("staff", 200),
        ("assigned_worker", 200),
    ],
)
def test_who_sees_a_plan(
    client: TestClient, world: World, as_role, workers, role: str, status: int
) -> None:
    hid = world.h1.id
    _assign(client, as_role, hid, workers["assigned"].id)
    made = client.post(
        f"/api/v1/households/{hid}/plan", json=PLAN_BODY, headers=workers["h_assigned"]
    )
    assert made.status_code == 201
    headers = {"other_worker": workers["h_other"], "assigned_worker": workers["h_assigned"]}.get(
        role
    )
    answer = client.get(
        f"/api/v1/households/{hid}/plan", headers=headers if headers is not None else as_role(role)
    )
    assert answer.status_code == status, answer.text
    if status != 200:
        assert "蜂蜜增收" not in answer.text


def test_only_the_household_agrees_and_social_workers_touch_no_money(
    client: TestClient, world: World, as_role, workers
) -> None:
    hid = world.h1.id
    _assign(client, as_role, hid, workers["assigned"].id)
    client.post(f"/api/v1/households/{hid}/plan", json=PLAN_BODY, headers=workers["h_assigned"])
    for headers in (
        workers["h_assigned"],
        as_role("staff"),
        as_role("farmer2"),
        as_role("manager_a"),
    ):
        answer = client.post(f"/api/v1/households/{hid}/plan/agreement", headers=headers)
        assert answer.status_code == 403
    worker = workers["h_assigned"]
    for path in (
        "/api/v1/ledger/accounts",
        "/api/v1/reports/payouts",
        f"/api/v1/households/{hid}/payout-history",
        "/api/v1/payouts",
    ):
        assert client.get(path, headers=worker).status_code in (403, 404), path
