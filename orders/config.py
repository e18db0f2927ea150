"""Orders settings from the environment (HEZUO_ prefix): reservation time limits, auto-delivery, default rule."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OrdersConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEZUO_ORDERS_", extra="ignore")

    reservation_minutes_stripe: int = Field(default=30, ge=1)
    reservation_minutes_bank_transfer: int = Field(default=72 * 60, ge=1)
    reservation_minutes_cash_on_delivery: int = Field(default=7 * 24 * 60, ge=1)
    auto_deliver_days: int = Field(default=14, ge=1)
    producers_floor: int = Field(default=6000, ge=0, le=10000)
    default_producers: int = 7000
    default_collective_fund: int = 1000
    default_training_fund: int = 1000
    default_enterprise: int = 1000
    max_lines: int = Field(default=50, ge=1)
    max_quantity: int = Field(default=10_000, ge=1)

    def reservation_for(self, payment_method: str) -> timedelta:
        minutes = {
            "stripe": self.reservation_minutes_stripe,
            "bank_transfer": self.reservation_minutes_bank_transfer,
            "cash_on_delivery": self.reservation_minutes_cash_on_delivery,
        }[payment_method]
        return timedelta(minutes=minutes)
