"""Community pages without JavaScript: a manager opens a consultation on a form (a bad date comes
back with what was typed and a message in the reader's language), a member household answers
once, the closed results and the reply show on the public cooperative page without any one
household's answer; a group's social worker records a session; a household rates a completed
training; the impact page is public. Everyone else is refused, and a crawl as the public, another
household, a buyer, another cooperative's manager and a social worker not assigned finds no
answer, group note or feedback comment."""

import re
from collections import deque
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from api.models import Role
from core.time import to_reader_zone
from governance.community_models import (
    BeneficiaryFeedback,
    Consultation,
    ConsultationAnswer,
    GroupSession,
    GroupWorker,
)
from ledger.base import utcnow
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.governance.community_helpers import completed_enrolments
from tests.governance.conftest import World

TODAY = to_reader_zone(utcnow()).date()
WEEK = (TODAY + timedelta(days=7)).isoformat()
ANSWER_SECRET = "ANSWER-SECRET 我家想修西头的路"
NOTE_SECRET = "NOTE-SECRET 李家蜂群生病"
COMMENT_SECRET = "COMMENT-SECRET 老师讲得太快"


@pytest.fixture(autouse=True)
def _everyone(world: World) -> None:
    """Every user made before the first request (a write during a page's session would wait)."""
    for role in ("farmer", "farmer2", "farmer_b", "buyer", "manager_a", "manager_b", "staff"):
        world.user(role)


def _count(session: Session, table: type[SQLModel]) -> int:
    session.commit()  # a transaction left open would read its old snapshot (SQLite)
    count = session.scalar(select(func.count()).select_from(table)) or 0
    session.commit()
    return count


def _post(client: TestClient, page: str, action: str, **form: Any):
    token = csrf_token(client, page)
    return client.post(
        action, data={**form, "csrf_token": token}, headers=HTML, follow_redirects=False
    )


def _signed_in(app, user) -> TestClient:
    visitor = TestClient(app, raise_server_exceptions=False)
    assert sign_in(visitor, user.email, TEST_PASSWORD).status_code == 303
    return visitor


def _close(session: Session, consultation_id: int) -> None:
    row = session.get(Consultation, consultation_id)
    assert row is not None
    row.opens_on, row.closes_on = TODAY - timedelta(days=8), TODAY - timedelta(days=1)
    session.add(row)
    session.commit()


def test_consultation_on_forms_from_question_to_published_reply(
    app, client: TestClient, world: World, session: Session
) -> None:
    manager = _signed_in(app, world.user("manager_a"))
    page = f"/manage/coops/{world.coop_a.id}/community"
    assert manager.get(page, headers=HTML).status_code == 200
    form = {
        "question": "明年先修哪条路？",
        "options": "东头的路\n西头的路",
        "opens_on": TODAY.isoformat(),
    }
    bad = _post(
        manager,
        page,
        f"/manage/coops/{world.coop_a.id}/consultations",
        **form,
        closes_on="2020-01-01",
    )
    assert bad.status_code == 422
    assert "明年先修哪条路？" in bad.text  # what was typed comes back
    assert "填写的信息有误" in bad.text  # the message in the reader's language (zh-CN by default)
    assert _count(session, Consultation) == 0
    made = _post(
        manager, page, f"/manage/coops/{world.coop_a.id}/consultations", **form, closes_on=WEEK
    )
    assert made.status_code == 303
    url = made.headers["location"]
    cid = int(url.rsplit("/", 1)[1])
    farmer = _signed_in(app, world.user("farmer"))
    options = re.findall(r'name="option_id" value="(\d+)"', farmer.get(url, headers=HTML).text)
    assert len(options) == 2
    answered = _post(farmer, url, f"{url}/answer", option_id=options[1])
    assert answered.status_code == 303
    after = farmer.get(url, headers=HTML).text
    assert "您家已经回答" in after
    assert 'name="option_id"' not in after
    again = farmer.post(
        f"{url}/answer",
        data={"option_id": options[0], "csrf_token": csrf_token(farmer, "/me/feedback")},
        headers=HTML,
    )
    assert again.status_code == 409
    assert "只能一次" in again.text
    other_coop = _signed_in(app, world.user("farmer_b"))
    refused = other_coop.post(
        f"{url}/answer",
        data={"option_id": options[0], "csrf_token": csrf_token(other_coop, "/me/feedback")},
        headers=HTML,
    )
    assert refused.status_code == 403
    assert _count(session, ConsultationAnswer) == 1
    # While it is open, the public sees the question and no counts.
    assert "1 户作答" not in client.get(f"/coops/{world.coop_a.id}", headers=HTML).text
    _close(session, cid)
    replied = _post(manager, url, f"{url}/reply", reply="先修西头的路。")
    assert replied.status_code == 303
    with TestClient(app) as public:
        coop_page = public.get(f"/coops/{world.coop_a.id}", headers=HTML).text
        assert "3 户成员中有 1 户作答" in coop_page
        assert "先修西头的路。" in coop_page
        assert "王芳" not in public.get(url, headers=HTML).text  # counts, never who
        english = public.get(url, headers={**HTML, "Accept-Language": "en"})
        assert "1 of 3 member households answered." in english.text


