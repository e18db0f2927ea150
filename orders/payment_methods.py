"""Payment methods: the one list that checkout, the queues, the dashboard, pages, schemas and settings read.

Each method says once what everything else asks of it: paid by hand (staff or a manager record
the money) or online (Stripe); the setting that holds its reservation window and that window's
default; whether the goods may leave before it is paid (cash on delivery); whether it needs a
delivery address or is a pickup; the template that tells the buyer how to pay; the payee details
that template shows; and its label (a gettext msgid, translated on pages).

Adding a method is one `PaymentMethodSpec` in `METHODS` (its key at most `KEY_MAX_LENGTH`
characters, the stored column's width), its label's zh_CN translation in the catalog, and, if it
shows instructions, its template in frontend/templates/orders/methods/ (docs/architecture.md).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

# The width of orders.payment_method (and payments.method); tests check every key fits.
KEY_MAX_LENGTH = 20

# What the buyer is shown to pay to: the bank account for transfers (the cooperative's own, or
# the marketplace's, orders/bank_transfer.py), the courier at the door, the office of the
# cooperative, or the online provider's page.
Payee = Literal["bank_account", "courier", "coop_office", "online_provider"]


def N_(message: str) -> str:
    """Marks a msgid for `pybabel extract` (frontend/babel.cfg); translated where it is shown."""
    return message


@dataclass(frozen=True)
class PaymentMethodSpec:
    key: str  # stored in orders.payment_method; the API's `payment_method` value
    label: str  # msgid
    manual: bool  # True: the money is recorded by hand; False: paid online through Stripe
    reservation_setting: str  # Settings field (HEZUO_<NAME>) and OrderPolicy key
    reservation_minutes: int  # the default window an unpaid order holds its stock
    ships_before_payment: bool  # the goods may leave unpaid (the courier collects the money)
    needs_address: bool  # False: a pickup
    instructions: str | None  # template shown on the order page while it is to be paid
    payee: Payee

    @property
    def online(self) -> bool:
        return not self.manual


BANK_TRANSFER = PaymentMethodSpec(
    key="bank_transfer",
    label=N_("Bank transfer"),
    manual=True,
    reservation_setting="reservation_minutes_bank_transfer",
    reservation_minutes=72 * 60,  # time for the buyer to send the money
    ships_before_payment=False,
    needs_address=True,
    instructions="orders/methods/bank_transfer.html",
    payee="bank_account",
)
CASH_ON_DELIVERY = PaymentMethodSpec(
    key="cash_on_delivery",
    label=N_("Cash on delivery"),
    manual=True,
    reservation_setting="reservation_minutes_cash_on_delivery",
    reservation_minutes=7 * 24 * 60,  # staff confirm the cash when it is collected
    ships_before_payment=True,
    needs_address=True,
    instructions="orders/methods/cash_on_delivery.html",
    payee="courier",
)
STRIPE = PaymentMethodSpec(
    key="stripe",
    label=N_("Pay online"),
    manual=False,
    reservation_setting="reservation_minutes_card",
    reservation_minutes=30,
    ships_before_payment=False,
    needs_address=True,
    instructions="orders/methods/stripe.html",
    payee="online_provider",
)

# In the order checkout offers them; the first is the form's default choice.
METHODS: tuple[PaymentMethodSpec, ...] = (BANK_TRANSFER, CASH_ON_DELIVERY, STRIPE)
BY_KEY = {method.key: method for method in METHODS}
KEYS = tuple(BY_KEY)
MANUAL_KEYS = tuple(method.key for method in METHODS if method.manual)
ONLINE_KEYS = tuple(method.key for method in METHODS if method.online)
SHIPS_BEFORE_PAYMENT_KEYS = tuple(method.key for method in METHODS if method.ships_before_payment)
LABELS = {method.key: method.label for method in METHODS}

# The API's `payment_method` type: a Literal of the keys (so the OpenAPI enum and the refusal of
# an unknown method are pydantic's), a plain str for mypy, which cannot read a computed Literal.
if TYPE_CHECKING:
    MethodKey = str
else:
    MethodKey = Literal[KEYS]


def method_of(key: str) -> PaymentMethodSpec:
    """The method stored as `key` (KeyError for a key no method has)."""
    return BY_KEY[key]


def is_online(key: str) -> bool:
    return key in ONLINE_KEYS


def ships_before_payment(key: str) -> bool:
    return key in SHIPS_BEFORE_PAYMENT_KEYS


def offered(*, online_enabled: bool) -> list[PaymentMethodSpec]:
    """The methods a buyer may choose now: the online ones only when Stripe is configured."""
    return [method for method in METHODS if method.manual or online_enabled]


def default_reservation_minutes() -> dict[str, int]:
    return {method.key: method.reservation_minutes for method in METHODS}


def check_keys(keys: Iterable[str]) -> None:
    """Every key fits the stored column (raises ValueError at import for one that does not)."""
    for key in keys:
        if not key or len(key) > KEY_MAX_LENGTH:
            raise ValueError(f"payment method key {key!r} must be 1–{KEY_MAX_LENGTH} characters")


check_keys(KEYS)
