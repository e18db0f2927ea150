"""Share-rule hearings: proposal → comments → vote → adopted rule used by the next settlement."""

from datetime import date, timedelta

import pytest

from ledger.share_rules import ShareParts

TODAY = date.today()
NEW_PARTS = {"producers": 8000, "collective_fund": 800, "training_fund": 800, "enterprise": 400}


def _proposal(coop_id: int, **changes) -> dict:
    body = {
        "coop_id": coop_id,
        "parts": NEW_PARTS,
        "reason": "Members asked for a larger producers' share after the good harvest.",
        "effective_from": TODAY.isoformat(),
        "comment_until": TODAY.isoformat(),
        "vote_until": TODAY.isoformat(),
        "quorum_bp": 5000,
        "majority_bp": 5000,
    }
    body.update(changes)
    return body


@pytest.fixture
def hearing(client, world, as_role) -> dict:
    response = client.post(
        "/api/v1/hearings", json=_proposal(world.coop_a.id), headers=as_role("manager_a")
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_hearing_runs_from_proposal_to_a_rule_the_next_settlement_uses(
    client, world, as_role, hearing, settle_order
):
    hid = hearing["id"]
    assert hearing["status"] == "comment"
    for role, text in (("farmer", "Good for us."), ("farmer2", "The fund needs money too.")):
        said = client.post(
            f"/api/v1/hearings/{hid}/comments", json={"body": text}, headers=as_role(role)
        )
        assert said.status_code == 201, said.text
    public = client.get(f"/api/v1/hearings/{hid}").json()
    assert [c["member_code"] for c in public["comments"]] == [
        world.h1.member_code,
        world.h2.member_code,
    ]
    assert "李秘密" not in str(public)  # comments show member codes, never names

    assert (
        client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("staff")).json()["status"]
        == "voting"
    )
    for role, choice in (("farmer", "yes"), ("farmer2", "yes"), ("farmer3", "no")):
        cast = client.post(
            f"/api/v1/hearings/{hid}/votes", json={"choice": choice}, headers=as_role(role)
        )
        assert cast.status_code == 201, cast.text
    assert client.get(f"/api/v1/hearings/{hid}").json()["tally"] is None  # not before the close

    closed = client.post(f"/api/v1/hearings/{hid}/close", headers=as_role("manager_a"))
    assert closed.status_code == 200, closed.text
    result = closed.json()
    assert result["status"] == "adopted"
    assert result["tally"]["yes"] == 2
    assert result["tally"]["no"] == 1
    assert result["tally"]["eligible"] == 3
    assert result["adopted_from"] == TODAY.isoformat()
    rules = client.get(
        f"/api/v1/coops/{world.coop_a.id}/share-rules", headers=as_role("staff")
    ).json()["items"]
    assert rules[0]["id"] == result["share_rule_id"]
    assert rules[0]["parts"] == ShareParts(**NEW_PARTS).as_dict()  # a later part: 0

    order = settle_order()  # one bottle, 6800, settled after the adoption
    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt", headers=as_role("buyer")).json()
    split = {part["party"]: part["amount"] for part in receipt["split"]}
    assert split["enterprise"] == 272  # 4 % of 6800, was 10 % under the default rule
    assert split[f"fund:collective:{world.coop_a.id}"] == 544
    households = sum(a for p, a in split.items() if p.startswith("household:"))
    assert households == 5440  # 80 %


def test_a_vote_without_quorum_or_majority_is_rejected_and_no_rule_is_made(
    client, world, as_role, hearing
):
    hid = hearing["id"]
    client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("staff"))
    client.post(f"/api/v1/hearings/{hid}/votes", json={"choice": "yes"}, headers=as_role("farmer"))
    closed = client.post(f"/api/v1/hearings/{hid}/close", headers=as_role("staff")).json()
    assert closed["status"] == "rejected"
    assert closed["tally"]["quorum_met"] is False  # 1 of 3 households voted, 50 % needed
    assert closed["share_rule_id"] is None


