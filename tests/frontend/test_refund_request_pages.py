"""Refund request pages: the buyer's form (signed in, or a guest with the order link), the order
page's link to it, staff's list with approve and decline — CSRF on every form, the wrong people
refused, nothing stored by a refused or invalid form.

Pages are read in English (the `hezuo_locale` cookie) so these tests do not depend on the zh-CN
catalog's wording.
"""

# ruff: noqa: F811  (fixtures imported from another module are redefined as arguments)

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from ledger.service import trial_balance
from orders.models import Refund
from orders.refund_request_models import RefundRequest
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token
from tests.orders.conftest import as_role, place, world  # noqa: F401  (fixtures)


@pytest.fixture
def browser(app) -> Iterator[TestClient]:
    """A browser of its own (cookies apart from the API `client`), reading pages in English."""
    with TestClient(app, raise_server_exceptions=False) as other:
        other.cookies.set("hezuo_locale", "en")
        yield other


def _sign_in(browser: TestClient, user) -> None:
    token = csrf_token(browser)
    response = browser.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _post(browser: TestClient, path: str, data: dict, *, page: str) -> httpx.Response:
    token = csrf_token(browser, page)
    return browser.post(
        path, data={**data, "csrf_token": token}, headers=HTML, follow_redirects=False
    )


@pytest.fixture
def shipped_order(world, client, as_role, place):
    def make(role: str = "buyer") -> dict:
        order = place(role, [(world.honey, 2)]).json()
        assert client.post(
            f"/api/v1/orders/{order['id']}/payments/manual",
            json={"amount": 13600, "currency": "CNY"},
            headers=as_role("staff"),
        ).is_success
        assert client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "SF", "tracking_number": "SF9"},
            headers=as_role("manager_a"),
        ).is_success
        return order

    return make


def _requests(session, order_id: int) -> list[RefundRequest]:
    session.rollback()
    return list(
        session.scalars(select(RefundRequest).where(col(RefundRequest.order_id) == order_id))
    )


def test_the_buyer_follows_the_link_and_asks_for_part_of_the_order(
    world, browser, shipped_order, session
):
    order = shipped_order()
    _sign_in(browser, world.user("buyer"))
    order_page = browser.get(f"/orders/{order['id']}", headers=HTML)
    link = f'href="/orders/{order["id"]}/refund-request"'
    assert link in order_page.text
    form_path = f"/orders/{order['id']}/refund-request"
    form = browser.get(form_path, headers=HTML)
    assert form.status_code == 200
    assert 'name="scope" value="amount"' in form.text
    assert 'data-amount="13600"' in form.text

    no_csrf = browser.post(
        form_path,
        data={"scope": "amount", "amount": "10.50", "reason": "one jar cracked"},
        headers=HTML,
        follow_redirects=False,
    )
    assert no_csrf.status_code == 403
    assert _requests(session, order["id"]) == []

    sent = _post(
        browser,
        form_path,
        {"scope": "amount", "amount": "10.50", "reason": "one jar cracked"},
        page=form_path,
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == form_path
    [stored] = _requests(session, order["id"])
    assert (stored.status, stored.scope, stored.amount) == ("open", "amount", 1050)
    assert stored.requested_by == f"user:{world.user('buyer').id}"
    after = browser.get(form_path, headers=HTML)
    assert "Waiting for staff" in after.text
    assert 'name="scope"' not in after.text  # one open request: no second form
    again = _post(browser, form_path, {"scope": "whole_order", "reason": "again"}, page=form_path)
    assert again.status_code == 409
    assert "still open" in again.text
    assert len(_requests(session, order["id"])) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scope": "amount", "amount": "10", "reason": "  "}, "reason", "Say why"),
        ({"scope": "amount", "amount": "ten", "reason": "broken"}, "amount", "Enter an amount"),
        ({"scope": "amount", "amount": "136.01", "reason": "broken"}, "amount", "At most 136.00"),
        ({"scope": "lines", "reason": "broken"}, None, "at least one product"),
        ({"scope": "everything", "reason": "broken"}, None, "Choose what you want back"),
    ],
)
def test_form_errors_name_the_field_and_store_nothing(
    world, browser, shipped_order, session, data, field, message
):
    order = shipped_order()
    _sign_in(browser, world.user("buyer"))
    form_path = f"/orders/{order['id']}/refund-request"
    response = _post(browser, form_path, data, page=form_path)
    assert response.status_code == 422, response.text
    assert message in response.text
    if field:
        assert f'id="e-{field}"' in response.text
    assert _requests(session, order["id"]) == []


