"""The bank-transfer journey through the API: place, pay, ship per cooperative, deliver, settle, receipt."""

from sqlmodel import select

from catalog.models import Lot
from ledger.service import balance, trial_balance
from tests.orders.conftest import SHIPPING


def _lot(session, lot_id):
    session.rollback()
    session.expire_all()
    return session.scalars(select(Lot).where(Lot.id == lot_id)).one()


def test_guest_orders_two_coops_pays_by_transfer_and_the_receipt_sums_to_the_payment(
    world, client, as_role, place, session
):
    response = place("guest", [(world.honey, 2), (world.mushrooms, 1)])
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == {"amount": 2 * 6800 + 4500, "currency": "CNY"}
    assert order["payment"]["provider"] == "manual"
    assert order["payment"]["reference_code"].startswith("HZ")
    assert order["shipping"] == SHIPPING
    token = order["access_token"]
    assert token
    assert _lot(session, world.honey_lot.id).reserved == 2

    # a guest reads it with the token, and only with it
    assert client.get(f"/api/v1/orders/{order['id']}?token={token}").status_code == 200
    assert client.get(f"/api/v1/orders/{order['id']}").status_code == 401
    assert client.get(f"/api/v1/orders/{order['id']}?token=wrong").status_code == 401

    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 18100, "currency": "CNY", "reference": "ICBC 0042"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    state = client.get(f"/api/v1/orders/{order['id']}?token={token}").json()
    assert state["status"] == "paid"
    assert state["payment_status"] == "paid"
    lot = _lot(session, world.honey_lot.id)
    assert (lot.reserved, lot.sold) == (0, 2)

    # each cooperative's manager ships their own lines
    first = client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "SF100"},
        headers=as_role("manager_a"),
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "paid"
    again = client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "SF100"},
        headers=as_role("manager_a"),
    )
    assert again.status_code == 409
    second = client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "EMS", "tracking_number": "E200"},
        headers=as_role("manager_b"),
    )
    assert second.json()["status"] == "shipped"

    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver?token={token}")
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "settled"
    timeline = [e["to_status"] for e in delivered.json()["timeline"]]
    assert timeline == ["pending_payment", "paid", "shipped", "delivered", "settled"]

    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt?token={token}").json()
    assert receipt["paid"] == {"amount": 18100, "currency": "CNY"}
    assert sum(part["amount"] for part in receipt["split"]) == 18100
    parties = {part["party"]: part["amount"] for part in receipt["split"]}
    # honey 13600 by the default rule 70/10/10/10 → producers 9520 split 6:4 between h1 and h2
    assert parties[f"household:{world.h1.member_code}"] == 5712
    assert parties[f"household:{world.h2.member_code}"] == 3808
    assert parties[f"household:{world.h3.member_code}"] == 3150
    assert parties[f"fund:collective:{world.coop_a.id}"] == 1360
    assert parties["enterprise"] == 1360 + 450
    assert "escrow" not in parties

    session.rollback()
    assert balance(session, "liabilities:buyers:deposits").amount == 0
    assert balance(session, "assets:clearing:manual").amount == 18100
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def test_delivering_twice_settles_once(world, client, as_role, place, session):
    order = place("buyer", [(world.honey, 1)]).json()
    client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("manager_a"),
    )
    client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "1"},
        headers=as_role("manager_a"),
    )
    assert (
        client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer")).status_code
        == 200
    )
    again = client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"Order {order['id']} is settled")
    session.rollback()
    assert balance(session, f"liabilities:members:{world.h1.id}:payable").amount == 2856
