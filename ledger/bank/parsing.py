"""A statement file (CSV in UTF-8 or GBK, XLSX or old Excel XLS) → its movements, with what was skipped and why.

The header row is found under any preamble (title, account, period); rows after it that are not
movements — a totals row such as 人民币合计, a wallet's summary, an empty or note row — are skipped
and listed. A totals row or wallet summary whose figures disagree with the lines is a refusal, not
a warning: it means lines are missing or altered (a page left out of the export, a hand edit), and
a reconciliation against such a file would prove the wrong thing. A file with any bad line is
refused whole, each error naming its line and column.
"""

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, get_currency_precision

from ledger.bank import presets as layouts
from ledger.bank.cells import clean, decode, direction_sign, header_name, parse_amount, parse_date
from ledger.bank.values import (
    FIELDS,
    MAX_FILE_BYTES,
    ParsedFile,
    ParsedLine,
    SkippedRow,
    StatementInvalid,
    UnknownFormat,
)

TOTAL_WORDS = ("合计", "总计", "小计", "汇总", "累计", "total")
# A totals line written as text in one cell: "# 收入合计: 3,480.00 元" (CMB), "支出合计：1,502.50".
TOTAL_TEXT = re.compile(r"(收入|支出|贷方|借方)[^:：\d]*[:：]\s*[¥￥]?\s*([\d,]+(?:\.\d+)?)")
TOTAL_TEXT_FIELD = {"收入": "inflow", "贷方": "inflow", "支出": "outflow", "借方": "outflow"}
SUMMARY_PATTERN = re.compile(r"^(收入|支出)[:：]\s*(\d+)\s*笔\s*[¥￥]?\s*([\d,]+(?:\.\d+)?)")
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
MONEY_FIELDS = ("amount", "inflow", "outflow")


@dataclass(frozen=True)
class Layout:
    preset: layouts.Preset
    header_index: int
    columns: dict[str, int]
    header: list[str]

    def cell(self, row: Sequence[str], field: str) -> str:
        index = self.columns.get(field)
        return clean(row[index]) if index is not None and index < len(row) else ""

    def column(self, field: str) -> str:
        return self.header[self.columns[field]]


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value)


def read_rows(raw: bytes) -> tuple[list[list[str]], str, str]:
    """Rows of text cells, the encoding and the file format ("csv", "xlsx" or "xls")."""
    if len(raw) > MAX_FILE_BYTES:
        raise StatementInvalid(
            "The file is larger than 5 MB; split the statement by month.",
            errors=[{"loc": ["file"], "msg": "larger than 5 MB"}],
        )
    if raw.startswith(XLS_MAGIC):
        return _xls_rows(raw), "xls", "xls"
    if raw.startswith(XLSX_MAGIC):
        return _xlsx_rows(raw), "xlsx", "xlsx"
    text, encoding = decode(raw)
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter)), encoding, "csv"


