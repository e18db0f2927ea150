"""Money: an integer amount in minor units (fen) with its currency; parsing typed text, formatting.

Amounts never go through a float. New code takes and returns :class:`Money`; older modules still
pass ``(amount_minor, currency)`` pairs (both meet in :func:`format_minor`).

    >>> parse_money("¥1,234.50")
    Money(amount=123450, currency='CNY')
    >>> format_money(Money(123450, "CNY"), "zh-CN")
    '¥1,234.50'
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

from core.errors import Invalid

DEFAULT_CURRENCY = "CNY"
# Signs a reader may type around an amount (after NFKC folding: full-width ￥ becomes ¥).
_DECORATIONS = re.compile(r"^(?:CN¥|RMB|CNY|¥)?\s*(?P<number>.*?)\s*(?:元|块|CNY|RMB)?$", re.I)
_NUMBER = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^\d+(?:\.\d+)?$")
MAX_DIGITS = 15


class InvalidAmount(Invalid):
    title = "Invalid amount"
    type_slug = "invalid-amount"


@dataclass(frozen=True)
class Money:
    """``amount`` in the currency's minor units (fen for CNY); ``currency`` an ISO 4217 code."""

    amount: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError("Money takes integer minor units")
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    @property
    def major(self) -> Decimal:
        """The amount in major units (元), exactly: 123450 → Decimal('1234.50')."""
        return Decimal(self.amount).scaleb(-get_currency_precision(self.currency))


def parse_money(text: str, currency: str = DEFAULT_CURRENCY) -> Money:
    """Typed text → Money: '¥1,234.50', '68元', '１２３４．５' (full-width), '68.5'.

    Refuses (InvalidAmount) empty text, signs, more decimals than the currency has, letters.
    """
    folded = unicodedata.normalize("NFKC", text).strip().replace("，", ",").replace("。", ".")
    match = _DECORATIONS.fullmatch(folded)
    number = match.group("number") if match else ""
    if not _NUMBER.fullmatch(number):
        raise InvalidAmount(f"not an amount: {text!r}")
    value = Decimal(number.replace(",", ""))
    minor = value.scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value():
        raise InvalidAmount(f"too many decimals for {currency}: {text!r}")
    if len(str(int(minor))) > MAX_DIGITS:
        raise InvalidAmount(f"amount too large: {text!r}")
    return Money(int(minor), currency)


def format_minor(amount: int, currency: str, locale: str) -> str:
    """Integer minor units → '¥12.50' (zh-CN) / 'CN¥12.50' (en), through Babel."""
    money = Money(amount, currency)
    return str(format_currency(money.major, currency, locale=locale.replace("-", "_")))


def format_money(money: Money, locale: str) -> str:
    return format_minor(money.amount, money.currency, locale)
