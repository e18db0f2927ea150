"""One cell of a bank file as the bank wrote it → our value: text, amount in fen, date, direction.

Banks pad cells with spaces or tabs, write `="6222…"` so spreadsheets keep long numbers, put `-`,
`--` or `/` where there is nothing, quote amounts with thousands separators, and add a time to the
date. Everything here is pure and raises `ValueError` naming what it expected.
"""

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from ledger.bank.values import StatementInvalid

AMOUNT_PATTERN = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
TIME_PATTERN = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
PLACEHOLDERS = frozenset({"-", "--", "—", "/", "null", "NULL", "N/A"})
CURRENCY_MARKS = ("¥", "￥", "CNY", "RMB", "元", " ")
INFLOW_WORDS = frozenset({"收入", "收", "入", "贷", "credit", "in"})
OUTFLOW_WORDS = frozenset({"支出", "支", "出", "借", "debit", "out"})
NEUTRAL_WORDS = frozenset({"不计收支", "中性交易", "其他", "/", ""})


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK); else refused."""
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise StatementInvalid(
            "The file is neither UTF-8 nor GBK text; export the statement as CSV again.",
            errors=[{"loc": ["file"], "msg": "unknown encoding"}],
        ) from None


def clean(text: str) -> str:
    """The cell without padding, spreadsheet wrappers or a placeholder; NFKC-normalised."""
    value = unicodedata.normalize("NFKC", text).strip().strip("\t").strip()
    if value.startswith('="') and value.endswith('"'):
        value = value[2:-1].strip()
    return "" if value in PLACEHOLDERS else value


def header_name(text: str) -> str:
    """A header cell compared loosely: no spaces, no padding, full-width brackets as ASCII."""
    return re.sub(r"\s+", "", clean(text))


def parse_amount(text: str, currency: str) -> int:
    """Major units as written by a bank → integer minor units; ValueError says why not."""
    value = unicodedata.normalize("NFKC", text).strip()
    for symbol in CURRENCY_MARKS:
        value = value.replace(symbol, "")
    if not value:
        raise ValueError("empty")
    if not AMOUNT_PATTERN.match(value):
        raise ValueError(f"{text!r} is not an amount like -1,234.50")
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    scale = get_currency_precision(currency)
    minor = number.scaleb(scale)
    if minor != minor.to_integral_value():
        raise ValueError(f"{text!r} has more than {scale} decimals")
    return int(minor)


def parse_date(text: str) -> date:
    """A date as banks write it, with or without a time after it."""
    value = unicodedata.normalize("NFKC", text).strip()
    parts = value.split()
    if len(parts) == 2 and TIME_PATTERN.match(parts[1]):
        value = parts[0]
    for pattern in DATE_PATTERNS:
        found = pattern.match(value)
        if found:
            year, month, day = (int(part) for part in found.groups())
            return date(year, month, day)  # ValueError for 2026-02-30
    raise ValueError(f"{text!r} is not a date like 2026-11-30")


def direction_sign(text: str) -> int:
    """+1 money in, -1 money out, 0 a neutral movement (a wallet's 不计收支); ValueError else."""
    value = clean(text).lower()
    if value in INFLOW_WORDS:
        return 1
    if value in OUTFLOW_WORDS:
        return -1
    if value in NEUTRAL_WORDS:
        return 0
    raise ValueError(f"{text!r} is not 收入 or 支出")
