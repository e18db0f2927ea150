"""Spreadsheet import of products (each row optionally with one harvest lot), all or nothing.

Every row is validated first; errors name the spreadsheet row (the header is row 1) and column.
Then the rows go through the same services as the API, and any refusal there is reported the
same way and nothing is kept (the caller's transaction rolls back on RowErrors).
"""

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from catalog.errors import RowErrors
from catalog.models import Brand, Household
from catalog.products import create_lot, create_product
from catalog.schemas import ImportResult, LotCreate, ProductCreate
from catalog.service import require_coop_manager_of
from core.actor import Actor
from core.errors import DomainError
from core.spreadsheets import GuardedDictWriter, append_row

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000

COLUMNS: dict[str, str] = {
    "name_zh": "产品名称（中文），必填 / product name in Chinese, required",
    "name_en": "product name in English",
    "description_zh": "描述（中文）",
    "description_en": "description in English",
    "category": "honey, tea, rice, grain, mushrooms, fruit, vegetables, nuts, oil, eggs, meat, handicraft, other",
    "unit": "kg, jin (斤 = 500 g), box, bottle, piece",
    "price_amount": "price in minor units (fen): 68.00 yuan = 6800",
    "currency": "ISO 4217 code, e.g. CNY",
    "status": "draft or active",
    "member_code": "the household that owns the product, e.g. SJ-0001 (empty: the cooperative)",
    "brand": "brand name (Chinese) of this cooperative, optional",
    "lot_code": "traceability code of the lot, optional (generated when empty)",
    "harvested_on": "harvest or production date YYYY-MM-DD (empty: no lot on this row)",
    "lot_quantity": "units in the lot, a whole number",
    "expires_on": "best-before date YYYY-MM-DD, optional",
    "contributions": "who supplied the lot: SJ-0001:30; SJ-0002:20 (empty: the member_code household, all of it)",
}
EXAMPLE = {
    "name_zh": "松江土蜂蜜",
    "name_en": "Songjiang wild honey",
    "description_zh": "山里的百花蜜",
    "description_en": "Wildflower honey from the hills",
    "category": "honey",
    "unit": "bottle",
    "price_amount": "6800",
    "currency": "CNY",
    "status": "draft",
    "member_code": "",
    "brand": "",
    "lot_code": "",
    "harvested_on": "2026-10-01",
    "lot_quantity": "50",
    "expires_on": "2028-10-01",
    "contributions": "",
}
LOT_COLUMNS = ("lot_code", "harvested_on", "lot_quantity", "expires_on", "contributions")


def too_large_message() -> str:
    return f"The spreadsheet must be at most {MAX_IMPORT_BYTES // 1024 // 1024} MB."


