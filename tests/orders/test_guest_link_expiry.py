"""A guest's order link lapses HEZUO_GUEST_TOKEN_DAYS (90) days after the order was placed."""

import uuid
from datetime import timedelta

from ledger.base import utcnow
from orders.models import Order
from tests.orders.conftest import order_body


def _age(session, order_id: int, days: int) -> None:
    session.rollback()
    order = session.get(Order, order_id)
    order.created_at = utcnow() - timedelta(days=days)
    session.add(order)
    session.commit()


def test_a_guest_link_works_for_90_days_then_lapses(world, client, session):
    placed = client.post(
        "/api/v1/orders",
        json=order_body([(world.honey, 1)], email="guest@example.com"),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    order = placed.json()
    path, token = f"/api/v1/orders/{order['id']}", {"token": order["access_token"]}
    _age(session, order["id"], 89)
    assert client.get(path, params=token).status_code == 200
    _age(session, order["id"], 91)
    lapsed = client.get(path, params=token)
    assert lapsed.status_code == 401, lapsed.text  # as without a link: sign in instead
    assert client.post(f"{path}/cancel", params=token).status_code == 401
