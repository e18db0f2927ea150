"""The kernel: money parsing and formatting, the reader's time zone, the shared error kinds."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.actor import Actor
from core.errors import DomainError, Invalid
from core.money import InvalidAmount, Money, format_minor, format_money, parse_money
from core.text import Bilingual, in_locale
from core.time import as_utc, to_reader_zone


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("¥1,234.50", 123450),
        ("1234.5", 123450),
        ("68", 6800),
        ("68元", 6800),
        ("￥６８．５０", 6850),  # full-width sign, digits and point
        ("１，２３４", 123400),
        (" CN¥0.01 ", 1),
        ("RMB 12", 1200),
    ],
)
def test_typed_amounts_become_fen(text, fen):
    assert parse_money(text) == Money(fen, "CNY")


@pytest.mark.parametrize(
    "text", ["", "¥", "12.345", "-5", "1,23", "12a", "1e3", "1,234,56.00", "9" * 20, "１２.3.4"]
)
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(InvalidAmount) as refused:
        parse_money(text)
    assert isinstance(refused.value, Invalid)
    assert refused.value.status_code == 422


def test_yen_has_no_minor_unit():
    assert parse_money("1,200", "JPY") == Money(1200, "JPY")
    with pytest.raises(InvalidAmount):
        parse_money("12.5", "JPY")


def test_money_is_formatted_through_babel_in_the_reader_locale():
    assert format_money(Money(123450, "CNY"), "zh-CN") == "¥1,234.50"
    assert format_money(Money(123450, "CNY"), "en") == "CN¥1,234.50"
    assert format_minor(-5, "JPY", "en") == "-¥5"
    assert Money(6850).major == Decimal("68.50")


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(12.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "CNY")
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(1, "yuan")
    with pytest.raises(ValueError, match="cannot add"):
        Money(1, "CNY") + Money(1, "USD")
    assert Money(1) + Money(2) == Money(3, "CNY")


def test_stored_utc_is_shown_in_the_reader_zone():
    stored = datetime(2026, 12, 4, 16, 30)  # naive UTC, as a column holds it
    shown = to_reader_zone(stored)
    assert (shown.day, shown.hour, shown.minute) == (5, 0, 30)
    assert shown.utcoffset() == timedelta(hours=8)
    assert to_reader_zone(stored, "Europe/London").hour == 16
    aware = datetime(2026, 12, 5, 0, 30, tzinfo=timezone(timedelta(hours=8)))
    assert as_utc(aware) == datetime(2026, 12, 4, 16, 30, tzinfo=UTC)


def test_bilingual_text_falls_back_to_chinese():
    assert Bilingual("蜂蜜", "Honey").in_locale("en") == "Honey"
    assert Bilingual("蜂蜜").in_locale("en") == "蜂蜜"
    assert in_locale({"zh": "茶", "en": "Tea"}, "zh-CN") == "茶"
    assert in_locale(None, "en") == ""


def test_error_kinds_and_actor_live_in_the_kernel():
    assert issubclass(Invalid, DomainError)
    assert Actor.anonymous().signed_in is False
    assert Actor(user_id=1, role="staff").is_staff
