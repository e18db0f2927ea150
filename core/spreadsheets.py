"""Cells that cannot run: the one guard every CSV and XLSX file Hezuo writes goes through.

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` (also after a tab or a
carriage return, and in their full-width forms, which some programs fold to ASCII) as a formula:
a household named `=HYPERLINK(...)` would become a live link in a bank file. Such text cells are
neutralised, numbers stay numbers:

- CSV: the text gets a leading apostrophe (`'=HYPERLINK(...)`), which spreadsheet programs show
  as text; plain numbers written as text (`-12.50`) are left alone, they cannot be formulas.
- XLSX: the cell is stored as a string with Excel's "quote prefix" style, so the text is exactly
  what was stored (an account number stays importable) and is never evaluated, even after edits.

    writer = csv_writer(buffer)        # a csv.writer whose rows are guarded
    append_row(sheet, [...])           # instead of sheet.append([...])
"""

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
# A number written as text: it cannot start a formula, so it is left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def could_start_formula(text: str) -> bool:
    """True when a spreadsheet program could read `text` as a formula."""
    head = text.lstrip(" ")
    if not head or head[0] not in FORMULA_STARTS:
        return False
    return _PLAIN_NUMBER.fullmatch(text.strip()) is None


def csv_cell(value: Any) -> Any:
    """A CSV cell: text that could start a formula gets a leading apostrophe; other values as is."""
    if isinstance(value, str) and could_start_formula(value):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in row]


class GuardedWriter:
    """csv.writer with every row guarded (the same `writerow`/`writerows`)."""

    def __init__(self, out: IO[str], **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(csv_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: IO[str], **options: Any) -> GuardedWriter:
    return GuardedWriter(out, **options)


class GuardedDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """csv.DictWriter with every value guarded."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: csv_cell(value) for key, value in rowdict.items()})


def append_row(sheet: Worksheet, row: Sequence[Any]) -> None:
    """`sheet.append(row)`, with text that could start a formula stored as plain text."""
    sheet.append(list(row))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and could_start_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True


__all__ = [
    "FORMULA_STARTS",
    "GuardedDictWriter",
    "GuardedWriter",
    "append_row",
    "could_start_formula",
    "csv_cell",
    "csv_row",
    "csv_writer",
]
