"""Order and settlement notifications arrive for real: e-mails at an SMTP server (parsed here),
SMS at an Alibaba-style endpoint that checks signatures, and the farmer's inbox page."""

import json
from decimal import Decimal

from babel.numbers import format_currency
from fastapi.testclient import TestClient
from sqlmodel import select

from catalog.models import Cooperative
from frontend.i18n import Translator
from ledger.service import balance
from notify.models import Notification
from orders.models import Order
from tests.frontend.helpers import HTML
from tests.notify.conftest import PAYEE
from tests.orders import test_pages as order_pages


def _money(amount: int, locale: str) -> str:
    return format_currency(Decimal(amount) / 100, "CNY", locale=locale)


def _order(session, order_id: int) -> Order:
    session.rollback()
    return session.get(Order, order_id)


def test_a_guest_bank_transfer_order_sends_one_email_in_the_buyers_language(
    world, app, session, deliver, mailbox
):
    with TestClient(app) as shopper:
        shopper.cookies.set("hezuo_locale", "en")
        order_id, token = order_pages.place_guest_order(shopper, world)
    order = _order(session, order_id)

    counts = deliver()

    assert (counts.sent, counts.retrying, counts.failed) == (1, 0, 0)
    [mail] = mailbox.to("guest@example.com")
    assert mail["Subject"] == f"Thank you for your order {order.reference_code}"
    assert mail["Content-Language"] == "en"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = f"https://hezuo.example.org/orders/{order_id}?token={token}"
    assert link in text
    assert f'href="{link}"' in html.replace("&amp;", "&")
    for fact in (PAYEE["name"], PAYEE["bank"], PAYEE["account"], order.reference_code):
        assert fact in text
    assert _money(order.total_amount, "en") in text
    assert "您" not in text  # nothing of the Chinese catalog in an English buyer's e-mail
    # sent once: the next run has nothing to do
    assert deliver().claimed == 0
    assert len(mailbox.messages) == 1


def test_an_api_order_without_a_language_is_told_in_chinese(
    world, place, session, deliver, mailbox
):
    response = place("guest", [(world.honey, 1)])
    assert response.status_code == 201, response.text
    order = _order(session, response.json()["id"])
    deliver()
    [mail] = mailbox.to("guest@example.com")
    assert mail["Content-Language"] == "zh-CN"
    assert order.reference_code in mail["Subject"]
    assert "订单" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert _money(order.total_amount, "zh_CN") in text
    assert "收款人" in text
    assert PAYEE["account"] in text


def test_an_order_to_a_cooperative_that_receives_directly_names_its_account_in_the_email(
    world, place, session, deliver, mailbox
):
    """The cooperative's own account (set by staff), as on the order page; an order of two
    cooperatives still goes to the marketplace's account."""
    coop = session.get(Cooperative, world.coop_a.id)
    coop.bank_payee, coop.bank_name, coop.bank_account = (
        "松江合作社",
        "上海农商银行",
        "3100 0000 1234",
    )
    session.add(coop)
    session.commit()
    own = place("guest", [(world.honey, 1)], email="own@example.com")
    shared = place("guest", [(world.honey, 1), (world.mushrooms, 1)], email="shared@example.com")
    assert own.status_code == shared.status_code == 201, (own.text, shared.text)
    deliver()

    [mail] = mailbox.to("own@example.com")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for fact in ("松江合作社", "上海农商银行", "3100 0000 1234", own.json()["reference_code"]):
        assert fact in text
        assert fact in html
    assert PAYEE["account"] not in text  # not the marketplace's account
    assert PAYEE["name"] not in text

    [mail] = mailbox.to("shared@example.com")
    text = mail.get_body(("plain",)).get_content()
    assert PAYEE["account"] in text
    assert "3100 0000 1234" not in text


def _settle_a_guest_order(world, place, client, as_role) -> int:
    response = place("guest", [(world.honey, 2)])
    order = response.json()
    token = order["access_token"]
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "ICBC 1"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    shipped = client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "SF1"},
        headers=as_role("manager_a"),
    )
    assert shipped.status_code == 200, shipped.text
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver?token={token}")
    assert delivered.json()["status"] == "settled", delivered.text
    return int(order["id"])


def test_a_settlement_tells_each_household_its_share_in_the_inbox_and_by_sms(
    world, place, client, as_role, app, session, deliver, sms_endpoint
):
    farmer = world.user("farmer")  # household h1's account; h2 has none (reached by phone)
    _settle_a_guest_order(world, place, client, as_role)
    session.rollback()
    share_h1 = balance(session, f"liabilities:members:{world.h1.id}:payable").amount
    share_h2 = balance(session, f"liabilities:members:{world.h2.id}:payable").amount
    assert share_h1 > 0
    assert share_h2 > 0

    counts = deliver()
    assert counts.failed == counts.retrying == 0

    # SMS: one per household, signed as Alibaba documents it, the share in the template params
    shares = {
        json.loads(call["TemplateParam"])["amount"]
        for call in sms_endpoint.calls
        if call["TemplateCode"] == "SMS_100001"
    }
    assert shares == {_money(share_h1, "zh_CN"), _money(share_h2, "zh_CN")}
    assert {call["PhoneNumbers"] for call in sms_endpoint.calls} == {world.h1.phone}
    assert all(call["SignName"] == "合作社" for call in sms_endpoint.calls)
    assert sms_endpoint.refused == []

    # the farmer's inbox page shows the share, and the unread count is in the navigation
    with TestClient(app) as browser:
        order_pages.web_sign_in(browser, farmer)
        page = browser.get("/inbox", headers=HTML)
        assert page.status_code == 200
        assert _money(share_h1, "zh_CN") in page.text
        assert _money(share_h2, "zh_CN") not in page.text  # another household's share
        unread = Translator("zh-CN").gettext("Inbox (%(n)s)", n=1)
        assert f'<a href="/inbox" aria-current="page">{unread}</a>' in page.text


def test_the_buyer_hears_of_each_step_once(
    world, place, client, as_role, session, deliver, mailbox
):
    order_id = _settle_a_guest_order(world, place, client, as_role)
    deliver()
    deliver()
    subjects = [m["Subject"] for m in mailbox.to("guest@example.com")]
    assert len(subjects) == 4  # placed, paid, shipped, delivered
    assert len(set(mailbox.by_message_id())) == len(mailbox.messages)
    session.rollback()
    rows = session.scalars(
        select(Notification).where(Notification.event_key.startswith(f"order:{order_id}:"))
    ).all()
    assert sorted(r.kind for r in rows) == [
        "order_delivered",
        "order_paid",
        "order_placed",
        "order_shipped",
    ]
    assert {r.status for r in rows} == {"sent"}


def test_a_refund_request_waits_in_every_staff_inbox(world, place, client, as_role, session):
    staff, admin = world.user("staff"), world.user("admin")
    placed = place("buyer", [(world.honey, 1)]).json()
    paid = client.post(
        f"/api/v1/orders/{placed['id']}/payments/manual",
        json={"amount": placed["total"]["amount"], "currency": "CNY", "reference": "r"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    asked = client.post(
        f"/api/v1/orders/{placed['id']}/refund-requests",
        json={"reason": "The jar arrived broken."},
        headers=as_role("buyer"),
    )
    assert asked.status_code == 201, asked.text
    session.rollback()
    rows = session.scalars(
        select(Notification).where(Notification.kind == "refund_requested")
    ).all()
    assert {r.user_id for r in rows if r.channel == "inbox"} == {staff.id, admin.id}
    assert world.user("buyer").id not in {r.user_id for r in rows}
