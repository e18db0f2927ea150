"""The one door to Stripe: every outgoing call goes through here, with an idempotency key from our ids.

Only the basic parameters that both Stripe and the test emulator (localstripe) accept are sent.
Results come back as small frozen views, so the rest of the domain never touches SDK objects.
"""

import logging
from dataclasses import dataclass
from typing import Any

import stripe

from orders.errors import PaymentProviderError

logger = logging.getLogger("hezuo.orders.stripe")


@dataclass(frozen=True)
class IntentView:
    """What we need to know about a PaymentIntent."""

    id: str
    status: str
    amount: int
    amount_received: int
    currency: str
    client_secret: str | None
    failure_message: str | None
    metadata: dict[str, str]


@dataclass(frozen=True)
class RefundView:
    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class EventView:
    id: str
    type: str
    object_id: str | None
    payload: dict[str, Any]


class StripeGateway:
    """Wraps `stripe.StripeClient` (pointed at `api_base` when given, e.g. the emulator)."""

    def __init__(
        self,
        secret_key: str,
        *,
        api_base: str | None = None,
        payment_method_types: tuple[str, ...] = ("card",),
    ) -> None:
        self.payment_method_types = payment_method_types
        addresses: dict[str, str] = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=2,
        )

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        order_id: int,
        payment_id: int,
    ) -> IntentView:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": list(self.payment_method_types),
            "metadata": {"order_id": str(order_id), "payment_id": str(payment_id)},
        }
        intent = self._call(
            lambda: self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"hezuo-payment-{payment_id}-intent"},
            )
        )
        return _intent_view(intent)

    def retrieve_payment_intent(self, intent_id: str) -> IntentView:
        return _intent_view(self._call(lambda: self.client.v1.payment_intents.retrieve(intent_id)))

    def processing_fee(self, payment_intent_id: str) -> int | None:
        """The fee Stripe kept on the intent's charge (its balance transaction); None if unknown."""
        try:
            intent = self._call(
                lambda: self.client.v1.payment_intents.retrieve(payment_intent_id)
            ).to_dict()
            charge = intent.get("latest_charge")
            charge_id = charge.get("id") if isinstance(charge, dict) else charge
            if not charge_id:
                return None
            found = self._call(lambda: self.client.v1.charges.retrieve(str(charge_id))).to_dict()
            transaction = found.get("balance_transaction")
            if isinstance(transaction, str):
                transaction = self._call(
                    lambda: self.client.v1.balance_transactions.retrieve(str(transaction))
                ).to_dict()
            if not isinstance(transaction, dict):
                return None
            return int(transaction.get("fee") or 0)
        except PaymentProviderError:
            logger.warning("no processing fee for %s", payment_intent_id, exc_info=True)
            return None

    def refund(self, *, payment_intent_id: str, amount: int, idempotency_key: str) -> RefundView:
        refund = self._call(
            lambda: self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount},
                options={"idempotency_key": idempotency_key},
            )
        )
        return RefundView(id=refund.id, status=str(refund.status), amount=int(refund.amount))

    @staticmethod
    def verify_event(payload: bytes, signature: str | None, secret: str) -> EventView:
        """The event if its signature is good; raises `stripe.SignatureVerificationError` or ValueError."""
        if not signature:
            raise ValueError("no Stripe-Signature header")
        event = stripe.Webhook.construct_event(payload, signature, secret)
        data = event.to_dict()
        obj = data.get("data", {}).get("object", {}) or {}
        object_id = obj.get("id") if isinstance(obj, dict) else None
        return EventView(id=event.id, type=event.type, object_id=object_id, payload=data)

    @staticmethod
    def _call(action: Any) -> Any:
        try:
            return action()
        except stripe.CardError as error:
            raise PaymentProviderError(
                error.user_message or "The card was declined.", declined=True
            ) from error
        except stripe.StripeError as error:
            raise PaymentProviderError(
                f"The payment provider refused the request: {error.user_message or error}"
            ) from error


def _intent_view(stripe_intent: Any) -> IntentView:
    intent = stripe_intent.to_dict()
    error = intent.get("last_payment_error") or None
    message = None
    if error:
        message = error.get("message") or error.get("code") or "The payment failed."
    metadata = dict(intent.get("metadata") or {})
    return IntentView(
        id=str(intent["id"]),
        status=str(intent["status"]),
        amount=int(intent["amount"]),
        amount_received=_amount_received(intent),
        currency=str(intent["currency"]).upper(),
        client_secret=intent.get("client_secret"),
        failure_message=message,
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


def _amount_received(intent: Any) -> int:
    # The emulator has no amount_received; a succeeded intent received its whole amount.
    received = intent.get("amount_received")
    if received is not None:
        return int(received)
    return int(intent["amount"]) if intent["status"] == "succeeded" else 0
