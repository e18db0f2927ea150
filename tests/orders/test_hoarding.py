"""Hoarding: caps on unpaid orders per client and per contact, a per-line cap, and reservations
that lapse by themselves at the next checkout (no expiry job needed)."""

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from catalog.models import Lot
from core.actor import Actor
from ledger.base import utcnow
from orders import checkout as checkout_service
from orders.config import OrderPolicy
from orders.models import Order, OrderStatus
from orders.schemas import OrderCreate
from tests.orders.conftest import SHIPPING, order_body
from tests.orders.test_pages import add_to_cart, checkout


def _guest_body(product, quantity: int, n: int, **shipping: str) -> dict:
    body = order_body([(product, quantity)], method="cash_on_delivery")
    body["email"] = f"hoarder{n}@example.com"
    body["shipping"] = {**SHIPPING, "phone": f"1390000{n:04d}", **shipping}
    return body


def _post(client: TestClient, body: dict):
    return client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_one_client_address_holds_at_most_three_unpaid_orders(world, client):
    for n in range(3):
        assert _post(client, _guest_body(world.honey, 1, n)).status_code == 201
    fourth = _post(client, _guest_body(world.honey, 1, 3))
    assert fourth.status_code == 429, fourth.text
    problem = fourth.json()
    assert problem["type"].endswith("/too-many-unpaid-orders")
    assert "3 unpaid orders" in problem["detail"]
    assert "client address" in problem["detail"]
    assert int(fourth.headers["Retry-After"]) > 0
    # Another address is not held back by this one.
    with TestClient(client.app, client=("203.0.113.9", 4000)) as elsewhere:
        assert _post(elsewhere, _guest_body(world.honey, 1, 4)).status_code == 201


def test_one_phone_or_email_holds_at_most_three_unpaid_orders_from_any_address(world, app):
    for n in range(3):
        with TestClient(app, client=(f"198.51.100.{n}", 4000)) as client:
            body = _guest_body(world.honey, 1, n, phone="13800000000")
            assert _post(client, body).status_code == 201
    with TestClient(app, client=("198.51.100.77", 4000)) as client:
        same_phone = _post(client, _guest_body(world.honey, 1, 9, phone="13800000000"))
        assert same_phone.status_code == 429
        assert "e-mail, phone or account" in same_phone.json()["detail"]

    def by_email(n: int, email: str) -> dict:
        return {**_guest_body(world.mushrooms, 1, 20 + n), "email": email}

    for n in range(3):
        with TestClient(app, client=(f"198.51.100.{10 + n}", 4000)) as client:
            assert _post(client, by_email(n, "one@example.com")).status_code == 201
    with TestClient(app, client=("198.51.100.78", 4000)) as client:
        assert _post(client, by_email(9, "ONE@example.com")).status_code == 429


def test_a_signed_in_buyer_is_capped_by_account(world, client, as_role, session):
    placed = []
    for n in range(3):
        body = order_body([(world.honey, 1)], shipping={**SHIPPING, "phone": f"1370000{n:04d}"})
        with TestClient(client.app, client=(f"192.0.2.{n}", 1)) as other:
            answer = other.post(
                "/api/v1/orders",
                json=body,
                headers={**as_role("buyer"), "Idempotency-Key": uuid.uuid4().hex},
            )
        assert answer.status_code == 201, answer.text
        placed.append(answer.json()["id"])
    body = order_body([(world.honey, 1)], shipping={**SHIPPING, "phone": "13799999999"})
    refused = client.post(
        "/api/v1/orders", json=body, headers={**as_role("buyer"), "Idempotency-Key": "x"}
    )
    assert refused.status_code == 429
    # A cancelled order holds nothing and no longer counts.
    cancel = client.post(f"/api/v1/orders/{placed[0]}/cancel", headers=as_role("buyer"))
    assert cancel.status_code == 200, cancel.text
    again = client.post(
        "/api/v1/orders", json=body, headers={**as_role("buyer"), "Idempotency-Key": "y"}
    )
    assert again.status_code == 201, again.text


def test_a_line_above_the_quantity_cap_is_refused_and_nothing_is_held(world, client, session):
    too_many = _post(client, _guest_body(world.honey, 51, 0))
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["loc"] == ["body", "lines", 0, "quantity"]
    assert "At most 50 units" in too_many.json()["detail"]
    split = _guest_body(world.honey, 30, 1)
    split["lines"].append({"product_id": world.honey.id, "quantity": 30})
    assert _post(client, split).status_code == 422
    session.rollback()
    assert session.get(Lot, world.honey_lot.id).reserved == 0


def test_stock_held_past_its_reservation_is_sold_to_the_next_buyer_without_a_job(
    world, client, session
):
    hoard = _post(client, _guest_body(world.honey, 10, 0))
    assert hoard.status_code == 201
    blocked = _post(client, _guest_body(world.honey, 2, 1))
    assert blocked.status_code == 409  # still held: the reservation runs
    session.rollback()
    order = session.get(Order, hoard.json()["id"])
    order.reserved_until = utcnow() - timedelta(minutes=1)
    session.add(order)
    session.commit()

    bought = _post(client, _guest_body(world.honey, 10, 2))
    assert bought.status_code == 201, bought.text
    session.rollback()
    session.expire_all()
    assert session.get(Order, hoard.json()["id"]).status == OrderStatus.expired
    lot = session.get(Lot, world.honey_lot.id)
    assert (lot.reserved, lot.sold) == (10, 0)  # the new order's 10, nothing oversold


def test_the_caps_are_settings_and_a_large_value_turns_them_off(world, session):
    loose = OrderPolicy(max_unpaid_orders_per_client=10_000, max_unpaid_orders_per_contact=10_000)
    for n in range(5):
        data = OrderCreate.model_validate(
            {**order_body([(world.mushrooms, 1)]), "email": "same@example.com"}
        )
        _, created = checkout_service.place_order(
            session,
            data=data,
            actor=Actor.anonymous(),
            idempotency_key=f"loose-{n}",
            policy=loose,
            stripe_enabled=False,
            client_address="192.0.2.50",
        )
        assert created
    session.rollback()


def test_the_checkout_page_names_the_limit_in_chinese(world, app):
    with TestClient(app) as browser:
        browser.cookies.set("hezuo_locale", "zh-CN")
        for n in range(3):
            add_to_cart(browser, world.honey, 1)
            placed = checkout(browser, email=f"page{n}@example.com", phone=f"1360000{n:04d}")
            assert placed.status_code == 303, placed.text
        add_to_cart(browser, world.honey, 1)
        refused = checkout(browser, email="page9@example.com", phone="13600009999")
    assert refused.status_code == 429
    assert "您已有 3 笔未付款的订单" in refused.text
    assert 'value="page9@example.com"' in refused.text  # the form again, with what was typed
