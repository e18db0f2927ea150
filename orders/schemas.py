"""Orders request and response shapes (docs/api.md, "Orders and payments")."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictInt,
    create_model,
    field_validator,
)

from ledger.share_rules import SHARE_PARTS
from orders.payment_methods import MethodKey

MAX_AMOUNT = 10**12

Text100 = Annotated[str, Field(min_length=1, max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyRead(BaseModel):
    amount: int
    currency: str


class LineIn(Strict):
    product_id: StrictInt = Field(gt=0)
    quantity: StrictInt = Field(gt=0, le=10_000)


class ShippingIn(Strict):
    recipient: Text100
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{5,28}$")]
    province: Annotated[str, Field(min_length=1, max_length=50)]
    city: Annotated[str, Field(min_length=1, max_length=50)]
    district: Annotated[str, Field(min_length=1, max_length=50)]
    street: Annotated[str, Field(min_length=1, max_length=200)]

    @field_validator("recipient", "province", "city", "district", "street")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class OrderCreate(Strict):
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    shipping: ShippingIn
    payment_method: MethodKey  # one of orders/payment_methods.py's keys
    email: EmailStr | None = None
    note: Annotated[str, Field(max_length=500)] = ""


class ManualPaymentIn(Strict):
    amount: StrictInt = Field(gt=0, le=MAX_AMOUNT)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    reference: Annotated[str, Field(max_length=100)] = ""


class StripeReturnIn(Strict):
    payment_intent_id: Annotated[str, Field(min_length=3, max_length=100)]


class ShipIn(Strict):
    carrier: Annotated[str, Field(min_length=1, max_length=50)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=60)]
    coop_id: StrictInt | None = None


class RefundLineIn(Strict):
    line_id: StrictInt
    amount: StrictInt = Field(gt=0, le=MAX_AMOUNT)


class RefundIn(Strict):
    amount: StrictInt = Field(gt=0, le=MAX_AMOUNT)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    reason: Annotated[str, Field(max_length=500)] = ""
    reference: Annotated[str, Field(max_length=100)] = ""
    lines: list[RefundLineIn] | None = None


if TYPE_CHECKING:

    class ShareParts(Strict):
        """Basis points per part: one field per `ledger.share_rules.SHARE_PARTS` key."""

        def __getattr__(self, name: str) -> int: ...

else:
    ShareParts = create_model(
        "ShareParts",
        __base__=Strict,
        __module__=__name__,
        **{part.key: (StrictInt, 0 if part.may_omit else ...) for part in SHARE_PARTS},
    )


class ShareRuleIn(Strict):
    effective_from: date
    parts: ShareParts
    fee_bearer: Literal["enterprise", "pro_rata"] = "enterprise"


class ShareRuleRead(BaseModel):
    id: int
    coop_id: int
    version: int
    effective_from: date
    parts: ShareParts
    fee_bearer: str
    created_at: datetime


class LineRead(BaseModel):
    id: int
    product_id: int
    coop_id: int
    name: dict[str, str]
    unit: str
    quantity: int
    unit_price: MoneyRead
    total: MoneyRead
    refunded: MoneyRead
    shipped: bool
    carrier: str | None
    tracking_number: str | None
    lots: list[dict[str, Any]]
    share_rule: dict[str, Any]


class EventRead(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    note: str
    at: datetime


class OrderRead(BaseModel):
    id: int
    status: str
    payment_status: str
    payment_method: str
    reference_code: str
    total: MoneyRead
    paid: MoneyRead
    refunded: MoneyRead
    lines: list[LineRead]
    shipping: dict[str, str]
    note: str
    email: str | None
    access_token: str | None = None
    payment: dict[str, Any]
    reserved_until: datetime | None
    flagged: bool
    flag_reason: str
    timeline: list[EventRead]
    created_at: datetime


class PaymentRead(BaseModel):
    id: int
    order_id: int
    provider: str
    method: str
    status: str
    authorized: MoneyRead
    captured: MoneyRead
    refunded: MoneyRead
    reference: str
    payment_intent_id: str | None
    client_secret: str | None
    failure_message: str | None
    created_at: datetime


class RefundRead(BaseModel):
    id: int
    order_id: int
    amount: MoneyRead
    reason: str
    reference: str
    after_settlement: bool
    created_at: datetime


class ReceiptPart(BaseModel):
    party: str
    label: str
    amount: int
    currency: str


class ReceiptRead(BaseModel):
    order_id: int
    paid: MoneyRead
    split: list[ReceiptPart]
