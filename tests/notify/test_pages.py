"""Who sees what: a user only their own inbox; only staff the outbox and its retry button;
channel choices (money messages keep their inbox copy) and the one-click unsubscribe link."""

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from notify import outbox
from notify.models import Notification, NotificationPreference
from tests.frontend.helpers import HTML, csrf_token
from tests.orders import test_pages as order_pages


def _tell(factory, user_id: int, key: str, amount: int = 5712) -> int:
    with factory.begin() as session:
        [row, *_] = outbox.record(
            session,
            kind="share_credited",
            event_key=key,
            audiences=[outbox.to_user(user_id)],
            payload={"amount": amount, "currency": "CNY"},
        )
        return (row.id or 0) if row.channel == "inbox" else 0


@pytest.fixture
def browser(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_user_sees_and_marks_only_their_own_inbox(world, factory, browser, session):
    farmer = world.user("farmer")
    other = world.user("buyer")
    mine = _tell(factory, farmer.id, "share:mine", amount=5712)
    theirs = _tell(factory, other.id, "share:theirs", amount=9999)

    order_pages.web_sign_in(browser, farmer)
    page = browser.get("/inbox", headers=HTML)
    assert "57.12" in page.text
    assert "99.99" not in page.text

    token = csrf_token(browser, "/inbox")
    refused = browser.post(
        f"/inbox/{theirs}/read", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert refused.status_code == 404
    no_token = browser.post(f"/inbox/{mine}/read", headers=HTML, follow_redirects=False)
    assert no_token.status_code == 403
    done = browser.post(
        f"/inbox/{mine}/read", data={"csrf_token": token}, headers=HTML, follow_redirects=False
    )
    assert done.status_code == 303
    session.rollback()
    assert session.get(Notification, mine).read_at is not None
    assert session.get(Notification, theirs).read_at is None


def test_visitors_are_sent_to_sign_in(browser):
    response = browser.get("/inbox", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("role", "status"),
    [("buyer", 403), ("farmer", 403), ("manager_a", 403), ("staff", 200), ("admin", 200)],
)
def test_only_staff_see_the_outbox(world, browser, role, status):
    order_pages.web_sign_in(browser, world.user(role))
    assert browser.get("/staff/notifications", headers=HTML).status_code == status


def test_staff_send_a_dead_letter_again(world, factory, browser, session, deliver):
    with factory.begin() as s:
        outbox.record(
            s,
            kind="order_paid",
            event_key="order:x:paid",
            audiences=[outbox.to_guest(email="gone@example.com", language="en")],
            payload={"reference": "HZX", "amount": 100, "currency": "CNY"},
        )
    row = session.scalars(select(Notification)).one()
    row.status, row.last_error = "dead", "SMTP: connection refused"
    session.add(row)
    session.commit()

    order_pages.web_sign_in(browser, world.user("buyer"))
    token = csrf_token(browser, "/inbox")
    refused = browser.post(
        f"/staff/notifications/{row.id}/retry", data={"csrf_token": token}, headers=HTML
    )
    assert refused.status_code == 403

    staff_browser = TestClient(browser.app, raise_server_exceptions=False)
    with staff_browser:
        order_pages.web_sign_in(staff_browser, world.user("staff"))
        page = staff_browser.get("/staff/notifications?status=dead", headers=HTML)
        assert "gone@example.com" in page.text
        assert "SMTP: connection refused" in page.text
        token = csrf_token(staff_browser, "/staff/notifications")
        retried = staff_browser.post(
            f"/staff/notifications/{row.id}/retry",
            data={"csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert retried.status_code == 303
    assert deliver().sent == 1


def test_choices_switch_off_e_mail_but_money_messages_keep_their_inbox_copy(
    world, factory, browser, session
):
    farmer = world.user("farmer")
    order_pages.web_sign_in(browser, farmer)
    token = csrf_token(browser, "/me/notifications")
    saved = browser.post(
        "/me/notifications",
        data={"csrf_token": token, "language": "en", "on": ["order_shipped:email"]},
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    _tell(factory, farmer.id, "share:after-choice")
    session.rollback()
    channels = {r.channel for r in session.scalars(select(Notification))}
    assert channels == {"inbox"}  # no e-mail, no SMS; the inbox copy cannot be switched off
    assert session.scalars(select(Notification)).one().language == "en"
    stored = session.scalars(select(NotificationPreference)).all()
    assert ("share_credited", "inbox") not in {(p.kind, p.channel) for p in stored}
    page = browser.get("/me/notifications", headers=HTML)
    assert re.search(r'value="share_credited:inbox" checked disabled', page.text)

    bad = browser.post(
        "/me/notifications",
        data={"csrf_token": csrf_token(browser, "/me/notifications"), "language": "fr"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert "请从列表中选择语言。" in bad.text  # in the page's language (zh-CN by default)
    session.rollback()
    assert session.get(type(farmer), farmer.id).language == "en"  # unchanged by the bad form


def test_one_click_unsubscribe_stops_that_kind_of_e_mail(
    world, place, client, as_role, factory, session, deliver, mailbox
):
    buyer = world.user("buyer")
    placed = place("buyer", [(world.honey, 1)]).json()
    client.post(
        f"/api/v1/orders/{placed['id']}/payments/manual",
        json={"amount": placed["total"]["amount"], "currency": "CNY", "reference": "r"},
        headers=as_role("staff"),
    )
    client.post(
        f"/api/v1/orders/{placed['id']}/ship",
        json={"carrier": "SF", "tracking_number": "1"},
        headers=as_role("manager_a"),
    )
    deliver()
    shipped = [m for m in mailbox.to(buyer.email) if m["List-Unsubscribe"]]
    assert len(shipped) == 1  # only the shipping update; money messages carry no such link
    link = str(shipped[0]["List-Unsubscribe"]).strip("<>")
    target = urlsplit(link)
    forged = client.post(
        f"{target.path}?{target.query.replace('k=order_shipped', 'k=order_delivered')}"
    )
    assert forged.status_code == 400
    done = client.post(f"{target.path}?{target.query}")  # what a mail client posts (RFC 8058)
    assert done.status_code == 200
    session.rollback()
    [pref] = session.scalars(select(NotificationPreference)).all()
    assert (pref.user_id, pref.kind, pref.channel, pref.enabled) == (
        buyer.id,
        "order_shipped",
        "email",
        False,
    )


def test_choosing_a_page_language_sets_the_language_of_messages(world, browser, factory):
    buyer = world.user("buyer")
    assert buyer.language is None
    order_pages.web_sign_in(browser, buyer)
    switched = browser.get("/locale?lang=en&next=/", follow_redirects=False)
    assert switched.status_code == 303
    with factory() as fresh:
        assert fresh.get(type(buyer), buyer.id).language == "en"
