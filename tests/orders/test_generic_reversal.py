"""Issue 15, Low: reversing an order's payment entry must not leave the order reading "settled".

Before: POST /api/v1/ledger/entries/{id}/reverse reversed an order's payment entry and the order
still read settled (the books said unpaid, the order said paid, the buyer had nothing back). Now
the generic reversal refuses entries that belong to an order (409, pointing at the refund flow,
which moves the money, the ledger and the order together); entries of no flow still reverse.
"""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from ledger.models import JournalEntry
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def _settled_order(client: TestClient, world: Any, as_role: Any, place: Any) -> dict[str, Any]:
    order = place("buyer", [(world.honey, 1)]).json()
    staff = as_role("staff")
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "B-1"},
        headers=staff,
    )
    assert paid.status_code in (200, 201), paid.text
    client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "1"},
        headers=staff,
    )
    client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "settled"
    return order


def _order_entries(session: Session, order_id: int) -> list[JournalEntry]:
    session.rollback()
    return list(
        session.scalars(
            select(JournalEntry)
            .where(col(JournalEntry.reference) == f"order:{order_id}")
            .order_by(col(JournalEntry.id))
        )
    )


def test_an_orders_payment_cannot_be_reversed_by_hand(
    client: TestClient, world: Any, as_role: Any, place: Any, session: Session
) -> None:
    order = _settled_order(client, world, as_role, place)
    entries = _order_entries(session, order["id"])
    payment = next(e for e in entries if e.kind == "payment")
    for role in ("staff", "admin"):
        refused = client.post(f"/api/v1/ledger/entries/{payment.id}/reverse", headers=as_role(role))
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["type"].endswith("ledger-entry-owned")
        assert "/api/v1/orders/{id}/refunds" in problem["detail"]
    # Nothing was posted and the order and the books still agree.
    assert [e.id for e in _order_entries(session, order["id"])] == [e.id for e in entries]
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["status"] == "settled"


def test_the_staff_page_refuses_it_in_the_readers_language(
    client: TestClient, world: Any, as_role: Any, place: Any, session: Session
) -> None:
    order = _settled_order(client, world, as_role, place)
    payment = next(e for e in _order_entries(session, order["id"]) if e.kind == "payment")
    staff = world.user("staff")
    assert sign_in(client, staff.email, TEST_PASSWORD).status_code == 303
    page = f"/staff/ledger/entries/{payment.id}"
    token = csrf_token(client, page)
    refused = client.post(
        f"{page}/reverse", data={"csrf_token": token, "confirm": "yes"}, headers=HTML
    )
    assert refused.status_code == 409
    assert "这笔分录属于订单、打款或培训报名" in refused.text
    assert len(_order_entries(session, order["id"])) > 0
    assert all(e.kind != "reversal" for e in _order_entries(session, order["id"]))
