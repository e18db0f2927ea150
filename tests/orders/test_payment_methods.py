"""Payment methods come from one registry (orders/payment_methods.py): the API's choices, the
stored column's width, the settings and the policy, checkout's offer, and the manual queues."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from api.policies import order_policy
from api.settings import Settings
from core.actor import Actor
from governance.dashboard import staff_tiles
from orders import payment_methods
from orders.config import OrderPolicy
from orders.errors import OrderInvalid
from orders.models import Order, Payment
from orders.payment_methods import KEY_MAX_LENGTH, METHODS, check_keys, offered
from orders.schemas import OrderCreate
from orders.views import awaiting_manual_payment
from tests.orders.conftest import order_body

STAFF = Actor(user_id=0, role="staff")


def test_every_key_fits_the_stored_columns():
    assert Order.__table__.c.payment_method.type.length == KEY_MAX_LENGTH  # type: ignore[attr-defined]
    assert Payment.__table__.c.method.type.length >= KEY_MAX_LENGTH  # type: ignore[attr-defined]
    for method in METHODS:
        assert 1 <= len(method.key) <= KEY_MAX_LENGTH
    with pytest.raises(ValueError, match="1–20 characters"):
        check_keys(["cash_at_the_cooperative_office"])  # 30 characters: refused at import


def test_the_api_accepts_exactly_the_registry_keys(world):
    body = order_body([(world.honey, 1)])
    for method in METHODS:
        assert OrderCreate.model_validate({**body, "payment_method": method.key}).payment_method
    with pytest.raises(ValidationError):
        OrderCreate.model_validate({**body, "payment_method": "cash_at_the_cooperative_office"})
    schema = OrderCreate.model_json_schema()
    assert schema["properties"]["payment_method"]["enum"] == [m.key for m in METHODS]


def test_a_method_key_longer_than_the_column_is_refused_on_both_databases(place, world):
    # SQLite does not enforce VARCHAR(20); the registry's Literal refuses it before any row.
    refused = place("buyer", [(world.honey, 1)], method="x" * (KEY_MAX_LENGTH + 1))
    assert refused.status_code == 422, refused.text


@pytest.mark.parametrize("method", [m.key for m in METHODS if m.manual])
def test_each_manual_method_is_stored_and_queued_for_staff(method, place, world, session):
    placed = place("buyer", [(world.honey, 1)], method=method)
    assert placed.status_code == 201, placed.text
    session.rollback()
    stored = session.get(Order, placed.json()["id"])
    assert stored is not None
    assert stored.payment_method == method
    assert stored.id in {order.id for order in awaiting_manual_payment(session)}
    [tile] = [t for t in staff_tiles(session, actor=STAFF) if t.key == "pending_payments"]
    assert tile.count >= 1


def test_settings_have_one_reservation_window_per_method(monkeypatch):
    for method in METHODS:
        assert (
            Settings.model_fields[method.reservation_setting].default == method.reservation_minutes
        )
    monkeypatch.setenv("HEZUO_RESERVATION_MINUTES_BANK_TRANSFER", "17")
    policy = order_policy(Settings())
    assert policy.reservation_for("bank_transfer") == timedelta(minutes=17)
    assert set(policy.reservation_minutes) == set(payment_methods.KEYS)


def test_the_policy_refuses_a_window_for_no_method_and_a_zero_window():
    with pytest.raises(OrderInvalid, match="unknown payment methods: cheque"):
        OrderPolicy(reservation_minutes={"cheque": 10})
    with pytest.raises(OrderInvalid, match="reservation_minutes_cash_on_delivery"):
        OrderPolicy(reservation_minutes={"cash_on_delivery": 0})


def test_checkout_offers_online_methods_only_when_stripe_is_configured():
    without = [m.key for m in offered(online_enabled=False)]
    assert without == [m.key for m in METHODS if m.manual]
    assert "stripe" not in without
    assert [m.key for m in offered(online_enabled=True)] == [m.key for m in METHODS]


def test_what_each_method_declares():
    cod = payment_methods.method_of("cash_on_delivery")
    assert cod.manual
    assert cod.ships_before_payment
    assert cod.payee == "courier"
    transfer = payment_methods.method_of("bank_transfer")
    assert transfer.manual
    assert not transfer.ships_before_payment
    assert transfer.payee == "bank_account"
    online = payment_methods.method_of("stripe")
    assert online.online
    assert not online.manual
    assert payment_methods.SHIPS_BEFORE_PAYMENT_KEYS == ("cash_on_delivery",)
    assert all(m.instructions and m.instructions.startswith("orders/methods/") for m in METHODS)
