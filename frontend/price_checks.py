"""A doubtful price told in the reader's language, for the forms that ask to confirm it."""

from collections.abc import Callable

from fastapi import Request

from catalog.prices import CEILING_MINOR, PriceDoubt
from frontend.i18n import translator
from frontend.rendering import money_formatter


def doubt_message(
    request: Request, doubt: PriceDoubt, *, amount: int, currency: str, unit: str
) -> str:
    """ "¥99,999,999.00 per 公斤 is more than ¥10,000.00 …" — `unit` already in the reader's words."""
    translate = translator(request)
    money: Callable[[int, str], str] = money_formatter(translate)
    price = money(amount, currency)
    if doubt.kind == "too_large":
        return translate.gettext(
            "%(price)s per %(unit)s is more than %(ceiling)s. Please check the price: it is in yuan.",
            price=price,
            unit=unit,
            ceiling=money(CEILING_MINOR, currency),
        )
    usual = money(doubt.usual or 0, currency)
    if doubt.kind == "far_above":
        return translate.gettext(
            "%(price)s per %(unit)s is far above what your cooperative usually asks for this kind "
            "of product (%(usual)s). Please check the price: it is in yuan.",
            price=price,
            unit=unit,
            usual=usual,
        )
    return translate.gettext(
        "%(price)s per %(unit)s is far below what your cooperative usually asks for this kind "
        "of product (%(usual)s). Please check the price: it is in yuan.",
        price=price,
        unit=unit,
        usual=usual,
    )
