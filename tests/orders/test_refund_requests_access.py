"""Who may ask, read, list and decide refund requests — and who is refused, with which status."""

# ruff: noqa: F811  (fixtures imported from another module are redefined as arguments)

import pytest

from tests.orders.test_refund_requests import _ask, paid_order  # noqa: F401  (fixture)


@pytest.fixture
def open_request(world, client, as_role, paid_order):
    order = paid_order(until="shipped")  # honey only: cooperative A
    asked = _ask(client, as_role("buyer"), order["id"], amount=1000)
    assert asked.status_code == 201, asked.text
    return order, asked.json()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("other_buyer", 403),
        ("farmer", 403),
        ("manager_a", 403),  # sees the order, but only its buyer asks for money back
        ("manager_b", 403),
        ("staff", 403),
        ("admin", 403),
    ],
)
def test_only_the_buyer_asks(world, client, as_role, paid_order, role, status):
    order = paid_order(until="shipped")
    response = _ask(client, as_role(role), order["id"], amount=100)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    reread = client.get(f"/api/v1/orders/{order['id']}/refund-requests", headers=as_role("staff"))
    assert reread.json()["items"] == []


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("buyer", 200),
        ("staff", 200),
        ("admin", 200),
        ("manager_a", 200),  # a cooperative in the order: sees it, as it sees the order
        ("manager_b", 403),
        ("other_buyer", 403),
        ("farmer", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_an_orders_requests(client, as_role, open_request, role, status):
    order, request = open_request
    response = client.get(f"/api/v1/orders/{order['id']}/refund-requests", headers=as_role(role))
    assert response.status_code == status, response.text
    if status == 200:
        assert [r["id"] for r in response.json()["items"]] == [request["id"]]
        assert response.json()["items"][0]["reason"] == "两瓶蜂蜜在路上碎了"


def test_an_unknown_order_is_404(client, as_role, world):
    assert _ask(client, as_role("buyer"), 999999).status_code == 404
    missing = client.get("/api/v1/orders/999999/refund-requests", headers=as_role("staff"))
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("other_buyer", 403),
        ("farmer", 403),
        ("manager_a", 403),
        ("manager_b", 403),
    ],
)
def test_only_staff_list_and_decide(client, as_role, open_request, role, status):
    order, request = open_request
    headers = as_role(role)
    assert client.get("/api/v1/refund-requests", headers=headers).status_code == status
    url = f"/api/v1/refund-requests/{request['id']}"
    assert client.post(f"{url}/approve", headers=headers).status_code == status
    declined = client.post(f"{url}/decline", json={"reason": "no"}, headers=headers)
    assert declined.status_code == status
    still = client.get(f"/api/v1/orders/{order['id']}/refund-requests", headers=as_role("buyer"))
    assert still.json()["items"][0]["status"] == "open"
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["refunded"]["amount"] == 0


def test_staff_list_by_status_page_by_page(world, client, as_role, paid_order):
    ids = []
    for _ in range(3):
        order = paid_order(until="shipped")
        ids.append(_ask(client, as_role("buyer"), order["id"], amount=100).json()["id"])
    client.post(
        f"/api/v1/refund-requests/{ids[1]}/decline",
        json={"reason": "not broken"},
        headers=as_role("staff"),
    )
    staff = as_role("staff")
    first = client.get("/api/v1/refund-requests?status=open&limit=1", headers=staff).json()
    assert [r["id"] for r in first["items"]] == [ids[0]]
    assert first["next_cursor"]
    second = client.get(
        f"/api/v1/refund-requests?status=open&limit=1&cursor={first['next_cursor']}",
        headers=staff,
    ).json()
    assert [r["id"] for r in second["items"]] == [ids[2]]
    assert second["next_cursor"] is None
    everything = client.get("/api/v1/refund-requests", headers=staff).json()
    assert [r["status"] for r in everything["items"]] == ["open", "declined", "open"]
    assert client.get("/api/v1/refund-requests?status=bogus", headers=staff).status_code == 422
