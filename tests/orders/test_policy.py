"""The orders policy comes from the one Settings class (HEZUO_ variables) and non-default values bite."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from api.policies import order_policy
from api.settings import Settings
from ledger.base import utcnow
from ledger.share_rules import ShareParts
from orders.config import OrderPolicy
from orders.errors import OrderInvalid
from orders.fulfilment import expire_orders
from orders.models import Order

CUSTOM = {
    "reservation_minutes_bank_transfer": 5,
    "producers_floor_bp": 7500,
    "default_share_rule": {
        "producers": 8000,
        "collective_fund": 500,
        "training_fund": 500,
        "enterprise": 1000,
    },
    "default_fee_bearer": "pro_rata",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings(**{**settings.model_dump(), **CUSTOM})


def test_the_environment_reaches_the_policy(monkeypatch):
    monkeypatch.setenv("HEZUO_RESERVATION_MINUTES_CARD", "12")
    monkeypatch.setenv("HEZUO_RESERVATION_MINUTES_CASH_ON_DELIVERY", "600")
    monkeypatch.setenv("HEZUO_AUTO_DELIVER_DAYS", "9")
    monkeypatch.setenv("HEZUO_PRODUCERS_FLOOR_BP", "6500")
    monkeypatch.setenv(
        "HEZUO_DEFAULT_SHARE_RULE",
        '{"producers": 6500, "collective_fund": 1500, "training_fund": 1000, "enterprise": 1000}',
    )
    policy = order_policy(Settings())
    assert policy.reservation_for("stripe") == timedelta(minutes=12)
    assert policy.reservation_for("cash_on_delivery") == timedelta(minutes=600)
    assert policy.reservation_for("bank_transfer") == timedelta(hours=72)  # the default
    assert policy.auto_deliver_days == 9
    assert policy.producers_floor_bp == 6500
    assert policy.default_share_rule == ShareParts(6500, 1500, 1000, 1000)


def test_defaults_match_between_settings_and_policy():
    assert order_policy(Settings(_env_file=None)) == OrderPolicy()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "fields",
    [
        {"producers_floor_bp": 8000},  # the default rule gives producers 7000
        {"default_share_rule": {"producers": 8000}},  # with the other defaults: 11000
        {"reservation_minutes_card": 0},
        {"default_fee_bearer": "buyer"},
    ],
)
def test_settings_that_do_not_fit_refuse_to_start(fields):
    with pytest.raises(ValidationError):
        Settings(**fields)


def test_the_policy_checks_itself_when_built_directly():
    with pytest.raises(OrderInvalid):
        OrderPolicy(reservation_minutes={"bank_transfer": 0})
    with pytest.raises(Exception, match="may not be below"):
        OrderPolicy(producers_floor_bp=9000)


def test_a_short_bank_transfer_reservation_takes_effect(world, place, session):
    order = place("buyer", [(world.honey, 1)]).json()
    reserved_until = order["reserved_until"]
    assert reserved_until is not None
    session.rollback()
    stored = session.get(Order, order["id"])
    assert stored is not None
    assert stored.reserved_until is not None
    left = stored.reserved_until - utcnow()
    assert timedelta(minutes=4) < left <= timedelta(minutes=5)
    assert expire_orders(session, now=utcnow() + timedelta(minutes=6)) == [order["id"]]
    session.rollback()


def test_the_configured_default_rule_is_snapshotted_and_the_floor_applies(
    world, client, as_role, place
):
    order = place("buyer", [(world.mushrooms, 1)]).json()
    rule = order["lines"][0]["share_rule"]
    assert rule["id"] is None
    assert rule["parts"] == ShareParts(**CUSTOM["default_share_rule"]).as_dict()
    assert rule["fee_bearer"] == "pro_rata"
    below = client.put(
        f"/api/v1/coops/{world.coop_a.id}/share-rule",
        json={
            "effective_from": "2026-01-01",
            "parts": {
                "producers": 7000,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 1000,
            },
        },
        headers=as_role("staff"),
    )
    assert below.status_code == 422, below.text  # fine under the default floor (6000), not 7500
    assert "7500" in below.json()["detail"]
