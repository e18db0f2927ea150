"""Group and community work over the API: groups with sessions and attendance, consultations
(one answer per member household, results only once closed, never an individual answer),
beneficiary feedback (aggregated only for large enough groups, in the monthly disclosure) and
the impact figures. Every route is asked by those who may not use it: a buyer, a farmer of
another household, another cooperative's manager, a social worker not assigned, an auditor's
write; each refusal is problem+json and stores nothing."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from api.models import Role
from core.actor import Actor
from core.time import to_reader_zone
from governance import disclosures, impact, plans
from governance.community_models import (
    BeneficiaryFeedback,
    CommunityGroup,
    Consultation,
    ConsultationAnswer,
    GroupSession,
)
from governance.models import Alert
from ledger.base import utcnow
from tests.governance.community_helpers import completed_enrolments
from tests.governance.conftest import World, post_sale

TODAY = to_reader_zone(utcnow()).date()
Headers = dict[str, str]
AsRole = Callable[[str], Headers]


def _count(session: Session, table: type[SQLModel]) -> int:
    session.commit()  # a transaction left open would read its old snapshot (SQLite)
    count = session.scalar(select(func.count()).select_from(table)) or 0
    session.commit()
    return count


def _problem(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def workers(world: World, login: Callable[..., Headers]) -> dict[str, Any]:
    assigned = world.make_user(Role.social_worker)
    other = world.make_user(Role.social_worker)
    return {"assigned": assigned, "h_assigned": login(assigned), "h_other": login(other)}


@pytest.fixture
def auditor(world: World, login: Callable[..., Headers]) -> Headers:
    return login(world.make_user(Role.auditor))


# --- Groups ---------------------------------------------------------------------------------


def _group(client: TestClient, world: World, as_role: AsRole, workers: dict[str, Any]) -> dict:
    made = client.post(
        f"/api/v1/coops/{world.coop_a.id}/groups",
        json={
            "name": "蜂蜜合作小组",
            "purpose": "养蜂技术交流",
            "household_ids": [world.h1.id, world.h2.id],
            "social_worker_ids": [workers["assigned"].id],
        },
        headers=as_role("manager_a"),
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_manager_makes_a_group_and_its_social_worker_records_a_session(
    client: TestClient, world: World, as_role: AsRole, workers: dict[str, Any], session: Session
) -> None:
    group = _group(client, world, as_role, workers)
    assert group["household_ids"] == sorted([world.h1.id or 0, world.h2.id or 0])
    body = {
        "held_on": TODAY.isoformat(),
        "topic": "蜂箱过冬",
        "notes": "王家蜂群偏弱",
        "attended": [world.h1.id],
    }
    url = f"/api/v1/groups/{group['id']}/sessions"
    made = client.post(url, json=body, headers=workers["h_assigned"])
    assert made.status_code == 201, made.text
    (held,) = made.json()["sessions"]
    assert (held["topic"], held["attended"]) == ("蜂箱过冬", [world.h1.id])
    # A member of another cooperative, or someone not in the group, cannot be marked present.
    bad = client.post(url, json={**body, "attended": [world.h4.id]}, headers=workers["h_assigned"])
    _problem(bad, 422)
    future = {**body, "held_on": (TODAY + timedelta(days=3)).isoformat()}
    _problem(client.post(url, json=future, headers=workers["h_assigned"]), 422)
    assert _count(session, GroupSession) == 1
    listing = client.get(f"/api/v1/coops/{world.coop_a.id}/groups", headers=workers["h_assigned"])
    assert [g["id"] for g in listing.json()["items"]] == [group["id"]]


@pytest.mark.parametrize("role", ["buyer", "farmer", "manager_b", "other_worker", "anonymous"])
def test_groups_refuse_who_does_not_run_them(
    client: TestClient,
    world: World,
    as_role: AsRole,
    workers: dict[str, Any],
    session: Session,
    role: str,
) -> None:
    group = _group(client, world, as_role, workers)
    headers = workers["h_other"] if role == "other_worker" else as_role(role)
    expected = 401 if role == "anonymous" else 403
    session_body = {"held_on": TODAY.isoformat(), "topic": "x", "attended": []}
    gid = group["id"]
    for method, url, body in [
        ("GET", f"/api/v1/groups/{gid}", None),
        ("POST", f"/api/v1/groups/{gid}/sessions", session_body),
        ("POST", f"/api/v1/groups/{gid}/members", {"household_id": world.h3.id}),
        ("POST", f"/api/v1/coops/{world.coop_a.id}/groups", {"name": "另一个组"}),
    ]:
        _problem(client.request(method, url, json=body, headers=headers), expected)
    if role != "other_worker":  # a social worker sees (only) the groups assigned to them
        _problem(client.get(f"/api/v1/coops/{world.coop_a.id}/groups", headers=headers), expected)
    assert _count(session, CommunityGroup) == 1
    assert _count(session, GroupSession) == 0


def test_a_group_takes_only_its_cooperatives_households_and_real_social_workers(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    url = f"/api/v1/coops/{world.coop_a.id}/groups"
    other_coop = {"name": "组", "household_ids": [world.h4.id]}
    _problem(client.post(url, json=other_coop, headers=as_role("manager_a")), 422)
    no_training = {"name": "组", "programme_id": 999}
    _problem(client.post(url, json=no_training, headers=as_role("manager_a")), 422)
    not_worker = {"name": "组", "social_worker_ids": [world.user("buyer").id]}
    _problem(client.post(url, json=not_worker, headers=as_role("manager_a")), 422)
    assert _count(session, CommunityGroup) == 0


# --- Consultations --------------------------------------------------------------------------


def _consultation(
    client: TestClient, world: World, as_role: AsRole, session: Session, **body: Any
) -> int:
    made = client.post(
        f"/api/v1/coops/{world.coop_a.id}/consultations",
        json={
            "question": "明年村里先修哪条路？",
            "options": ["东头的路", "西头的路"],
            "opens_on": TODAY.isoformat(),
            "closes_on": (TODAY + timedelta(days=7)).isoformat(),
            **body,
        },
        headers=as_role("manager_a"),
    )
    assert made.status_code == 201, made.text
    assert made.json()["phase"] == "open"
    return int(made.json()["id"])


def _close(session: Session, consultation_id: int) -> None:
    """Move the consultation's dates into the past (as if a week went by)."""
    row = session.get(Consultation, consultation_id)
    assert row is not None
    row.opens_on = TODAY - timedelta(days=8)
    row.closes_on = TODAY - timedelta(days=1)
    session.add(row)
    session.commit()


