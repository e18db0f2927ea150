"""Irreversible actions ask first, without JavaScript, saying what happens to the money:
"I received the goods" (settles and splits), cancelling, a staff refund and approving a request."""

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.frontend.helpers import HTML
from tests.orders.test_pages import post_form


@pytest.fixture
def shopper(app) -> Iterator[TestClient]:
    """A guest's browser: its own cookies, the order's link (token) in hand."""
    with TestClient(app, raise_server_exceptions=False) as guest:
        yield guest


def _paid_and_shipped(client, place, as_role, world, *, ship: bool = True) -> tuple[int, str]:
    placed = place("guest", [(world.honey, 2)]).json()
    order_id, token = placed["id"], placed["access_token"]
    paid = client.post(
        f"/api/v1/orders/{order_id}/payments/manual",
        json={"amount": 13600, "currency": "CNY", "reference": "ICBC 1"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    if ship:
        shipped = client.post(
            f"/api/v1/orders/{order_id}/ship",
            json={"carrier": "SF", "tracking_number": "SF1"},
            headers=as_role("manager_a"),
        )
        assert shipped.status_code == 200, shipped.text
    return order_id, token


def _status(client, order_id: int, token: str) -> str:
    return client.get(f"/api/v1/orders/{order_id}?token={token}").json()["status"]


def test_i_received_the_goods_first_says_how_the_money_is_shared(
    world, client, place, as_role, shopper
):
    order_id, token = _paid_and_shipped(client, place, as_role, world)
    order_page = f"/orders/{order_id}?token={token}"
    asked = post_form(shopper, f"/orders/{order_id}/deliver", {"token": token}, page=order_page)
    assert asked.status_code == 200
    assert 'id="confirm"' in asked.text
    # ¥136.00 by the default rule 70/10/10/10
    assert "¥136.00" in asked.text
    assert "¥95.20" in asked.text
    assert asked.text.count("¥13.60") == 3
    assert 'name="confirmed" value="yes"' in asked.text
    assert f'name="token" value="{token}"' in asked.text
    assert _status(client, order_id, token) == "shipped"  # nothing happened yet

    done = post_form(
        shopper,
        f"/orders/{order_id}/deliver",
        {"token": token, "confirmed": "yes"},
        page=order_page,
    )
    assert done.status_code == 303
    assert _status(client, order_id, token) == "settled"


def test_cancelling_first_says_whether_money_comes_back(world, client, place, as_role, shopper):
    unpaid = place("guest", [(world.honey, 1)]).json()
    path = f"/orders/{unpaid['id']}"
    asked = post_form(shopper, f"{path}/cancel", {"token": unpaid["access_token"]}, page=path)
    assert asked.status_code == 200
    assert "尚未付款，不涉及资金。" in asked.text
    assert _status(client, unpaid["id"], unpaid["access_token"]) == "pending_payment"

    order_id, token = _paid_and_shipped(client, place, as_role, world, ship=False)
    asked = post_form(
        shopper, f"/orders/{order_id}/cancel", {"token": token}, page=f"/orders/{order_id}"
    )
    assert "¥136.00" in asked.text
    assert _status(client, order_id, token) == "paid"
    done = post_form(
        shopper,
        f"/orders/{order_id}/cancel",
        {"token": token, "confirmed": "yes"},
        page=f"/orders/{order_id}",
    )
    assert done.status_code == 303
    assert _status(client, order_id, token) == "cancelled"


def test_a_staff_refund_is_typed_not_prefilled_and_confirmed(
    world, client, place, as_role, browser_for
):
    order_id, token = _paid_and_shipped(client, place, as_role, world)
    staff = browser_for("staff")
    page = staff.get(f"/orders/{order_id}", headers=HTML).text
    field = re.search(r'<input id="r-amount"[^>]*>', page).group(0)
    assert "value=" not in field
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {"amount": "¥50", "reason": "破损", "idempotency_key": key}
    asked = post_form(staff, f"/orders/{order_id}/refund", form, page=f"/orders/{order_id}")
    assert asked.status_code == 200
    assert "¥50.00" in asked.text
    assert f'name="idempotency_key" value="{key}"' in asked.text
    assert client.get(f"/api/v1/orders/{order_id}?token={token}").json()["refunded"]["amount"] == 0
    done = post_form(
        staff,
        f"/orders/{order_id}/refund",
        {**form, "confirmed": "yes"},
        page=f"/orders/{order_id}",
    )
    assert done.status_code == 303
    state = client.get(f"/api/v1/orders/{order_id}?token={token}").json()
    assert state["refunded"]["amount"] == 5000


def test_approving_a_refund_request_is_confirmed_first(world, client, place, as_role, browser_for):
    placed = place("buyer", [(world.honey, 1)]).json()
    order_id = placed["id"]
    client.post(
        f"/api/v1/orders/{order_id}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("staff"),
    )
    asked = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "买错了"},
        headers=as_role("buyer"),
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    staff = browser_for("staff")
    path = f"/staff/refund-requests/{request_id}/approve"
    shown = post_form(staff, path, {"reference": "ICBC-9"}, page="/staff/refund-requests")
    assert shown.status_code == 200
    assert "¥68.00" in shown.text
    assert 'name="reference" value="ICBC-9"' in shown.text
    listing = staff.get("/staff/refund-requests", headers=HTML).text
    assert f'id="request-{request_id}" data-status="open"' in listing
    done = post_form(
        staff, path, {"reference": "ICBC-9", "confirmed": "yes"}, page="/staff/refund-requests"
    )
    assert done.status_code == 303
    listing = staff.get("/staff/refund-requests?status=approved", headers=HTML).text
    assert f'id="request-{request_id}" data-status="approved"' in listing
