"""An accepted enrolment tells the household, in the household members' chosen language."""

from sqlmodel import select

from notify.content import Context, render
from notify.models import Notification
from tests.training.test_enrolments import API, _apply


def test_the_household_hears_its_place_is_confirmed(client, world, as_role, session):
    farmer = world.user("farmer_a")
    farmer.language = "en"
    session.add(farmer)
    session.commit()
    programme = world.programme()
    enrolment = _apply(client, as_role("farmer_a"), programme.id).json()
    assert session.scalars(select(Notification)).all() == []  # applying tells no one yet
    accepted = client.post(f"{API}/enrolments/{enrolment['id']}/accept", headers=as_role("staff"))
    assert accepted.status_code == 200, accepted.text
    session.rollback()
    rows = session.scalars(
        select(Notification).where(Notification.kind == "enrolment_accepted")
    ).all()
    [inbox] = [r for r in rows if r.channel == "inbox"]
    assert inbox.user_id == farmer.id
    assert inbox.language == "en"
    message = render(
        inbox.kind, inbox.payload, inbox.language, Context("https://h.example", "Asia/Shanghai")
    )
    title = programme.title_en or programme.title_zh
    assert title in message.subject
    assert message.link == "https://h.example/me/training"
