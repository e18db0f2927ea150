"""Orders errors: each says what is wrong in the buyer's or operator's words and carries its status."""

from typing import Any

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from core.text import N_


class OrderNotFound(NotFound):
    type_slug = "order-not-found"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"No order {order_id} here.")


class OrderAccessRefused(Forbidden):
    type_slug = "order-access-refused"


class OrderNeedsSignIn(Unauthorized):
    type_slug = "order-needs-sign-in"

    def __init__(self) -> None:
        super().__init__(
            "Sign in, or open the order with the link (token) you were given.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class OrderInvalid(Invalid):
    type_slug = "order-invalid"
    msgid = N_("Some details of the order are not right.")

    def __init__(self, detail: str, *, loc: list[str | int] | None = None) -> None:
        errors: list[dict[str, Any]] | None = (
            [{"loc": loc, "msg": detail}] if loc is not None else None
        )
        super().__init__(detail, errors=errors)


class OutOfStock(Conflict):
    type_slug = "out-of-stock"
    msgid = N_("Not enough stock left.")

    def __init__(self, product_name: str, *, product_id: int, wanted: int, available: int) -> None:
        super().__init__(
            f"Not enough stock of {product_name}: you asked for {wanted}, "
            f"{available} left. Nothing was reserved; change the quantity and try again.",
            errors=[{"loc": ["body", "lines", product_id], "msg": f"only {available} available"}],
        )
        self.product_id = product_id


class IllegalTransition(Conflict):
    type_slug = "illegal-order-transition"
    msgid = N_("The order cannot do this in its present state (%(state)s).")

    def __init__(self, order_id: int, current: str, action: str) -> None:
        super().__init__(
            f"Order {order_id} is {current}: it cannot be {action} now.",
            errors=[{"loc": ["order", "status"], "msg": current}],
            params={"state": current},
        )
        self.current = current


class CashNotRecorded(Conflict):
    """A cash-on-delivery order is delivered (and settled) only once its cash is recorded."""

    type_slug = "cash-not-recorded"
    msgid = N_("The cash collected on delivery has not been recorded yet.")

    def __init__(self, order_id: int) -> None:
        super().__init__(
            f"Order {order_id} is paid on delivery and its cash has not been recorded yet: "
            "the cooperative's manager or staff record it first, then the order is settled.",
            errors=[{"loc": ["order", "payment"], "msg": "cash not recorded"}],
        )


class IdempotencyKeyReused(Conflict):
    type_slug = "idempotency-key-reused"
    msgid = N_("This form was already sent with other content; reload the page and try again.")

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new request.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}],
        )


class PaymentRefused(Conflict):
    type_slug = "payment-refused"
    msgid = N_("The payment cannot be taken now.")


class PaymentDeclined(Conflict):
    """The provider declined; the attempt is stored (keeps_changes) and the order stays payable."""

    type_slug = "payment-declined"
    msgid = N_("The payment was declined.")
    status_code = 402
    title = "Payment declined"
    keeps_changes = True


class PaymentProviderError(Conflict):
    type_slug = "payment-provider-error"
    msgid = N_("The payment service did not answer; try again in a moment.")
    status_code = 502
    title = "Payment provider error"

    def __init__(self, detail: str, *, declined: bool = False) -> None:
        super().__init__(detail)
        self.declined = declined


class StripeDisabled(Conflict):
    type_slug = "stripe-disabled"
    msgid = N_("Online payment is not available here.")

    def __init__(self) -> None:
        super().__init__(
            "Card payment is not configured here; pay by bank transfer or cash on delivery.",
            errors=[{"loc": ["body", "payment_method"], "msg": "stripe is not configured"}],
        )


class BadWebhookSignature(Invalid):
    type_slug = "bad-webhook-signature"
    status_code = 400
    title = "Bad webhook signature"


class RefundRefused(Conflict):
    type_slug = "refund-refused"
    msgid = N_("This refund is not possible.")


class TooManyUnpaidOrders(TooManyRequests):
    """A buyer (by address or by e-mail/phone) already holds the most unpaid orders allowed."""

    type_slug = "too-many-unpaid-orders"
    msgid = N_("You already have %(limit)s unpaid orders holding stock: pay or cancel one first.")

    def __init__(self, *, limit: int, by: str, retry_after: int) -> None:
        super().__init__(
            f"You already have {limit} unpaid orders holding stock (the most allowed per {by}). "
            "Pay or cancel one of them, or wait until one lapses, then order again.",
            errors=[{"loc": ["body"], "msg": f"at most {limit} unpaid orders per {by}"}],
            headers={"Retry-After": str(retry_after)},
        )
        self.params = {"limit": limit}


class LineQuantityTooLarge(OrderInvalid):
    type_slug = "line-quantity-too-large"
    msgid = N_("At most %(limit)s units of one product per order.")

    def __init__(self, *, limit: int, index: int) -> None:
        super().__init__(
            f"At most {limit} units of one product can be ordered at once.",
            loc=["body", "lines", index, "quantity"],
        )
        self.params = {"limit": limit}