def template_csv() -> bytes:
    out = io.StringIO()
    writer = GuardedDictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerow(EXAMPLE)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "products"
    append_row(sheet, list(COLUMNS))
    append_row(sheet, [EXAMPLE[c] for c in COLUMNS])
    help_sheet = book.create_sheet("help")
    append_row(help_sheet, ["column", "meaning"])
    for column, meaning in COLUMNS.items():
        append_row(help_sheet, [column, meaning])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Reading


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, filename: str) -> list[dict[str, str]]:
    """Rows as {column: text}; XLSX by its ZIP signature, CSV (UTF-8) otherwise."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RowErrors(
            [{"loc": ["file"], "row": None, "column": None, "msg": "Save the CSV as UTF-8."}]
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    _check_header(reader.fieldnames or [])
    return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _read_xlsx(data: bytes) -> list[dict[str, str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise RowErrors(
            [{"loc": ["file"], "row": None, "column": None, "msg": "Not a readable XLSX file."}]
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    _check_header(header)
    found = []
    for values in rows:
        cells = [_cell(v) for v in values]
        if any(cells):
            found.append(dict(zip(header, cells, strict=False)))
    book.close()
    return found


def _check_header(header: Sequence[str]) -> None:
    missing = [
        c for c in ("name_zh", "category", "unit", "price_amount", "currency") if c not in header
    ]
    if missing:
        raise RowErrors(
            [
                {
                    "loc": ["row", 1, c],
                    "row": 1,
                    "column": c,
                    "msg": "column missing from the header",
                }
                for c in missing
            ]
        )


# Validating and importing


def _error(row: int, column: str, msg: str) -> dict[str, Any]:
    return {"loc": ["row", row, column], "row": row, "column": column, "msg": msg}


def _pydantic_errors(
    row: int, error: ValidationError, columns: dict[str, str]
) -> list[dict[str, Any]]:
    found = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        found.append(_error(row, columns.get(field, field), item["msg"]))
    return found


def _int_or_text(text: str) -> int | str:
    return int(text) if text.lstrip("-").isdigit() else text


def _contributions(
    text: str, row: int, households: dict[str, Household], errors: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    if not text:
        return None
    found = []
    for part in text.replace("；", ";").split(";"):
        if not part.strip():
            continue
        code, _, quantity = part.replace("：", ":").partition(":")
        household = households.get(code.strip().upper())
        if household is None:
            errors.append(_error(row, "contributions", f"unknown member code {code.strip()!r}"))
            continue
        found.append({"household_id": household.id, "quantity": _int_or_text(quantity.strip())})
    return found


def _validate_row(
    row_number: int,
    row: dict[str, str],
    coop_id: int,
    households: dict[str, Household],
    brands: dict[str, Brand],
) -> tuple[ProductCreate | None, LotCreate | None, list[dict[str, Any]]]:
    errors: list[dict[str, Any]] = []
    household = None
    if row.get("member_code"):
        household = households.get(row["member_code"].upper())
        if household is None:
            errors.append(_error(row_number, "member_code", "no such member in this cooperative"))
    brand = None
    if row.get("brand"):
        brand = brands.get(row["brand"])
        if brand is None:
            errors.append(_error(row_number, "brand", "no brand of this cooperative has this name"))
    product_fields = {
        "coop_id": coop_id,
        "household_id": household.id if household else None,
        "brand_id": brand.id if brand else None,
        "name": {"zh": row.get("name_zh", ""), "en": row.get("name_en", "")},
        "description": {"zh": row.get("description_zh", ""), "en": row.get("description_en", "")},
        "category": row.get("category", ""),
        "unit": row.get("unit", ""),
        "price": {
            "amount": _int_or_text(row.get("price_amount", "")),
            "currency": row.get("currency", ""),
        },
        "status": row.get("status") or "draft",
    }
    product: ProductCreate | None = None
    try:
        product = ProductCreate.model_validate(product_fields)
    except ValidationError as error:
        names = {"name": "name_zh", "description": "description_zh", "price": "price_amount"}
        errors.extend(_pydantic_errors(row_number, error, names))
    lot: LotCreate | None = None
    if any(row.get(c) for c in LOT_COLUMNS):
        lot_fields = {
            "code": row.get("lot_code") or None,
            "harvested_on": row.get("harvested_on") or None,
            "quantity": _int_or_text(row.get("lot_quantity", "")),
            "expires_on": row.get("expires_on") or None,
            "contributions": _contributions(
                row.get("contributions", ""), row_number, households, errors
            ),
        }
        try:
            lot = LotCreate.model_validate(lot_fields)
        except ValidationError as error:
            names = {"code": "lot_code", "quantity": "lot_quantity"}
            errors.extend(_pydantic_errors(row_number, error, names))
    return product, lot, errors


def import_file(
    session: Session, *, actor: Actor, coop_id: int, data: bytes, filename: str
) -> ImportResult:
    require_coop_manager_of(session, actor, coop_id)
    rows = read_rows(data, filename)
    if not rows:
        raise RowErrors([_error(2, "name_zh", "the file has no product rows")])
    if len(rows) > MAX_ROWS:
        raise RowErrors([_error(MAX_ROWS + 2, "name_zh", f"at most {MAX_ROWS} rows per file")])
    households = {
        h.member_code: h
        for h in session.scalars(select(Household).where(col(Household.coop_id) == coop_id))
    }
    brands = {
        b.name_zh: b for b in session.scalars(select(Brand).where(col(Brand.coop_id) == coop_id))
    }
    validated = []
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        product, lot, row_errors = _validate_row(index + 2, row, coop_id, households, brands)
        errors.extend(row_errors)
        validated.append((index + 2, product, lot))
    if errors:
        raise RowErrors(errors)
    product_ids: list[int] = []
    lots = 0
    for row_number, product_data, lot_data in validated:
        assert product_data is not None
        try:
            created = create_product(session, actor=actor, data=product_data)
            assert created.id is not None
            product_ids.append(created.id)
            if lot_data is not None:
                create_lot(session, actor=actor, product_id=created.id, data=lot_data)
                lots += 1
        except DomainError as error:
            column = _column_of(error, "lot_code" if lot_data is not None else "name_zh")
            errors.append(_error(row_number, column, error.detail))
    if errors:
        raise RowErrors(errors)
    return ImportResult(products=len(product_ids), lots=lots, product_ids=product_ids)


def _column_of(error: DomainError, default: str) -> str:
    names = {"code": "lot_code", "contributions": "contributions", "expires_on": "expires_on"}
    for item in error.errors or []:
        loc = item.get("loc") or []
        if len(loc) >= 2 and loc[0] == "body":
            return names.get(str(loc[1]), str(loc[1]))
    return default
