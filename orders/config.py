"""The orders policy: reservation time limits, auto-delivery, producers' floor and the default share rule.

A plain frozen value with safe defaults. The composition root builds it from the one Settings
class (api/policies.py, variables HEZUO_RESERVATION_MINUTES_CARD, ...) and passes it to services.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ledger.share_rules import SHARE_PARTS, ShareParts, check_producers_floor
from orders import payment_methods
from orders.errors import OrderInvalid

FEE_BEARERS = ("enterprise", "pro_rata")


def _default_rule() -> ShareParts:
    return ShareParts(**{part.key: part.default_bp for part in SHARE_PARTS})


@dataclass(frozen=True)
class OrderPolicy:
    # Minutes an unpaid order holds its stock, by payment method key (orders/payment_methods.py).
    reservation_minutes: Mapping[str, int] = field(
        default_factory=payment_methods.default_reservation_minutes, hash=False
    )
    auto_deliver_days: int = 14
    producers_floor_bp: int = 6000
    default_share_rule: ShareParts = field(default_factory=_default_rule)
    default_fee_bearer: str = "enterprise"
    # Signs the guest's order link in the order confirmation (HEZUO_SECRET_KEY; "" = no link token).
    link_secret: str = field(default="", repr=False, compare=False)
    # Hoarding limits (orders/hoarding.py); a large value turns a cap off.
    max_unpaid_orders_per_client: int = 3
    max_unpaid_orders_per_contact: int = 3
    max_line_quantity: int = 50

    def __post_init__(self) -> None:
        windows = {**payment_methods.default_reservation_minutes(), **self.reservation_minutes}
        unknown = sorted(set(windows) - set(payment_methods.KEYS))
        if unknown:
            raise OrderInvalid(
                f"reservation_minutes names unknown payment methods: {', '.join(unknown)}.",
                loc=["reservation_minutes"],
            )
        object.__setattr__(self, "reservation_minutes", windows)
        for method in payment_methods.METHODS:
            _whole_number(method.reservation_setting, windows[method.key])
        for name in (
            "auto_deliver_days",
            "max_unpaid_orders_per_client",
            "max_unpaid_orders_per_contact",
            "max_line_quantity",
        ):
            _whole_number(name, getattr(self, name))
        if self.default_fee_bearer not in FEE_BEARERS:
            raise OrderInvalid(
                "default_fee_bearer must be 'enterprise' or 'pro_rata'.", loc=["default_fee_bearer"]
            )
        # The default rule obeys the floor like any rule staff set.
        check_producers_floor(self.default_share_rule, floor=self.producers_floor_bp)

    def reservation_for(self, payment_method: str) -> timedelta:
        return timedelta(minutes=self.reservation_minutes[payment_method])


def _whole_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OrderInvalid(f"{name} must be a whole number ≥ 1, not {value!r}.", loc=[name])