def test_one_answer_per_household_and_results_only_once_closed(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    cid = _consultation(client, world, as_role, session)
    options = client.get(f"/api/v1/consultations/{cid}").json()["options"]
    east, west = options[0]["id"], options[1]["id"]
    url = f"/api/v1/consultations/{cid}/answers"
    assert client.post(url, json={"option_id": east}, headers=as_role("farmer")).status_code == 201
    again = client.post(url, json={"option_id": west}, headers=as_role("farmer"))
    _problem(again, 409)
    assert again.json()["type"].endswith("already-done")
    _problem(client.post(url, json={"option_id": east}, headers=as_role("farmer_b")), 403)
    _problem(client.post(url, json={"option_id": 999}, headers=as_role("farmer2")), 422)
    for role in ("buyer", "manager_a", "staff"):
        _problem(client.post(url, json={"option_id": east}, headers=as_role(role)), 403)
    assert client.post(url, json={"option_id": east}, headers=as_role("farmer2")).status_code == 201
    assert _count(session, ConsultationAnswer) == 2
    # While open nobody — not even the public JSON — sees counts.
    running = client.get(f"/api/v1/consultations/{cid}").json()
    assert running["results"] is None
    assert all(o["count"] is None for o in running["options"])
    reply = {"reply": "先修东头的路，明年春天开工。"}
    _problem(
        client.post(f"/api/v1/consultations/{cid}/reply", json=reply, headers=as_role("manager_a")),
        409,
    )
    _close(session, cid)
    _problem(client.post(url, json={"option_id": east}, headers=as_role("farmer3")), 409)
    _problem(
        client.post(f"/api/v1/consultations/{cid}/reply", json=reply, headers=as_role("manager_b")),
        403,
    )
    answered = client.post(
        f"/api/v1/consultations/{cid}/reply", json=reply, headers=as_role("manager_a")
    )
    assert answered.status_code == 200, answered.text
    public = client.get(f"/api/v1/coops/{world.coop_a.id}/consultations").json()["items"][0]
    assert [o["count"] for o in public["options"]] == [2, 0]
    assert public["results"] == {"answers": 2, "households": 3}
    assert public["reply"] == reply["reply"]
    assert "household" not in str(public["options"])  # counts, never who


def test_free_answers_are_read_only_by_the_cooperative_and_without_names(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    cid = _consultation(client, world, as_role, session, options=[])
    url = f"/api/v1/consultations/{cid}/answers"
    _problem(client.post(url, json={"text": "  "}, headers=as_role("farmer")), 422)
    made = client.post(url, json={"text": "希望办电商培训"}, headers=as_role("farmer"))
    assert made.status_code == 201
    texts = client.get(f"/api/v1/consultations/{cid}/free-answers", headers=as_role("manager_a"))
    assert texts.json()["items"] == ["希望办电商培训"]
    for role in ("farmer2", "buyer", "manager_b"):
        refused = client.get(f"/api/v1/consultations/{cid}/free-answers", headers=as_role(role))
        _problem(refused, 403)
    _close(session, cid)
    public = client.get(f"/api/v1/consultations/{cid}").text
    assert "希望办电商培训" not in public


def test_consultation_dates_and_organisers_are_checked(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    url = f"/api/v1/coops/{world.coop_a.id}/consultations"
    body = {
        "question": "问题",
        "opens_on": TODAY.isoformat(),
        "closes_on": (TODAY - timedelta(days=1)).isoformat(),
    }
    _problem(client.post(url, json=body, headers=as_role("manager_a")), 422)
    good = {**body, "closes_on": (TODAY + timedelta(days=1)).isoformat()}
    _problem(
        client.post(url, json={**good, "options": ["只有一个"]}, headers=as_role("manager_a")), 422
    )
    for role in ("manager_b", "farmer", "buyer"):
        _problem(client.post(url, json=good, headers=as_role(role)), 403)
    assert _count(session, Consultation) == 0


# --- Beneficiary feedback -------------------------------------------------------------------


def test_a_household_rates_its_completed_training_once_and_the_disclosure_aggregates(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    _programme, enrolments = completed_enrolments(session, [world.h1, world.h2, world.h3])
    url = f"/api/v1/households/{world.h1.id}/feedback"
    body = {"enrolment_id": enrolments[0].id, "stars": 4, "comment": "讲得清楚"}
    assert client.post(url, json=body, headers=as_role("farmer")).status_code == 201
    _problem(client.post(url, json=body, headers=as_role("farmer")), 409)
    # Another household's enrolment, another household's page, bad stars: refused.
    other = {**body, "enrolment_id": enrolments[1].id}
    _problem(client.post(url, json=other, headers=as_role("farmer")), 404)
    _problem(client.post(url, json=body, headers=as_role("farmer2")), 403)
    _problem(client.post(url, json={**body, "stars": 6}, headers=as_role("farmer")), 422)
    for role in ("buyer", "manager_a", "staff"):
        _problem(client.post(url, json=body, headers=as_role(role)), 403)
    for household, role, stars in ((world.h2, "farmer2", 5), (world.h3, "farmer3", 3)):
        index = [world.h1, world.h2, world.h3].index(household)
        answer = client.post(
            f"/api/v1/households/{household.id}/feedback",
            json={"enrolment_id": enrolments[index].id, "stars": stars},
            headers=as_role(role),
        )
        assert answer.status_code == 201, answer.text
    assert _count(session, BeneficiaryFeedback) == 3
    period = f"{TODAY:%Y-%m}"
    report = disclosures.build_report(
        session, coop_id=world.coop_a.id, period=period, currency="CNY", min_group=3
    )
    (group,) = report["feedback"]["groups"]
    assert (group["households"], group["average_tenths"]) == (3, 40)
    assert group["stars"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert "comments" not in group  # the published record carries no free text
    small = disclosures.build_report(
        session, coop_id=world.coop_a.id, period=period, currency="CNY", min_group=4
    )
    assert small["feedback"] == {"groups": [], "suppressed": 3, "min_group": 4}
    summary = client.get(
        f"/api/v1/coops/{world.coop_a.id}/feedback?period={period}", headers=as_role("manager_a")
    )
    assert summary.status_code == 200
    # HEZUO_DISCLOSURE_MIN_GROUP is 5 by default: three households are too few to show.
    assert summary.json()["groups"] == []
    _problem(
        client.get(
            f"/api/v1/coops/{world.coop_a.id}/feedback?period={period}",
            headers=as_role("manager_b"),
        ),
        403,
    )


def test_a_household_rates_a_service_once_a_month(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    url = f"/api/v1/households/{world.h1.id}/feedback"
    body = {"service": "cooperative", "stars": 5}
    assert client.post(url, json=body, headers=as_role("farmer")).status_code == 201
    _problem(client.post(url, json=body, headers=as_role("farmer")), 409)
    _problem(
        client.post(url, json={"service": "nonsense", "stars": 5}, headers=as_role("farmer")), 422
    )
    _problem(client.post(url, json={"stars": 5}, headers=as_role("farmer")), 422)
    assert _count(session, BeneficiaryFeedback) == 1


def test_a_training_not_completed_cannot_be_rated(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    _programme, (enrolment,) = completed_enrolments(session, [world.h1])
    enrolment.status = "attending"
    session.add(enrolment)
    session.commit()
    url = f"/api/v1/households/{world.h1.id}/feedback"
    refused = client.post(
        url, json={"enrolment_id": enrolment.id, "stars": 2}, headers=as_role("farmer")
    )
    _problem(refused, 409)


# --- Auditor and impact ---------------------------------------------------------------------


def test_an_auditor_reads_groups_and_is_refused_every_write(
    client: TestClient,
    world: World,
    as_role: AsRole,
    workers: dict[str, Any],
    auditor: Headers,
    session: Session,
) -> None:
    group = _group(client, world, as_role, workers)
    cid = _consultation(client, world, as_role, session)
    assert client.get(f"/api/v1/groups/{group['id']}", headers=auditor).status_code == 200
    for url, body in [
        (f"/api/v1/coops/{world.coop_a.id}/groups", {"name": "审计"}),
        (f"/api/v1/groups/{group['id']}/sessions", {"held_on": TODAY.isoformat(), "topic": "x"}),
        (f"/api/v1/coops/{world.coop_a.id}/consultations", {"question": "q"}),
        (f"/api/v1/consultations/{cid}/answers", {"option_id": 1}),
        (f"/api/v1/consultations/{cid}/reply", {"reply": "r"}),
        (f"/api/v1/households/{world.h1.id}/feedback", {"service": "enterprise", "stars": 1}),
    ]:
        refused = client.post(url, json=body, headers=auditor)
        _problem(refused, 403)
        assert refused.json()["type"].endswith("role-refused")
    assert _count(session, CommunityGroup) == 1
    assert _count(session, ConsultationAnswer) == 0


def test_impact_is_public_where_privacy_allows(
    client: TestClient, world: World, as_role: AsRole, session: Session
) -> None:
    _programme, _ = completed_enrolments(session, [world.h1, world.h2])
    url = f"/api/v1/coops/{world.coop_a.id}/impact?months=3"
    public = client.get(url)
    assert public.status_code == 200
    figures = public.json()
    assert len(figures["months"]) == 3
    this_month = figures["months"][-1]
    assert this_month["period"] == f"{TODAY:%Y-%m}"
    assert this_month["trainings_completed"] == 2
    # Three households against the default minimum group of five: no income figures in public.
    assert figures["withheld"] is True
    assert this_month["income"]["median"] is None
    assert this_month["alerts"] is None
    full = client.get(url, headers=as_role("manager_a")).json()
    assert full["withheld"] is False
    assert full["months"][-1]["income"]["median"] == 0
    assert full["months"][-1]["income"]["above_line"] == 0
    assert full["months"][-1]["income"]["quartiles"] is None  # 3 < 5 even for the manager
    assert client.get(url, headers=as_role("manager_b")).json()["withheld"] is True
    _problem(client.get(f"/api/v1/coops/{world.coop_a.id}/impact?months=99"), 422)


def test_impact_figures_come_from_the_ledger_plans_alerts_and_consultations(
    world: World, session: Session, as_role: AsRole, client: TestClient
) -> None:
    """Three households of four people: h1 earns ¥30,000 this month (¥7,500 a person, above
    the default line of ¥6,000), h2 ¥4,000, h3 nothing. h1's plan goal of ¥7,000 a person is met,
    h2's is not; one alert opened and closed this month; a consultation closed with one answer."""
    post_sale(session, coop_id=world.coop_a.id, on=TODAY, shares={world.h1.id or 0: 3_000_000})
    post_sale(session, coop_id=world.coop_a.id, on=TODAY, shares={world.h2.id or 0: 400_000})
    staff = Actor(user_id=world.user("staff").id, role="staff")
    later = TODAY + timedelta(days=90)
    for household, target in ((world.h1, 700_000), (world.h2, 700_000)):
        goal = plans.GoalCreate(kind="income", description="增收", target_per_capita=target)
        plans.create_plan(
            session,
            actor=staff,
            household_id=household.id or 0,
            data=plans.PlanCreate(review_on=later, goals=[goal]),
            today=TODAY,
        )
    session.add(
        Alert(
            household_id=world.h3.id,
            coop_id=world.coop_a.id,
            reason="below_line",
            detail="below",
            as_of=TODAY,
            status="closed",
            closed_at=utcnow(),
        )
    )
    session.commit()
    cid = _consultation(client, world, as_role, session)
    option = client.get(f"/api/v1/consultations/{cid}").json()["options"][0]["id"]
    answer = {"option_id": option}
    url = f"/api/v1/consultations/{cid}/answers"
    assert client.post(url, json=answer, headers=as_role("farmer")).status_code == 201
    row = session.get(Consultation, cid)
    assert row is not None
    row.opens_on, row.closes_on = TODAY.replace(day=1), TODAY
    session.add(row)
    session.commit()
    figures = impact.impact(
        session, actor=staff, coop_id=world.coop_a.id, today=TODAY, months=2, min_group=3
    )
    month = figures["months"][-1]
    assert month["income"]["line"] == 600_000
    assert month["income"]["above_line"] == 1
    assert month["income"]["median"] == 100_000  # h2's ¥1,000 a person
    assert month["income"]["quartiles"] == {"p25": 0, "median": 100_000, "p75": 750_000}
    assert month["plan_goals"] == {"measurable": 2, "met": 1}
    assert month["alerts"] == {"opened": 1, "resolved": 1}
    assert month["consultations"] == {"closed": 1, "answers": 1, "households_asked": 3}
    # The month before had none of it (plans made today do not count there).
    assert figures["months"][0]["plan_goals"] == {"measurable": 0, "met": 0}
    # The public, in a group smaller than the minimum, sees no income figure and no alert.
    public = impact.impact(
        session, actor=Actor.anonymous(), coop_id=world.coop_a.id, today=TODAY, min_group=4
    )
    assert public["withheld"] is True
    assert public["months"][-1]["income"]["above_line"] is None
    assert public["months"][-1]["alerts"] is None
    assert public["months"][-1]["trainings_completed"] == 0