def test_one_comment_and_one_vote_per_household_members_only_and_only_in_their_phase(
    client, world, as_role, hearing
):
    hid = hearing["id"]
    url_c, url_v = f"/api/v1/hearings/{hid}/comments", f"/api/v1/hearings/{hid}/votes"
    assert client.post(url_c, json={"body": "yes"}, headers=as_role("farmer")).status_code == 201
    assert client.post(url_c, json={"body": "again"}, headers=as_role("farmer")).status_code == 409
    for role, status in (
        ("farmer_b", 403),
        ("buyer", 403),
        ("manager_a", 403),
        ("staff", 403),
        ("anonymous", 401),
    ):
        assert client.post(url_c, json={"body": "x"}, headers=as_role(role)).status_code == status
    # no vote during the comment period
    assert client.post(url_v, json={"choice": "yes"}, headers=as_role("farmer")).status_code == 409
    assert (
        client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("manager_b")).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("farmer")).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("staff")).status_code
        == 200
    )
    assert client.post(url_c, json={"body": "late"}, headers=as_role("farmer2")).status_code == 409
    assert (
        client.post(url_v, json={"choice": "maybe"}, headers=as_role("farmer")).status_code == 422
    )
    assert client.post(url_v, json={"choice": "yes"}, headers=as_role("farmer")).status_code == 201
    assert client.post(url_v, json={"choice": "no"}, headers=as_role("farmer")).status_code == 409
    assert client.post(url_v, json={"choice": "no"}, headers=as_role("farmer_b")).status_code == 403
    assert (
        client.post(f"/api/v1/hearings/{hid}/close", headers=as_role("farmer")).status_code == 403
    )
    assert client.post(f"/api/v1/hearings/{hid}/close", headers=as_role("staff")).status_code == 200
    # after the close: no more votes, no second close
    assert client.post(url_v, json={"choice": "yes"}, headers=as_role("farmer2")).status_code == 409
    assert client.post(f"/api/v1/hearings/{hid}/close", headers=as_role("staff")).status_code == 409


def test_voting_after_the_last_day_is_refused(client, world, as_role, session):
    from governance import hearings
    from governance.errors import WrongPhase
    from governance.models import Hearing

    response = client.post(
        "/api/v1/hearings", json=_proposal(world.coop_a.id), headers=as_role("staff")
    )
    hid = response.json()["id"]
    client.post(f"/api/v1/hearings/{hid}/start-vote", headers=as_role("staff"))
    farmer = world.user("farmer")
    from core.actor import Actor

    actor = Actor(
        user_id=farmer.id, role="farmer", coop_id=world.coop_a.id, household_id=world.h1.id
    )
    session.rollback()
    assert session.get(Hearing, hid).status == "voting"
    with pytest.raises(WrongPhase):
        hearings.vote(
            session, actor=actor, hearing_id=hid, choice="yes", today=TODAY + timedelta(days=1)
        )


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"parts": {**NEW_PARTS, "enterprise": 500}}, 422, "parts"),
        (
            {
                "parts": {
                    "producers": 5000,
                    "collective_fund": 2000,
                    "training_fund": 2000,
                    "enterprise": 1000,
                }
            },
            422,
            "producers",
        ),
        ({"effective_from": (TODAY - timedelta(days=1)).isoformat()}, 422, "effective_from"),
        ({"comment_until": (TODAY - timedelta(days=1)).isoformat()}, 422, "comment_until"),
        ({"reason": "   "}, 422, "reason"),
        ({"quorum_bp": 10001}, 422, "quorum_bp"),
    ],
)
def test_bad_proposals_are_refused_naming_the_field(client, world, as_role, changes, status, field):
    response = client.post(
        "/api/v1/hearings", json=_proposal(world.coop_a.id, **changes), headers=as_role("staff")
    )
    assert response.status_code == status, response.text
    assert field in str(response.json().get("errors", "")), response.json()
    assert client.get("/api/v1/hearings").json()["items"] == []


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("farmer", 403),
        ("manager_b", 403),
        ("manager_a", 201),
        ("staff", 201),
        ("admin", 201),
    ],
)
def test_who_may_propose(client, world, as_role, role, expected):
    response = client.post(
        "/api/v1/hearings", json=_proposal(world.coop_a.id), headers=as_role(role)
    )
    assert response.status_code == expected