def test_group_pages_for_its_manager_and_assigned_social_worker_only(
    app, client: TestClient, world: World, session: Session, as_role
) -> None:
    worker = world.make_user(Role.social_worker)
    other_worker = world.make_user(Role.social_worker)
    manager = _signed_in(app, world.user("manager_a"))
    page = f"/manage/coops/{world.coop_a.id}/community"
    made = _post(
        manager,
        page,
        f"/manage/coops/{world.coop_a.id}/groups",
        name="蜂蜜小组",
        household_ids=[str(world.h1.id), str(world.h2.id)],
    )
    assert made.status_code == 303
    group_url = made.headers["location"]
    added = _post(manager, group_url, f"{group_url}/social-workers", user_id=str(worker.id))
    assert added.status_code == 303
    assert worker.email in manager.get(group_url, headers=HTML).text
    not_worker = _post(
        manager, group_url, f"{group_url}/social-workers", user_id=str(world.user("buyer").id)
    )
    assert not_worker.status_code == 422
    social = _signed_in(app, worker)
    assert "蜂蜜小组" in social.get("/social-work/groups", headers=HTML).text
    future = _post(
        social,
        group_url,
        f"{group_url}/sessions",
        held_on=WEEK,
        topic="蜂箱过冬",
        notes=NOTE_SECRET,
    )
    assert future.status_code == 422
    assert "蜂箱过冬" in future.text
    saved = _post(
        social,
        group_url,
        f"{group_url}/sessions",
        held_on=TODAY.isoformat(),
        topic="蜂箱过冬",
        notes=NOTE_SECRET,
        attended=[str(world.h1.id)],
    )
    assert saved.status_code == 303
    shown = social.get(group_url, headers=HTML).text
    assert NOTE_SECRET in shown
    assert "1 / 2" in shown
    assert _count(session, GroupSession) == 1
    for user in (world.user("farmer"), world.user("buyer"), world.user("manager_b"), other_worker):
        visitor = _signed_in(app, user)
        answer = visitor.get(group_url, headers=HTML)
        assert answer.status_code == 403, user.role
        assert NOTE_SECRET not in answer.text
        refused = visitor.post(
            f"{group_url}/sessions",
            data={
                "held_on": TODAY.isoformat(),
                "topic": "x",
                "csrf_token": csrf_token(visitor, "/"),
            },
            headers=HTML,
        )
        assert refused.status_code == 403
        assign = visitor.post(
            f"{group_url}/social-workers",
            data={"user_id": str(other_worker.id), "csrf_token": csrf_token(visitor, "/")},
            headers=HTML,
        )
        assert assign.status_code == 403
        assert visitor.get(page, headers=HTML).status_code == 403
    assert _count(session, GroupSession) == 1
    # The assigned social worker runs the group's sessions but does not choose who works with it.
    assign = social.post(
        f"{group_url}/social-workers",
        data={"user_id": str(other_worker.id), "csrf_token": csrf_token(social, "/")},
        headers=HTML,
    )
    assert assign.status_code == 403
    assert _count(session, GroupWorker) == 1
    with TestClient(app) as public:
        assert public.get(group_url, headers=HTML, follow_redirects=False).status_code == 303


def test_a_household_rates_its_training_on_its_feedback_page(
    app, world: World, session: Session
) -> None:
    _programme, (enrolment,) = completed_enrolments(session, [world.h1])
    farmer = _signed_in(app, world.user("farmer"))
    page = farmer.get("/me/feedback", headers=HTML).text
    assert "养蜂培训" in page
    assert "匿名" in page
    bad = _post(
        farmer,
        "/me/feedback",
        "/me/feedback",
        subject=f"enrolment:{enrolment.id}",
        stars="9",
        comment=COMMENT_SECRET,
    )
    assert bad.status_code == 422
    assert COMMENT_SECRET in bad.text  # typed text comes back to its own writer
    made = _post(
        farmer,
        "/me/feedback",
        "/me/feedback",
        subject=f"enrolment:{enrolment.id}",
        stars="4",
        comment=COMMENT_SECRET,
    )
    assert made.status_code == 303
    assert "养蜂培训" not in farmer.get("/me/feedback", headers=HTML).text  # rated: gone
    assert _count(session, BeneficiaryFeedback) == 1
    for role in ("buyer", "manager_a", "farmer2"):
        visitor = _signed_in(app, world.user(role))
        if role != "farmer2":
            assert visitor.get("/me/feedback", headers=HTML).status_code == 403
        else:
            assert "养蜂培训" not in visitor.get("/me/feedback", headers=HTML).text


