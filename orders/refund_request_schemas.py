"""Refund request shapes for the JSON API (`/api/v1/orders/{id}/refund-requests`, `/api/v1/refund-requests`)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, field_validator

from orders.refund_request_models import REASON_MAX
from orders.schemas import MAX_AMOUNT, MoneyRead, RefundLineIn, Strict


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class RefundRequestCreate(Strict):
    """Nothing but a reason asks for the whole order back; `amount` asks part of it, spread over
    the lines; `lines` names lines and an amount each (`amount`, if also given, is their sum)."""

    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX)]
    amount: StrictInt | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    currency: Annotated[str | None, Field(pattern=r"^[A-Z]{3}$")] = None
    lines: list[RefundLineIn] | None = Field(default=None, min_length=1, max_length=50)

    _reason = field_validator("reason")(_not_blank)


class RefundRequestApprove(Strict):
    reference: Annotated[str, Field(max_length=100)] = ""  # the bank's reference (manual payments)


class RefundRequestDecline(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX)]

    _reason = field_validator("reason")(_not_blank)


class RefundRequestLineRead(BaseModel):
    line_id: int
    amount: MoneyRead


class RefundRequestRead(BaseModel):
    id: int
    order_id: int
    status: str
    scope: str
    amount: MoneyRead
    lines: list[RefundRequestLineRead] | None
    reason: str
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decline_reason: str | None
    refund_id: int | None
