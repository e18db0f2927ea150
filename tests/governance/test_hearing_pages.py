"""Running a share-rule hearing from the pages: open it, open the vote, close it, each confirmed
first; refusals re-render the form with what was typed, in Chinese; who may not is refused."""

from datetime import date

import pytest

from governance.models import Hearing
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

TODAY = date.today().isoformat()


def _login(client, user) -> str:
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, "/hearings")


def _form(coop_id: int, token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "coop_id": str(coop_id),
        "producers": "75",
        "collective_fund": "10",
        "training_fund": "10",
        "enterprise": "5",
        "fee_bearer": "enterprise",
        "reason": "降低企业提成",
        "comment_until": TODAY,
        "vote_until": TODAY,
        "effective_from": TODAY,
        "quorum": "50",
        "majority": "50",
    }
    form.update(changes)
    return form


def _hearings(session) -> list[Hearing]:
    session.rollback()  # end the snapshot: read what the app wrote since
    return list(session.query(Hearing).all())


def test_a_manager_opens_a_hearing_after_confirming_then_opens_and_closes_the_vote(
    client, world, session
):
    token = _login(client, world.user("manager_a"))
    page = client.get("/manage/hearings/new", headers=HTML)
    assert page.status_code == 200
    assert "提议的分配比例" in page.text
    asked = client.post("/manage/hearings/new", data=_form(world.coop_a.id, token), headers=HTML)
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.text
    assert "75 %" in asked.text  # the proposed split, said before anything happens
    assert _hearings(session) == []  # nothing until confirmed

    opened = client.post(
        "/manage/hearings/new",
        data={**_form(world.coop_a.id, token), "confirmed": "yes"},
        headers=HTML,
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    (hearing,) = _hearings(session)
    assert hearing.producers == 7500
    assert hearing.enterprise == 500
    assert opened.headers["location"] == f"/hearings/{hearing.id}?done=opened"
    page = client.get(opened.headers["location"], headers=HTML).text
    assert f'action="/manage/hearings/{hearing.id}/start-vote"' in page
    assert "collective_fund" not in page  # parts are named in words

    url = f"/manage/hearings/{hearing.id}"
    confirm = client.post(f"{url}/start-vote", data={"csrf_token": token}, headers=HTML)
    assert confirm.status_code == 200
    assert 'name="confirmed" value="yes"' in confirm.text
    session.rollback()
    session.refresh(hearing)
    assert hearing.status == "comment"
    started = client.post(
        f"{url}/start-vote",
        data={"csrf_token": token, "confirmed": "yes"},
        headers=HTML,
        follow_redirects=False,
    )
    assert started.status_code == 303
    session.rollback()
    session.refresh(hearing)
    assert hearing.status == "voting"

    # a member votes on the hearing's own page
    client.cookies.clear()
    farmer_token = _login(client, world.user("farmer"))
    voted = client.post(
        f"/hearings/{hearing.id}/vote",
        data={"choice": "yes", "csrf_token": farmer_token},
        headers=HTML,
    )
    assert voted.status_code == 200
    assert 'action="/manage/hearings' not in voted.text  # a farmer does not run hearings

    client.cookies.clear()
    token = _login(client, world.user("staff"))
    again = client.post(
        f"{url}/start-vote", data={"csrf_token": token, "confirmed": "yes"}, headers=HTML
    )
    assert again.status_code == 409  # the vote is already open: the page says why, in Chinese
    assert "听证会当前阶段不能进行此操作" in again.text
    closing = client.post(f"{url}/close", data={"csrf_token": token}, headers=HTML)
    assert closing.status_code == 200
    assert 'name="confirmed" value="yes"' in closing.text
    closed = client.post(
        f"{url}/close",
        data={"csrf_token": token, "confirmed": "yes"},
        headers=HTML,
        follow_redirects=False,
    )
    assert closed.status_code == 303
    session.rollback()
    session.refresh(hearing)
    assert hearing.status in ("adopted", "rejected")
    assert hearing.tally is not None
    assert hearing.tally["yes"] == 1


def test_a_refused_proposal_keeps_what_was_typed_and_says_why_in_chinese(client, world, session):
    token = _login(client, world.user("staff"))
    typo = client.post(
        "/manage/hearings/new",
        data=_form(world.coop_a.id, token, producers="七十五", reason="我们的理由"),
        headers=HTML,
    )
    assert typo.status_code == 422
    assert "我们的理由" in typo.text  # what was typed stays
    assert 'value="七十五"' in typo.text
    assert 'aria-invalid="true"' in typo.text
    not_100 = client.post(
        "/manage/hearings/new",
        data=_form(world.coop_a.id, token, producers="80", confirmed="yes"),
        headers=HTML,
    )
    assert not_100.status_code == 422
    assert "各部分合计须为 100 %" in not_100.text
    assert 'value="80"' in not_100.text
    below_floor = client.post(
        "/manage/hearings/new",
        data=_form(
            world.coop_a.id,
            token,
            producers="40",
            collective_fund="40",
            confirmed="yes",
        ),
        headers=HTML,
    )
    assert below_floor.status_code == 422
    assert 'value="40"' in below_floor.text
    assert _hearings(session) == []


@pytest.mark.parametrize(
    ("role", "expected"), [("farmer", 403), ("buyer", 403), ("manager_b", 403)]
)
def test_who_may_not_run_a_hearing_is_refused(client, world, session, role, expected):
    token = _login(client, world.user(role))
    if role != "manager_b":
        assert client.get("/manage/hearings/new", headers=HTML).status_code == expected
    refused = client.post(
        "/manage/hearings/new",
        data=_form(world.coop_a.id, token, confirmed="yes"),
        headers=HTML,
    )
    assert refused.status_code == expected
    assert _hearings(session) == []


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/manage/hearings/new?coop_id=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert "hearings" in response.headers["location"]


def test_another_coops_manager_cannot_open_or_close_its_vote(client, world, session, as_role):
    created = client.post(
        "/api/v1/hearings",
        json={
            "coop_id": world.coop_a.id,
            "parts": {
                "producers": 7500,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 500,
            },
            "reason": "x",
            "effective_from": TODAY,
            "comment_until": TODAY,
            "vote_until": TODAY,
        },
        headers=as_role("staff"),
    ).json()
    token = _login(client, world.user("manager_b"))
    for step in ("start-vote", "close"):
        refused = client.post(
            f"/manage/hearings/{created['id']}/{step}",
            data={"csrf_token": token, "confirmed": "yes"},
            headers=HTML,
        )
        assert refused.status_code == 403, step
    page = client.get(f"/hearings/{created['id']}", headers=HTML).text
    assert "/manage/hearings/" not in page
    client.cookies.clear()
    assert (
        client.post(f"/manage/hearings/{created['id']}/close", headers=HTML).status_code == 403
    )  # no CSRF token, no sign-in


def _voting_hearing(client, world, as_role) -> int:
    created = client.post(
        "/api/v1/hearings",
        json={
            "coop_id": world.coop_a.id,
            "parts": {
                "producers": 7500,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 500,
            },
            "reason": "x",
            "effective_from": TODAY,
            "comment_until": TODAY,
            "vote_until": TODAY,
        },
        headers=as_role("staff"),
    ).json()
    started = client.post(f"/api/v1/hearings/{created['id']}/start-vote", headers=as_role("staff"))
    assert started.status_code == 200
    return int(created["id"])


def _votes(session, hearing_id: int) -> list[tuple[int, str, int]]:
    from governance.models import HearingVote

    session.rollback()
    return [
        (v.household_id, v.choice, v.user_id)
        for v in session.query(HearingVote).filter(HearingVote.hearing_id == hearing_id).all()
    ]


def test_an_organiser_records_a_vote_cast_at_a_meeting_after_confirming(
    client, world, session, as_role
):
    hearing_id = _voting_hearing(client, world, as_role)
    manager = world.user("manager_a")
    token = _login(client, manager)
    page = client.get(f"/hearings/{hearing_id}", headers=HTML).text
    assert f'action="/manage/hearings/{hearing_id}/votes"' in page
    assert world.h2.member_code in page
    assert world.h4.member_code not in page  # another cooperative's household is not offered
    url = f"/manage/hearings/{hearing_id}/votes"
    form = {"csrf_token": token, "household_id": str(world.h2.id), "choice": "no"}
    asked = client.post(url, data=form, headers=HTML)
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.text
    assert "反对" in asked.text
    assert _votes(session, hearing_id) == []
    done = client.post(url, data={**form, "confirmed": "yes"}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    assert _votes(session, hearing_id) == [(world.h2.id, "no", manager.id)]  # who entered it

    twice = client.post(url, data={**form, "choice": "yes", "confirmed": "yes"}, headers=HTML)
    assert twice.status_code == 409
    assert "该农户已在本次听证会中投票" in twice.text
    other = client.post(
        url,
        data={**form, "household_id": str(world.h4.id), "confirmed": "yes"},
        headers=HTML,
    )
    assert other.status_code == 422  # not a member of this cooperative
    assert _votes(session, hearing_id) == [(world.h2.id, "no", manager.id)]


@pytest.mark.parametrize("role", ["farmer", "manager_b", "buyer"])
def test_only_organisers_record_votes(client, world, session, as_role, role):
    hearing_id = _voting_hearing(client, world, as_role)
    token = _login(client, world.user(role))
    refused = client.post(
        f"/manage/hearings/{hearing_id}/votes",
        data={
            "csrf_token": token,
            "household_id": str(world.h3.id),
            "choice": "yes",
            "confirmed": "yes",
        },
        headers=HTML,
    )
    assert refused.status_code == 403
    assert _votes(session, hearing_id) == []
