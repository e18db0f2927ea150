"""Domain policies built from the one Settings class, so that domains never import api."""

from api.accounts import ResetPolicy
from api.login_limits import LoginLimits
from api.settings import Settings
from ledger.share_rules import ShareParts
from notify.config import DeliveryConfig
from orders.config import OrderPolicy
from training.config import TrainingConfig


def order_policy(settings: Settings) -> OrderPolicy:
    """The orders policy from the HEZUO_ settings (raises a domain error when they do not fit)."""
    rule = settings.default_share_rule
    return OrderPolicy(
        reservation_minutes=settings.reservation_minutes(),
        auto_deliver_days=settings.auto_deliver_days,
        producers_floor_bp=settings.producers_floor_bp,
        default_share_rule=ShareParts.of_row(rule),
        default_fee_bearer=settings.default_fee_bearer,
        link_secret=settings.secret_key,
        max_unpaid_orders_per_client=settings.max_unpaid_orders_per_client,
        max_unpaid_orders_per_contact=settings.max_unpaid_orders_per_contact,
        max_line_quantity=settings.max_line_quantity,
    )


def training_config(settings: Settings) -> TrainingConfig:
    return TrainingConfig(
        window_months=settings.training_window_months,
        need_line_per_capita=settings.training_need_line_per_capita,
        need_lookback_months=settings.training_need_lookback_months,
        public_min_group=settings.training_public_min_group,
    )


def delivery_config(settings: Settings) -> DeliveryConfig:
    """What the notification delivery job needs from the HEZUO_ settings."""
    return DeliveryConfig.from_settings(settings)


def login_limits(settings: Settings) -> LoginLimits:
    return LoginLimits(
        per_account_and_client=settings.login_max_failures,
        per_client=settings.login_max_failures_per_client,
        per_account=settings.login_max_failures_per_account,
        window_seconds=settings.login_window_seconds,
    )


def reset_policy(settings: Settings) -> ResetPolicy:
    return ResetPolicy(
        minutes=settings.password_reset_minutes,
        max_guesses=settings.password_reset_max_guesses,
        max_per_phone=settings.password_reset_max_per_phone,
        max_per_client=settings.password_reset_max_per_client,
        secret=settings.secret_key,
    )
