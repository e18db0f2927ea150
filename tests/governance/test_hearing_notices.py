"""A proposed share-rule change tells the proposing cooperative's members, and no one else."""

from datetime import date

from sqlmodel import select

from notify.models import Notification

TODAY = date.today().isoformat()


def test_members_of_the_cooperative_hear_of_a_proposal(client, world, as_role, session):
    members = [world.user("farmer"), world.user("farmer2")]
    outsider = world.user("farmer_b")  # another cooperative
    response = client.post(
        "/api/v1/hearings",
        json={
            "coop_id": world.coop_a.id,
            "parts": {
                "producers": 8000,
                "collective_fund": 800,
                "training_fund": 800,
                "enterprise": 400,
            },
            "reason": "A larger producers' share after the good harvest.",
            "effective_from": TODAY,
            "comment_until": TODAY,
            "vote_until": TODAY,
            "quorum_bp": 5000,
            "majority_bp": 5000,
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 201, response.text
    session.rollback()
    rows = session.scalars(select(Notification).where(Notification.kind == "hearing_opened")).all()
    inboxes = {r.user_id for r in rows if r.channel == "inbox"}
    assert inboxes == {u.id for u in members}
    assert outsider.id not in {r.user_id for r in rows}
    assert {r.event_key for r in rows} == {f"hearing:{response.json()['id']}:opened"}
