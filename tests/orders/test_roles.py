"""Every orders route refuses whoever may not use it: role AND ownership."""

import pytest

ROLES = ["anonymous", "other_buyer", "buyer", "farmer", "manager_a", "manager_b", "staff", "admin"]


def _expect(allowed: dict[str, int], role: str) -> int:
    if role in allowed:
        return allowed[role]
    return 401 if role == "anonymous" else 403


@pytest.fixture
def order(world, place):
    response = place("buyer", [(world.honey, 1)])
    assert response.status_code == 201
    return response.json()


CASES = {
    # route: (method, path, json, {role: status} for those allowed; the rest 401/403)
    "read": (
        "get",
        "/api/v1/orders/{id}",
        None,
        {"buyer": 200, "manager_a": 200, "staff": 200, "admin": 200},
    ),
    "receipt": (
        "get",
        "/api/v1/orders/{id}/receipt",
        None,
        {"buyer": 200, "manager_a": 200, "staff": 200, "admin": 200},
    ),
    "manual_payment": (
        "post",
        "/api/v1/orders/{id}/payments/manual",
        {"amount": 100, "currency": "CNY", "reference": "x"},
        {"manager_a": 201, "staff": 201, "admin": 201},
    ),
    # allowed callers get 409: the order is not paid yet
    "ship": (
        "post",
        "/api/v1/orders/{id}/ship",
        {"carrier": "SF", "tracking_number": "1"},
        {"manager_a": 409, "staff": 409, "admin": 409},
    ),
    "deliver": (
        "post",
        "/api/v1/orders/{id}/deliver",
        None,
        {"buyer": 409, "staff": 409, "admin": 409},
    ),
    "refund": (
        "post",
        "/api/v1/orders/{id}/refunds",
        {"amount": 100, "currency": "CNY", "reason": "r"},
        {"staff": 409, "admin": 409},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_order_routes_refuse_the_wrong_people(client, as_role, order, role, case):
    method, path, body, allowed = CASES[case]
    headers = {**as_role(role), "Idempotency-Key": "k-1"}
    response = client.request(method, path.format(id=order["id"]), json=body, headers=headers)
    assert response.status_code == _expect(allowed, role), response.text


@pytest.mark.parametrize("role", ROLES)
def test_only_the_buyer_or_staff_cancel(client, as_role, order, role):
    response = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=as_role(role))
    assert response.status_code == _expect({"buyer": 200, "staff": 200, "admin": 200}, role), (
        response.text
    )


def test_a_guest_uses_the_signed_link_and_nothing_else(client, world, place):
    order = place("guest", [(world.honey, 1)]).json()
    token = order["access_token"]
    base = f"/api/v1/orders/{order['id']}"
    assert client.get(f"{base}?token={token}").status_code == 200
    assert client.get(f"{base}/receipt?token={token}").status_code == 200
    assert client.get(f"{base}?token={token[:-1]}x").status_code == 401
    assert client.post(f"{base}/deliver?token={token}").status_code == 409
    assert (
        client.post(
            f"{base}/payments/manual?token={token}", json={"amount": 1, "currency": "CNY"}
        ).status_code
        == 401
    )
    assert client.post(f"{base}/cancel?token={token}").json()["status"] == "cancelled"


@pytest.mark.parametrize("role", ROLES)
def test_share_rules_are_staff_only(client, as_role, world, role):
    body = {
        "effective_from": "2026-01-01",
        "parts": {
            "producers": 7000,
            "collective_fund": 1000,
            "training_fund": 1000,
            "enterprise": 1000,
        },
        "fee_bearer": "enterprise",
    }
    put = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule", json=body, headers=as_role(role)
    )
    assert put.status_code == _expect({"staff": 201, "admin": 201}, role), put.text
    listed = client.get(f"/api/v1/coops/{world.coop_a.id}/share-rules", headers=as_role(role))
    assert listed.status_code == _expect({"staff": 200, "admin": 200}, role)


@pytest.mark.parametrize("role", ROLES)
def test_fulfilment_queue_is_the_coops_manager_or_staff(client, as_role, world, role):
    response = client.get(f"/api/v1/coops/{world.coop_a.id}/fulfilment", headers=as_role(role))
    assert response.status_code == _expect({"manager_a": 200, "staff": 200, "admin": 200}, role)


def test_lists_show_each_person_their_own(client, as_role, order):
    ids = {
        role: [o["id"] for o in client.get("/api/v1/orders", headers=as_role(role)).json()["items"]]
        for role in ("buyer", "other_buyer", "manager_a", "manager_b", "staff")
    }
    assert ids == {
        "buyer": [order["id"]],
        "other_buyer": [],
        "manager_a": [order["id"]],
        "manager_b": [],
        "staff": [order["id"]],
    }
    assert client.get("/api/v1/orders").status_code == 401