def test_impact_page_is_public_and_fits_a_phone(app, world: World, session: Session) -> None:
    completed_enrolments(session, [world.h1])
    with TestClient(app) as public:
        page = public.get(f"/coops/{world.coop_a.id}/impact", headers=HTML)
        assert page.status_code == 200
        assert "成效" in page.text
        assert "为保护隐私" in page.text
        english = public.get(
            f"/coops/{world.coop_a.id}/impact", headers={**HTML, "Accept-Language": "en"}
        )
        assert "Trainings completed" in english.text
        assert public.get("/coops/999/impact", headers=HTML).status_code == 404


HREF = re.compile(r'(?:href|action)="(/[^"]*)"')
SKIP = ("/login", "/logout", "/locale", "/static/", "/docs", "/openapi.json", "/register")
SECRETS = (ANSWER_SECRET, NOTE_SECRET, COMMENT_SECRET)


def _crawl(client: TestClient, start: list[str], limit: int = 150) -> set[str]:
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        body = client.get(path, headers={} if path.startswith("/api/") else HTML).text
        for secret in SECRETS:
            assert secret not in body, f"{secret!r} leaked on {path}"
        queue.extend(
            link.replace("&amp;", "&").split("#")[0]
            for link in HREF.findall(body)
            if not link.startswith(SKIP)
        )
    return seen


@pytest.mark.parametrize("role", ["anonymous", "farmer2", "buyer", "manager_b", "other_worker"])
def test_privacy_crawl_of_the_community_pages(
    app, client: TestClient, world: World, session: Session, as_role, role: str
) -> None:
    """h1's free answer, its group's session note and its feedback comment: crawled by the
    public, another household, a buyer, coop B's manager and a social worker not assigned."""
    made = client.post(
        f"/api/v1/coops/{world.coop_a.id}/consultations",
        json={"question": "您有什么建议？", "opens_on": TODAY.isoformat(), "closes_on": WEEK},
        headers=as_role("manager_a"),
    ).json()
    assert (
        client.post(
            f"/api/v1/consultations/{made['id']}/answers",
            json={"text": ANSWER_SECRET},
            headers=as_role("farmer"),
        ).status_code
        == 201
    )
    _close(session, made["id"])
    group = client.post(
        f"/api/v1/coops/{world.coop_a.id}/groups",
        json={"name": "小组", "household_ids": [world.h1.id, world.h2.id]},
        headers=as_role("manager_a"),
    ).json()
    note = {
        "held_on": TODAY.isoformat(),
        "topic": "会",
        "notes": NOTE_SECRET,
        "attended": [world.h1.id],
    }
    assert (
        client.post(
            f"/api/v1/groups/{group['id']}/sessions", json=note, headers=as_role("manager_a")
        ).status_code
        == 201
    )
    _programme, (enrolment,) = completed_enrolments(session, [world.h1])
    rated = client.post(
        f"/api/v1/households/{world.h1.id}/feedback",
        json={"enrolment_id": enrolment.id, "stars": 2, "comment": COMMENT_SECRET},
        headers=as_role("farmer"),
    )
    assert rated.status_code == 201
    period = f"{TODAY:%Y-%m}"
    with TestClient(app, raise_server_exceptions=False) as visitor:
        if role != "anonymous":
            user = (
                world.make_user(Role.social_worker) if role == "other_worker" else world.user(role)
            )
            assert sign_in(visitor, user.email, TEST_PASSWORD).status_code == 303
        seen = _crawl(
            visitor,
            [
                "/",
                f"/coops/{world.coop_a.id}",
                f"/coops/{world.coop_a.id}/consultations",
                f"/consultations/{made['id']}",
                f"/coops/{world.coop_a.id}/impact",
                f"/groups/{group['id']}",
                "/social-work/groups",
                "/me/feedback",
                f"/manage/coops/{world.coop_a.id}/community",
                f"/api/v1/consultations/{made['id']}",
                f"/api/v1/consultations/{made['id']}/free-answers",
                f"/api/v1/coops/{world.coop_a.id}/consultations",
                f"/api/v1/groups/{group['id']}",
                f"/api/v1/coops/{world.coop_a.id}/groups",
                f"/api/v1/coops/{world.coop_a.id}/feedback?period={period}",
                f"/api/v1/coops/{world.coop_a.id}/impact",
            ],
        )
        assert len(seen) > 10
    # The crawl looks for something real: those who may read them do see the texts.
    assert (
        ANSWER_SECRET
        in client.get(
            f"/api/v1/consultations/{made['id']}/free-answers", headers=as_role("manager_a")
        ).text
    )
    assert (
        NOTE_SECRET
        in client.get(f"/api/v1/groups/{group['id']}", headers=as_role("manager_a")).text
    )
