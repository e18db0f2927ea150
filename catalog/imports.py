"""Spreadsheet import of products (each row optionally with one harvest lot), all or nothing.

Every row is validated first; errors name the spreadsheet row (the header is row 1) and column.
Then the rows go through the same services as the API, and any refusal there is reported the
same way and nothing is kept (the caller's transaction rolls back on RowErrors).
"""

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from catalog.errors import RowErrors
from catalog.models import Brand, Household
from catalog.prices import parse_major, price_doubt
from catalog.products import create_lot, create_product
from catalog.schemas import ImportResult, LotCreate, ProductCreate
from catalog.service import require_coop_manager_of
from core.actor import Actor
from core.errors import DomainError
from core.spreadsheets import append_row, csv_writer

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000

# column code → (the template's Chinese header, what to write in it, in Chinese and English)
COLUMNS: dict[str, tuple[str, str]] = {
    "name_zh": ("产品名称", "产品名称（中文），必填 / product name in Chinese, required"),
    "name_en": ("英文名称", "英文名称，可不填 / product name in English, optional"),
    "description_zh": ("描述", "描述（中文） / description in Chinese"),
    "description_en": ("英文描述", "英文描述 / description in English"),
    "category": (
        "类别",
        "蜂蜜 茶叶 大米 杂粮 菌菇 水果 蔬菜 坚果 食用油 禽蛋 肉类 手工艺品 其他 / "
        "honey, tea, rice, grain, mushrooms, fruit, vegetables, nuts, oil, eggs, meat, "
        "handicraft, other",
    ),
    "unit": ("单位", "公斤 斤 盒 瓶 件 / kg, jin (500 g), box, bottle, piece"),
    "price": (
        "单价（元）",
        "每个单位的价格，单位是元：68 或 ¥68.50 / price per unit in yuan: 68 or ¥68.50",
    ),
    "currency": ("币种", "可不填，默认 CNY / ISO 4217 code, CNY when empty"),
    "status": ("状态", "草稿 或 上架 / draft or active (draft when empty)"),
    "member_code": (
        "社员编号",
        "产品所属农户，如 SJ-0001（不填：合作社） / the household that owns the product "
        "(empty: the cooperative)",
    ),
    "brand": ("品牌", "本合作社的品牌名称，可不填 / brand name (Chinese), optional"),
    "lot_code": ("批次编号", "溯源批次编号，可不填（自动生成） / lot code, optional"),
    "harvested_on": (
        "采收日期",
        "YYYY-MM-DD（不填：本行没有批次） / harvest date (empty: no lot on this row)",
    ),
    "lot_quantity": ("批次数量", "批次的单位数，整数 / units in the lot, a whole number"),
    "expires_on": ("保质期至", "YYYY-MM-DD，可不填 / best-before date, optional"),
    "contributions": (
        "供货农户",
        "SJ-0001:30; SJ-0002:20（不填：社员编号那一户全部） / who supplied the lot "
        "(empty: the member_code household, all of it)",
    ),
}
REQUIRED = ("name_zh", "category", "unit", "price")
# Chinese words a manager may type for the codes.
CATEGORY_WORDS = {
    "蜂蜜": "honey",
    "茶叶": "tea",
    "茶": "tea",
    "大米": "rice",
    "杂粮": "grain",
    "菌菇": "mushrooms",
    "水果": "fruit",
    "蔬菜": "vegetables",
    "坚果": "nuts",
    "食用油": "oil",
    "禽蛋": "eggs",
    "肉类": "meat",
    "手工艺品": "handicraft",
    "其他": "other",
}
UNIT_WORDS = {"公斤": "kg", "千克": "kg", "斤": "jin", "盒": "box", "瓶": "bottle", "件": "piece"}
STATUS_WORDS = {"草稿": "draft", "上架": "active", "在售": "active"}
EXAMPLE = {
    "name_zh": "松江土蜂蜜",
    "name_en": "Songjiang wild honey",
    "description_zh": "山里的百花蜜",
    "description_en": "Wildflower honey from the hills",
    "category": "蜂蜜",
    "unit": "瓶",
    "price": "68.00",
    "currency": "CNY",
    "status": "草稿",
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


def header_of(column: str) -> str:
    """The template's header cell: Chinese first, the column code after a slash."""
    return f"{COLUMNS[column][0]} / {column}"


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([header_of(c) for c in COLUMNS])
    writer.writerow([EXAMPLE[c] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "products"
    append_row(sheet, [header_of(c) for c in COLUMNS])
    append_row(sheet, [EXAMPLE[c] for c in COLUMNS])
    help_sheet = book.create_sheet("help")
    append_row(help_sheet, ["列 / column", "填写说明 / meaning"])
    for column, (_label, meaning) in COLUMNS.items():
        append_row(help_sheet, [header_of(column), meaning])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def column_of(header: str) -> str:
    """'单价（元） / price', '单价（元）' or 'price' → 'price'; anything else as it is."""
    text = header.strip()
    code = text.rsplit("/", 1)[-1].strip()
    if code in COLUMNS or code == "price_amount":
        return code
    for column, (label, _meaning) in COLUMNS.items():
        if text == label:
            return column
    return text


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
    reader = csv.reader(io.StringIO(text))
    header = [column_of(cell) for cell in next(reader, [])]
    _check_header(header)
    rows = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            rows.append(dict(zip(header, (cell.strip() for cell in cells), strict=False)))
    return rows


def _read_xlsx(data: bytes) -> list[dict[str, str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise RowErrors(
            [{"loc": ["file"], "row": None, "column": None, "msg": "Not a readable XLSX file."}]
        ) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [column_of(_cell(v)) for v in next(rows, ())]
    _check_header(header)
    found = []
    for values in rows:
        cells = [_cell(v) for v in values]
        if any(cells):
            found.append(dict(zip(header, cells, strict=False)))
    book.close()
    return found


def _check_header(header: Sequence[str]) -> None:
    if "price_amount" in header:
        # The old template took fen: 25 meant ¥0.25. Refuse it rather than guess.
        raise RowErrors(
            [
                _error(
                    1,
                    "price_amount",
                    "price_amount (in fen) is no longer read: download the new template and "
                    "give prices in yuan in the column 单价（元） / price",
                )
            ]
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RowErrors([_error(1, c, "column missing from the header") for c in missing])


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


def _word(text: str, words: dict[str, str]) -> str:
    return words.get(text.strip(), text.strip().lower())


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
    product = _row_product(row_number, row, coop_id, households, brands, errors)
    lot = _row_lot(row_number, row, households, errors)
    return product, lot, errors


def _named(
    row_number: int,
    value: str | None,
    found: dict[str, Any],
    column: str,
    missing: str,
    errors: list[dict[str, Any]],
) -> Any:
    """The household or brand a cell names (None when empty); an error when none has the name."""
    if not value:
        return None
    named = found.get(value)
    if named is None:
        errors.append(_error(row_number, column, missing))
    return named


def _row_price(
    row_number: int, row: dict[str, str], errors: list[dict[str, Any]]
) -> dict[str, Any]:
    currency = (row.get("currency") or "CNY").upper()
    price = parse_major(row.get("price", ""), currency) if len(currency) == 3 else None
    if price is None:
        errors.append(
            _error(row_number, "price", "enter the price per unit in yuan, e.g. 68 or ¥68.50")
        )
        price = 1  # keeps the other columns checked; the row is refused above
    return {"amount": price, "currency": currency}


def _row_product(
    row_number: int,
    row: dict[str, str],
    coop_id: int,
    households: dict[str, Household],
    brands: dict[str, Brand],
    errors: list[dict[str, Any]],
) -> ProductCreate | None:
    code = (row.get("member_code") or "").upper()
    household = _named(
        row_number, code, households, "member_code", "no such member in this cooperative", errors
    )
    brand = _named(
        row_number,
        row.get("brand"),
        brands,
        "brand",
        "no brand of this cooperative has this name",
        errors,
    )
    product_fields = {
        "coop_id": coop_id,
        "household_id": household.id if household else None,
        "brand_id": brand.id if brand else None,
        "name": {"zh": row.get("name_zh", ""), "en": row.get("name_en", "")},
        "description": {"zh": row.get("description_zh", ""), "en": row.get("description_en", "")},
        "category": _word(row.get("category", ""), CATEGORY_WORDS),
        "unit": _word(row.get("unit", ""), UNIT_WORDS),
        "price": _row_price(row_number, row, errors),
        "status": _word(row.get("status") or "draft", STATUS_WORDS),
    }
    try:
        return ProductCreate.model_validate(product_fields)
    except ValidationError as error:
        names = {"name": "name_zh", "description": "description_zh", "price": "price"}
        errors.extend(_pydantic_errors(row_number, error, names))
        return None


def _row_lot(
    row_number: int,
    row: dict[str, str],
    households: dict[str, Household],
    errors: list[dict[str, Any]],
) -> LotCreate | None:
    if not any(row.get(c) for c in LOT_COLUMNS):
        return None
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
        return LotCreate.model_validate(lot_fields)
    except ValidationError as error:
        names = {"code": "lot_code", "quantity": "lot_quantity"}
        errors.extend(_pydantic_errors(row_number, error, names))
        return None


def import_file(
    session: Session,
    *,
    actor: Actor,
    coop_id: int,
    data: bytes,
    filename: str,
    confirm_prices: bool = False,
) -> ImportResult:
    """All rows or none. A doubtful price (`catalog.prices.price_doubt`) is a row error unless
    the manager confirmed the file's prices (`confirm_prices`)."""
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
    if not errors and not confirm_prices:
        errors = _doubtful_prices(session, coop_id, validated)
    if errors:
        raise RowErrors(errors)
    return _create_rows(session, actor, validated)


def _create_rows(
    session: Session,
    actor: Actor,
    validated: list[tuple[int, ProductCreate | None, LotCreate | None]],
) -> ImportResult:
    """Every validated row's product (and lot); any refusal refuses the whole file."""
    errors: list[dict[str, Any]] = []
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


DOUBTS = {
    "too_large": "more than ¥10,000 per unit",
    "far_above": "far above this cooperative's usual price for this kind of product",
    "far_below": "far below this cooperative's usual price for this kind of product",
}


def _doubtful_prices(
    session: Session, coop_id: int, rows: list[tuple[int, ProductCreate | None, LotCreate | None]]
) -> list[dict[str, Any]]:
    found = []
    for row_number, product, _lot in rows:
        assert product is not None
        doubt = price_doubt(
            session,
            coop_id=coop_id,
            category=product.category,
            unit=product.unit,
            amount=product.price.amount,
        )
        if doubt is not None:
            found.append(
                _error(
                    row_number,
                    "price",
                    f"{Decimal(product.price.amount).scaleb(-2)} yuan is {DOUBTS[doubt.kind]}: check that "
                    "it is in yuan, or confirm the prices and import again",
                )
            )
    return found


def _column_of(error: DomainError, default: str) -> str:
    names = {"code": "lot_code", "contributions": "contributions", "expires_on": "expires_on"}
    for item in error.errors or []:
        loc = item.get("loc") or []
        if len(loc) >= 2 and loc[0] == "body":
            return names.get(str(loc[1]), str(loc[1]))
    return default
