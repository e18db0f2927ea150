"""Cash on delivery through the pages: the order reaches the cooperative's shipping queue unpaid,
ships, the manager records the courier's cash, and delivery settles it like any other order."""

import re
from datetime import timedelta

from sqlmodel import select

from catalog.models import Lot
from ledger.base import utcnow
from orders.fulfilment import auto_deliver, expire_orders
from orders.models import Order
from tests.frontend.helpers import HTML
from tests.orders.test_pages import post_form


def _order(session, order_id: int) -> Order:
    session.rollback()
    session.expire_all()
    return session.scalars(select(Order).where(Order.id == order_id)).one()


def _cash_form(page: str, order_id: int) -> dict[str, str]:
    block = page[page.index(f'id="cash-{order_id}"') :]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', block).group(1)
    return {"idempotency_key": key}


def test_cash_on_delivery_ships_unpaid_then_the_manager_records_the_cash_and_delivery_settles(
    world, client, place, browser_for, session
):
    placed = place("guest", [(world.honey, 2)], method="cash_on_delivery")
    assert placed.status_code == 201, placed.text
    order_id, token = placed.json()["id"], placed.json()["access_token"]

    manager = browser_for("manager_a")
    queue = manager.get("/manage/fulfilment", headers=HTML)
    assert f'id="order-{order_id}"' in queue.text
    assert "¥136.00" in queue.text  # the courier collects the total

    shipped = post_form(
        manager,
        f"/manage/fulfilment/{order_id}/ship",
        {"carrier": "顺丰速运", "tracking_number": "SF1001"},
        page="/manage/fulfilment",
    )
    assert shipped.status_code == 303, shipped.text
    order = _order(session, order_id)
    assert order.status == "shipped"
    assert order.reserved_until is None
    lot = session.scalars(select(Lot).where(Lot.id == world.honey_lot.id)).one()
    assert (lot.reserved, lot.sold) == (0, 2)
    # an order on its way is not expired with its reservation, nor taken as delivered unpaid
    assert expire_orders(session, now=utcnow() + timedelta(days=30)) == []
    assert auto_deliver(session, days=14, now=utcnow() + timedelta(days=30)) == []
    session.rollback()

    # the buyer cannot settle money that was never recorded
    buyer_page = client.get(f"/orders/{order_id}?token={token}", headers=HTML)
    assert "/deliver" not in buyer_page.text
    assert "¥136.00" in buyer_page.text
    refused = client.post(f"/api/v1/orders/{order_id}/deliver?token={token}")
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("cash-not-recorded")

    queue = manager.get("/manage/fulfilment", headers=HTML)
    assert f'id="cash-{order_id}"' in queue.text
    too_much = post_form(
        manager,
        f"/manage/fulfilment/{order_id}/cash",
        {**_cash_form(queue.text, order_id), "amount": "200"},
        page="/manage/fulfilment",
    )
    assert too_much.status_code == 409
    assert 'role="alert"' in too_much.text
    assert _order(session, order_id).status == "shipped"
    recorded = post_form(
        manager,
        f"/manage/fulfilment/{order_id}/cash",
        {**_cash_form(queue.text, order_id), "amount": "136", "reference": "SF-COD-1"},
        page="/manage/fulfilment",
    )
    assert recorded.status_code == 303, recorded.text
    assert f'id="cash-{order_id}"' not in manager.get("/manage/fulfilment", headers=HTML).text
    order = _order(session, order_id)
    assert order.status == "shipped"  # paid now, still on its way

    page = client.get(f"/orders/{order_id}?token={token}", headers=HTML)
    assert f"/orders/{order_id}/deliver" in page.text
    delivered = client.post(f"/api/v1/orders/{order_id}/deliver?token={token}")
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "settled"
    receipt = client.get(f"/api/v1/orders/{order_id}/receipt?token={token}").json()
    assert receipt["paid"] == {"amount": 13600, "currency": "CNY"}
    assert sum(part["amount"] for part in receipt["split"]) == 13600


def test_only_the_orders_cooperative_and_staff_record_its_cash(world, place, browser_for, session):
    placed = place("guest", [(world.honey, 1)], method="cash_on_delivery")
    order_id = placed.json()["id"]
    manager = browser_for("manager_a")
    queue = manager.get("/manage/fulfilment", headers=HTML)
    post_form(
        manager,
        f"/manage/fulfilment/{order_id}/ship",
        {"carrier": "EMS", "tracking_number": "E1"},
        page="/manage/fulfilment",
    )
    queue = manager.get("/manage/fulfilment", headers=HTML)
    form = _cash_form(queue.text, order_id)

    other = browser_for("manager_b")
    assert f'id="cash-{order_id}"' not in other.get("/manage/fulfilment", headers=HTML).text
    refused = post_form(
        other,
        f"/manage/fulfilment/{order_id}/cash",
        {**form, "amount": "68"},
        page="/manage/fulfilment",
    )
    assert refused.status_code == 403
    farmer = browser_for("farmer")
    assert (
        post_form(
            farmer,
            f"/manage/fulfilment/{order_id}/cash",
            {**form, "amount": "68"},
            page="/manage/fulfilment",
        ).status_code
        == 403
    )
    assert _order(session, order_id).status == "shipped"

    # staff see it among the payments to confirm and record it there
    staff = browser_for("staff")
    payments_page = staff.get("/staff/payments", headers=HTML)
    assert f'id="order-{order_id}"' in payments_page.text
    block = payments_page.text[payments_page.text.index(f'id="order-{order_id}"') :]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', block).group(1)
    done = post_form(
        staff,
        f"/staff/payments/{order_id}",
        {"amount": "68", "idempotency_key": key},
        page="/staff/payments",
    )
    assert done.status_code == 303, done.text
    assert f'id="order-{order_id}"' not in staff.get("/staff/payments", headers=HTML).text


def test_a_bank_transfer_order_still_waits_for_its_money_before_shipping(world, place, browser_for):
    placed = place("guest", [(world.honey, 1)])
    order_id = placed.json()["id"]
    manager = browser_for("manager_a")
    assert f'id="order-{order_id}"' not in manager.get("/manage/fulfilment", headers=HTML).text
    refused = post_form(
        manager,
        f"/manage/fulfilment/{order_id}/ship",
        {"carrier": "EMS", "tracking_number": "E1"},
        page="/manage/fulfilment",
    )
    assert refused.status_code == 409