def _xlsx_rows(raw: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken archive
        raise StatementInvalid(
            "The file looks like an Excel workbook but cannot be read; export it again.",
            errors=[{"loc": ["file"], "msg": type(exc).__name__}],
        ) from None
    sheet = book.worksheets[0]
    rows = [[_xlsx_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _xls_rows(raw: bytes) -> list[list[str]]:
    """An old Excel (.xls) workbook's first sheet, as several banks still export (CCB, ABC)."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=raw)
    except Exception:  # xlrd raises its own and struct errors for a broken file
        raise StatementInvalid(
            "The file looks like an old Excel (.xls) workbook but cannot be read; export it "
            "again, or save it as .xlsx or CSV.",
            errors=[{"loc": ["file"], "msg": "unreadable xls"}],
        ) from None
    sheet = book.sheet_by_index(0)
    return [
        [_xls_cell(sheet.cell(r, c), book.datemode) for c in range(sheet.ncols)]
        for r in range(sheet.nrows)
    ]


def _xls_cell(cell: Any, datemode: int) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        return _xlsx_cell(xlrd.xldate.xldate_as_datetime(cell.value, datemode))
    return _xlsx_cell(cell.value if cell.value != "" else None)


def first_lines(rows: Sequence[Sequence[str]], count: int = 5) -> list[str]:
    shown = [
        ",".join(c.strip() for c in row).strip(",") for row in rows if any(c.strip() for c in row)
    ]
    return [line[:120] for line in shown[:count]]


def _unknown(rows: Sequence[Sequence[str]], presets: Sequence[layouts.Preset]) -> UnknownFormat:
    seen = first_lines(rows)
    names = ", ".join(p.name for p in presets)
    return UnknownFormat(
        "The file's format is not recognised: no header row with a date and an amount column "
        f"(expected one of: {names}; or the columns date, amount). First lines seen: "
        + " | ".join(seen),
        errors=[
            {"loc": ["line", 1, "column", "date"], "msg": "missing"},
            {"loc": ["line", 1, "column", "amount"], "msg": "missing"},
        ],
    )


def mapping_errors(mapping: Mapping[str, str]) -> list[dict[str, Any]]:
    """What makes a mapping (field → the file's column) unusable; empty when it can be used."""
    errors: list[dict[str, Any]] = [
        {"loc": ["mapping", name], "msg": f"not a field; use {', '.join(FIELDS)}"}
        for name in sorted(set(mapping) - set(FIELDS))
    ]
    wanted = set(mapping) & set(FIELDS)
    if not layouts.has_money_and_date(wanted):
        errors.append({"loc": ["mapping"], "msg": "map date, and amount or inflow and outflow"})
    if "amount" in wanted and {"inflow", "outflow"} & wanted:
        errors.append({"loc": ["mapping"], "msg": "map either amount or inflow/outflow, not both"})
    return errors


def _missing_columns(rows: Sequence[Sequence[str]], wanted: Mapping[str, str]) -> StatementInvalid:
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), 0)
    names = [header_name(c) for c in rows[first]] if rows else []
    missing = [s for s in wanted.values() if header_name(s) not in names]
    return StatementInvalid(
        "The statement's columns are not the expected ones: nothing was imported.",
        errors=[
            {"loc": ["line", first + 1, "column", source], "msg": "column not in the file"}
            for source in missing
        ]
        or [{"loc": ["file"], "msg": "no row has all the mapped columns"}],
    )


def _mapping_layout(rows: Sequence[Sequence[str]], mapping: Mapping[str, str]) -> Layout:
    errors = mapping_errors(mapping)
    if errors:
        raise StatementInvalid("The column mapping is not usable.", errors=errors)
    preset = layouts.from_mapping("mapping", "mapping", mapping)
    for index, row in enumerate(rows[:40]):
        columns = preset.resolve(row)
        if columns is not None and len(columns) == len(mapping):
            return Layout(preset, index, columns, [clean(c) for c in row])
    raise _missing_columns(rows, mapping)


def find_layout(
    rows: Sequence[Sequence[str]],
    *,
    mapping: Mapping[str, str] | None = None,
    presets: Sequence[layouts.Preset] = layouts.BUILTIN_PRESETS,
) -> Layout:
    if mapping:
        return _mapping_layout(rows, mapping)
    found = layouts.detect(rows, presets)
    if found is None:
        raise _unknown(rows, presets)
    preset, index, columns = found
    return Layout(preset, index, columns, [clean(c) for c in rows[index]])


def _is_total(row: Sequence[str]) -> bool:
    text = "".join(clean(c) for c in row).lower()
    return any(word in text for word in TOTAL_WORDS)


def _money(
    layout: Layout, row: Sequence[str], currency: str, line_no: int
) -> tuple[int, list[dict[str, Any]]]:
    """The signed amount of a movement row, or the errors naming its bad cells."""
    errors: list[dict[str, Any]] = []
    amount = 0
    fields = ["amount"] if "amount" in layout.columns else ["inflow", "outflow"]
    for field in fields:
        cell = layout.cell(row, field)
        if not cell and field != "amount":
            continue
        try:
            value = parse_amount(cell, currency)
        except ValueError as exc:
            errors.append(
                {"loc": ["line", line_no, "column", layout.column(field)], "msg": str(exc)}
            )
            continue
        amount += {"inflow": abs(value), "outflow": -abs(value)}.get(field, value)
    if "direction" in layout.columns and not errors:
        try:
            amount = abs(amount) * direction_sign(layout.cell(row, "direction"))
        except ValueError as exc:
            errors.append(
                {"loc": ["line", line_no, "column", layout.column("direction")], "msg": str(exc)}
            )
    return amount, errors


def _line(
    layout: Layout, row: Sequence[str], currency: str, line_no: int
) -> tuple[ParsedLine | None, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    line_currency = (layout.cell(row, "currency") or currency).upper()
    if line_currency != currency:
        errors.append(
            {
                "loc": ["line", line_no, "column", layout.column("currency")],
                "msg": f"{line_currency} is not the account's currency {currency}",
            }
        )
    booked: date | None = None
    try:
        booked = parse_date(layout.cell(row, "date"))
    except ValueError as exc:
        errors.append({"loc": ["line", line_no, "column", layout.column("date")], "msg": str(exc)})
    amount, money_errors = _money(layout, row, currency, line_no)
    errors.extend(money_errors)
    if errors or booked is None:
        return None, errors
    return (
        ParsedLine(
            line_no=line_no,
            booked_on=booked,
            amount=amount,
            currency=currency,
            reference=layout.cell(row, "reference")[:255],
            counterparty=layout.cell(row, "counterparty")[:255],
            description=layout.cell(row, "description")[:500],
        ),
        [],
    )


def _skip_kind(layout: Layout, row: Sequence[str]) -> str | None:
    """Why a row after the header is not a movement, or None when it is one."""
    if not any(clean(c) for c in row):
        return "empty"
    try:
        parse_date(layout.cell(row, "date"))
    except ValueError:
        if _is_total(row):
            return "totals"
        if not any(layout.cell(row, f) for f in MONEY_FIELDS):
            return "note"
    return None


def _column_or_field(layout: Layout, field: str) -> str:
    return layout.column(field) if field in layout.columns else field


def _stated_totals(layout: Layout, row: Sequence[str], currency: str) -> dict[str, tuple[str, int]]:
    """What a totals row states, per money field: its text and its amount (unreadable ones left
    out); in the money columns, or written in one cell like "收入合计: 3,480.00"."""
    if "direction" in layout.columns:
        return {}  # a wallet states its totals in the summary above the header
    cells = {f: layout.cell(row, f) for f in MONEY_FIELDS if f in layout.columns}
    if not any(cells.values()):
        found = TOTAL_TEXT.findall(clean(" ".join(row)))
        cells = {TOTAL_TEXT_FIELD[word]: figure for word, figure in found}
    stated = {}
    for field, cell in cells.items():
        try:
            stated[field] = (cell, parse_amount(cell, currency))
        except ValueError:
            continue
    return stated


def _major(minor: int, currency: str) -> str:
    """Minor units as a bank writes them: 3480.00 → "3,480.00"."""
    scale = get_currency_precision(currency)
    return format_decimal(Decimal(minor).scaleb(-scale), format="#,##0." + "0" * scale, locale="en")


def _totals_errors(
    layout: Layout, row: Sequence[str], lines: Sequence[ParsedLine], currency: str, line_no: int
) -> list[dict[str, Any]]:
    """A totals row's figures against the lines' sums (a page subtotal is not checked)."""
    if "本页" in "".join(row):
        return []
    expected = {
        "amount": sum(line.amount for line in lines),
        "inflow": sum(line.amount for line in lines if line.amount > 0),
        "outflow": sum(-line.amount for line in lines if line.amount < 0),
    }
    return [
        {
            "loc": ["line", line_no, "column", _column_or_field(layout, field)],
            "msg": f"the totals row says {cell} but the lines add up to "
            f"{_major(expected[field], currency)}: "
            "lines are missing or altered",
        }
        for field, (cell, stated) in _stated_totals(layout, row, currency).items()
        if abs(stated) != abs(expected[field])
    ]


def _summary_errors(
    rows: Sequence[Sequence[str]], lines: Sequence[ParsedLine], currency: str
) -> tuple[list[SkippedRow], list[dict[str, Any]]]:
    """A wallet bill's summary above its header (收入：3笔 1,000.00元) against its lines."""
    skipped: list[SkippedRow] = []
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        found = SUMMARY_PATTERN.match(clean(row[0]) if row else "")
        if not found:
            continue
        word, count, total = found.group(1), int(found.group(2)), found.group(3)
        sign = 1 if word == "收入" else -1
        mine = [line for line in lines if line.amount * sign > 0]
        stated = parse_amount(total, currency)
        skipped.append(SkippedRow(index + 1, "summary", clean(row[0])))
        if count != len(mine) or stated != abs(sum(line.amount for line in mine)):
            errors.append(
                {
                    "loc": ["line", index + 1],
                    "msg": f"the summary says {count} {word} lines of {total} but the file has "
                    f"{len(mine)} of {_major(abs(sum(x.amount for x in mine)), currency)}",
                }
            )
    return skipped, errors


def parse_rows(
    rows: Sequence[Sequence[str]], layout: Layout, *, currency: str
) -> tuple[list[ParsedLine], list[SkippedRow]]:
    lines: list[ParsedLine] = []
    skipped: list[SkippedRow] = []
    errors: list[dict[str, Any]] = []
    totals: list[tuple[int, Sequence[str]]] = []
    for index in range(layout.header_index + 1, len(rows)):
        row, line_no = rows[index], index + 1
        kind = _skip_kind(layout, row)
        if kind == "totals":
            totals.append((line_no, row))
        if kind is not None:
            if kind != "empty":
                skipped.append(
                    SkippedRow(line_no, kind, " ".join(clean(c) for c in row if clean(c))[:200])
                )
            continue
        line, line_errors = _line(layout, row, currency, line_no)
        errors.extend(line_errors)
        if line is not None and line.amount == 0:
            if "direction" in layout.columns:
                skipped.append(SkippedRow(line_no, "neutral", line.description[:200]))
                continue
            first = "amount" if "amount" in layout.columns else "inflow"
            errors.append(
                {"loc": ["line", line_no, "column", layout.column(first)], "msg": "amount is zero"}
            )
        elif line is not None:
            lines.append(line)
    for line_no, row in totals:
        errors.extend(_totals_errors(layout, row, lines, currency, line_no))
    summary, summary_errors = _summary_errors(rows[: layout.header_index], lines, currency)
    errors.extend(summary_errors)
    if errors:
        raise StatementInvalid(
            f"Nothing was imported: {len(errors)} problem(s) in the file; fix them and upload "
            "again.",
            errors=errors,
        )
    return lines, summary + skipped


def guess_header(rows: Sequence[Sequence[str]], *, scan: int = 40) -> tuple[int, list[str]]:
    """For a layout nobody knows yet: the first of the widest rows near the top, as the header."""
    widths = [sum(1 for c in row if clean(c)) for row in rows[:scan]]
    if not widths or max(widths) == 0:
        return 0, []
    index = widths.index(max(widths))
    return index, [clean(c) for c in rows[index]]


def parse_statement(
    raw: bytes,
    *,
    currency: str,
    mapping: Mapping[str, str] | None = None,
    presets: Sequence[layouts.Preset] = layouts.BUILTIN_PRESETS,
) -> ParsedFile:
    """Every line parsed, or `StatementInvalid` listing each bad line and column."""
    rows, encoding, file_format = read_rows(raw)
    if not any(any(c.strip() for c in row) for row in rows):
        raise StatementInvalid(
            "The file is empty.", errors=[{"loc": ["file"], "msg": "no header row"}]
        )
    layout = find_layout(rows, mapping=mapping, presets=presets)
    lines, skipped = parse_rows(rows, layout, currency=currency)
    if not lines:
        raise StatementInvalid(
            "The file has a header but no lines.", errors=[{"loc": ["file"], "msg": "no lines"}]
        )
    return ParsedFile(
        encoding=encoding,
        lines=lines,
        preset=layout.preset.key,
        file_format=file_format,
        header_line=layout.header_index + 1,
        skipped=skipped,
    )