def test_a_line_request_from_the_form(world, browser, shipped_order, session):
    order = shipped_order()
    line_id = order["lines"][0]["id"]
    _sign_in(browser, world.user("buyer"))
    form_path = f"/orders/{order['id']}/refund-request"
    too_much = _post(
        browser,
        form_path,
        {"scope": "lines", f"line_{line_id}": "136.01", "reason": "both jars broke"},
        page=form_path,
    )
    assert too_much.status_code == 422
    assert f'id="e-line_{line_id}"' in too_much.text
    sent = _post(
        browser,
        form_path,
        {"scope": "lines", f"line_{line_id}": "68", "reason": "one jar broke"},
        page=form_path,
    )
    assert sent.status_code == 303, sent.text
    [stored] = _requests(session, order["id"])
    assert (stored.scope, stored.amount) == ("lines", 6800)


def test_a_guest_asks_with_the_link_and_without_it_is_sent_to_sign_in(
    world, browser, shipped_order, session
):
    order = shipped_order("guest")
    token = order["access_token"]
    order_page = browser.get(f"/orders/{order['id']}?token={token}", headers=HTML)
    assert f"/orders/{order['id']}/refund-request?token={token}" in order_page.text
    form_path = f"/orders/{order['id']}/refund-request"
    bare = browser.get(form_path, headers=HTML, follow_redirects=False)
    assert bare.status_code == 303
    assert bare.headers["location"].startswith("/login")
    with_link = f"{form_path}?token={token}"
    assert browser.get(with_link, headers=HTML).status_code == 200
    no_token = _post(browser, form_path, {"scope": "whole_order", "reason": "late"}, page=with_link)
    assert no_token.status_code == 303
    assert no_token.headers["location"].startswith("/login")
    assert _requests(session, order["id"]) == []
    sent = _post(
        browser,
        form_path,
        {"scope": "whole_order", "reason": "it never arrived", "token": token},
        page=with_link,
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == with_link
    [stored] = _requests(session, order["id"])
    assert (stored.requested_by, stored.scope, stored.amount) == ("guest", "whole_order", 13600)


def test_no_link_for_an_unpaid_order_or_for_others(world, browser, place, shipped_order):
    unpaid = place("buyer", [(world.honey, 1)]).json()
    _sign_in(browser, world.user("buyer"))
    page = browser.get(f"/orders/{unpaid['id']}", headers=HTML)
    assert "/refund-request" not in page.text
    form = browser.get(f"/orders/{unpaid['id']}/refund-request", headers=HTML)
    assert form.status_code == 200
    assert 'id="no-request"' in form.text
    refused = _post(
        browser,
        f"/orders/{unpaid['id']}/refund-request",
        {"scope": "whole_order", "reason": "why not"},
        page=f"/orders/{unpaid['id']}",
    )
    assert refused.status_code == 409
    shipped = shipped_order()
    browser.cookies.clear()
    browser.cookies.set("hezuo_locale", "en")
    _sign_in(browser, world.user("manager_a"))  # sees the order, may not ask for its money
    page = browser.get(f"/orders/{shipped['id']}", headers=HTML)
    assert page.status_code == 200
    assert "/refund-request" not in page.text
    other = TestClient(browser.app, raise_server_exceptions=False)
    _sign_in(other, world.user("other_buyer"))
    assert other.get(f"/orders/{shipped['id']}/refund-request", headers=HTML).status_code == 403


def test_staff_approve_and_decline_from_their_list(
    world, browser, client, as_role, shipped_order, session
):
    first, second = shipped_order(), shipped_order()
    ids = []
    for order in (first, second):
        asked = client.post(
            f"/api/v1/orders/{order['id']}/refund-requests",
            json={"reason": "broken", "amount": 6800},
            headers=as_role("buyer"),
        )
        ids.append(asked.json()["id"])
    _sign_in(browser, world.user("staff"))
    listing = browser.get("/staff/refund-requests", headers=HTML)
    assert listing.status_code == 200
    for request_id in ids:
        assert f'id="request-{request_id}" data-status="open"' in listing.text
    page = "/staff/refund-requests"
    approved = _post(
        browser, f"{page}/{ids[0]}/approve", {"reference": "ICBC-7", "confirmed": "yes"}, page=page
    )
    assert approved.status_code == 303, approved.text
    twice = _post(
        browser, f"{page}/{ids[0]}/approve", {"reference": "ICBC-7", "confirmed": "yes"}, page=page
    )
    assert twice.status_code == 303  # idempotent: still one refund
    blank = _post(browser, f"{page}/{ids[1]}/decline", {"reason": " "}, page=page)
    assert blank.status_code == 422
    assert "Say why" in blank.text
    declined = _post(
        browser, f"{page}/{ids[1]}/decline", {"reason": "Send us a photo first."}, page=page
    )
    assert declined.status_code == 303, declined.text
    late = _post(browser, f"{page}/{ids[1]}/approve", {}, page=page)
    assert late.status_code == 409
    assert "declined" in late.text

    session.rollback()
    decided = {r.id: r for r in session.scalars(select(RefundRequest))}
    assert decided[ids[0]].status == "approved"
    refunds = list(session.scalars(select(Refund).where(col(Refund.order_id) == first["id"])))
    assert [(r.id, r.amount, r.reference) for r in refunds] == [
        (decided[ids[0]].refund_id, 6800, "ICBC-7")
    ]
    assert (decided[ids[1]].status, decided[ids[1]].decline_reason) == (
        "declined",
        "Send us a photo first.",
    )
    for total in trial_balance(session).totals:
        assert total.debits == total.credits
    session.rollback()
    assert "No refund requests here." in browser.get(page, headers=HTML).text
    assert f'id="request-{ids[1]}"' in browser.get(f"{page}?status=declined", headers=HTML).text

    buyer = TestClient(browser.app, raise_server_exceptions=False)
    buyer.cookies.set("hezuo_locale", "en")
    _sign_in(buyer, world.user("buyer"))
    answer = buyer.get(f"/orders/{second['id']}/refund-request", headers=HTML)
    assert "Send us a photo first." in answer.text
    assert 'name="scope"' in answer.text  # decided: the buyer may ask again


def test_only_staff_open_the_list_or_decide(
    world, browser, client, as_role, shipped_order, session
):
    order = shipped_order()
    asked = client.post(
        f"/api/v1/orders/{order['id']}/refund-requests",
        json={"reason": "broken"},
        headers=as_role("buyer"),
    ).json()
    anonymous = browser.get("/staff/refund-requests", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    _sign_in(browser, world.user("manager_a"))
    assert browser.get("/staff/refund-requests", headers=HTML).status_code == 403
    approve = _post(browser, f"/staff/refund-requests/{asked['id']}/approve", {}, page="/me")
    assert approve.status_code == 403
    decline = _post(
        browser, f"/staff/refund-requests/{asked['id']}/decline", {"reason": "no"}, page="/me"
    )
    assert decline.status_code == 403
    [stored] = _requests(session, order["id"])
    assert stored.status == "open"
    # staff too need the form's token
    staff = TestClient(browser.app, raise_server_exceptions=False)
    _sign_in(staff, world.user("staff"))
    forged = staff.post(f"/staff/refund-requests/{asked['id']}/approve", data={}, headers=HTML)
    assert forged.status_code == 403
    assert _requests(session, order["id"])[0].status == "open"


def test_the_pages_render_in_chinese_too(world, app, shipped_order):
    order = shipped_order()
    zh = TestClient(app, raise_server_exceptions=False)
    _sign_in(zh, world.user("buyer"))
    page = zh.get(f"/orders/{order['id']}/refund-request", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-language"] == "zh-CN"
    assert re.search(r"¥136\.00", page.text)
