"""A buyer's bank transfer recorded by staff (assets:clearing:manual) matches its line in the bank's
own export by the order's reference code: previewed with the format named and the proposal shown,
imported by the preview's token (no second upload), matched, and the fee left to book."""

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from ledger.payout_models import StatementLine

URL = "/api/v1/reconciliation"
ICBC_HEADER = "交易日期,摘要,交易详情,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),交易币种,记账金额(收入),记账金额(支出),记账币种,余额,对方户名"


def icbc_file(day: date, code: str, amount: int) -> bytes:
    """An ICBC 明细 export: preamble, padded cells, the transfer, a fee, and its totals row."""
    yuan = f"{amount / 100:,.2f}"
    total_in = f"{amount / 100:,.2f}"
    rows = [
        ["中国工商银行 账户历史明细"],
        ["账号：6222 0212 0000 1234 567"],
        [f"起止日期：{day:%Y-%m}-01 至 {day.isoformat()}"],
        ICBC_HEADER.split(","),
        [
            f"{day.isoformat()} ",
            " 转账 ",
            f" 货款 {code.lower()} ",
            " 网银 ",
            "CHN",
            "钞",
            yuan,
            "-",
            "人民币",
            yuan,
            "-",
            "人民币",
            "9,999.00",
            " 买家 ",
        ],
        [
            f"{day.isoformat()} ",
            " 账户管理费 ",
            " 管理费 ",
            "-",
            "CHN",
            "钞",
            "-",
            "2.50",
            "人民币",
            "-",
            "2.50",
            "人民币",
            "9,996.50",
            "-",
        ],
        ["人民币合计", "", "", "", "", "", total_in, "2.50", "", total_in, "2.50", "", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("gbk")


@pytest.fixture
def paid_by_transfer(world, client: TestClient, as_role, place) -> dict:
    order = place("buyer", [(world.honey, 2)]).json()
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "bank transfer"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    return order


def test_preview_token_import_and_match_by_reference_code(
    client: TestClient, as_role, paid_by_transfer: dict, session: Session
) -> None:
    staff = as_role("staff")
    order = paid_by_transfer
    today = date.today()
    raw = icbc_file(today, order["reference_code"], order["total"]["amount"])
    files = {"file": ("icbc.csv", raw, "text/csv")}

    preview = client.post(f"{URL}/statements", data={"preview": "true"}, files=files, headers=staff)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["preset"], body["preset_name"], body["encoding"]) == (
        "icbc",
        "中国工商银行 ICBC",
        "gbk",
    )
    assert [row["kind"] for row in body["skipped"]] == ["totals"]
    assert [p["rule"] for p in body["proposals"]] == ["code"]
    assert body["proposals"][0]["line_nos"] == [body["lines"][0]["line_no"]]
    assert session.scalar(select(func.count()).select_from(StatementLine)) == 0

    other = as_role("buyer")
    refused = client.post(f"{URL}/statements", data={"preview_token": body["token"]}, headers=other)
    assert refused.status_code == 403
    imported = client.post(
        f"{URL}/statements", data={"preview_token": body["token"]}, headers=staff
    )
    assert imported.status_code == 201, imported.text
    assert (imported.json()["new_lines"], imported.json()["preset"]) == (2, "icbc")
    spent = client.post(f"{URL}/statements", data={"preview_token": body["token"]}, headers=staff)
    assert spent.status_code == 404
    again = client.post(f"{URL}/statements", data={"preview": "true"}, files=files, headers=staff)
    assert again.json()["already_stored"] == [line["line_no"] for line in body["lines"]]

    made = client.post(f"{URL}/auto-match", json={"account": "assets:bank"}, headers=staff)
    assert made.status_code == 200, made.text
    assert [m["rule"] for m in made.json()] == ["code"]
    assert len(made.json()[0]["posting_ids"]) == 2  # the bank posting and the clearing posting
    view = client.get(URL, params={"period": f"{today:%Y-%m}"}, headers=staff).json()
    assert [(i["side"], i["amount"]) for i in view["open_items"]] == [("statement", -250)]
    clearing = client.get(
        "/api/v1/ledger/accounts/assets:clearing:manual/balance", headers=staff
    ).json()
    assert clearing["balance"]["amount"] == 0  # the recorded payment moved on to the bank
    again = client.post(f"{URL}/auto-match", json={"account": "assets:bank"}, headers=staff)
    assert again.json() == []


def test_a_code_of_another_amount_is_not_matched(
    client: TestClient, as_role, paid_by_transfer: dict
) -> None:
    staff = as_role("staff")
    order = paid_by_transfer
    raw = icbc_file(date.today(), order["reference_code"], order["total"]["amount"] - 100)
    files = {"file": ("icbc.csv", raw, "text/csv")}
    assert client.post(f"{URL}/statements", files=files, headers=staff).status_code == 201
    made = client.post(f"{URL}/auto-match", json={"account": "assets:bank"}, headers=staff)
    assert made.json() == []


def test_unknown_format_and_wrong_account_are_4xx_and_store_nothing(
    client: TestClient, as_role, world, session: Session
) -> None:
    staff = as_role("staff")
    odd = {"file": ("odd.csv", "流水号|记帐日|发生额\n1|2026-11-03|5\n".encode("gbk"), "text/csv")}
    unknown = client.post(f"{URL}/statements", files=odd, headers=staff)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "流水号|记帐日|发生额" in unknown.json()["detail"]
    raw = icbc_file(date(2026, 11, 30), "HZAAAAAAAA", 1000)
    files = {"file": ("icbc.csv", raw, "text/csv")}
    wrong = client.post(
        f"{URL}/statements", data={"account": "expenses:bank:fees"}, files=files, headers=staff
    )
    assert wrong.status_code == 422
    assert "asset" in wrong.json()["detail"]
    no_file = client.post(f"{URL}/statements", data={"account": "assets:bank"}, headers=staff)
    assert no_file.status_code == 422
    assert session.scalar(select(func.count()).select_from(StatementLine)) == 0


def test_presets_are_listed_and_a_saved_one_reads_the_next_file(
    client: TestClient, as_role, world, session: Session
) -> None:
    staff = as_role("staff")
    listed = client.get(f"{URL}/presets", headers=staff).json()
    assert {"icbc", "ccb", "abc", "boc", "cmb", "rural", "alipay", "wechat"} <= {
        p["key"] for p in listed
    }
    columns = {"date": "记帐日", "amount": "发生额", "counterparty": "对方"}
    made = client.post(
        f"{URL}/presets", json={"name": "村镇银行", "columns": columns}, headers=staff
    )
    assert made.status_code == 201, made.text
    assert made.json()["columns"]["amount"] == ["发生额"]
    taken = client.post(
        f"{URL}/presets", json={"name": "村镇银行", "columns": columns}, headers=staff
    )
    assert taken.status_code == 409
    unusable = client.post(
        f"{URL}/presets", json={"name": "x", "columns": {"date": "记帐日"}}, headers=staff
    )
    assert unusable.status_code == 422
    assert client.get(f"{URL}/presets", headers=as_role("buyer")).status_code == 403
    raw = '记帐日,发生额,对方\n2026-11-03,"1,280.00",王芳\n'.encode("gbk")
    files = {"file": ("odd.csv", raw, "text/csv")}
    imported = client.post(f"{URL}/statements", files=files, headers=staff)
    assert imported.status_code == 201, imported.text
    assert imported.json()["preset"] == made.json()["key"]
