"""Browser journey at 1280 px (Chromium, no JavaScript needed): staff upload the bank's own GBK
export with Chinese headers, see the preview name the format and skip the totals row, import it
without choosing the file again, see the buyer's transfer they recorded matched by its order code,
book the bank fee to an expense account chosen from a list, explain the interest, and try to close
the month (refused while it is still running: only an ended month closes).
"""

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlmodel import Session, col

from api.demo import DEMO_USERS
from ledger import bank
from orders.models import Order, Payment
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    browser_type_launch_args,
    e2e_settings,
    live_server,
)

STAFF = next(u for u in DEMO_USERS if u.role == "staff")
HEADER = "交易日期,摘要,交易详情,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),交易币种,记账金额(收入),记账金额(支出),记账币种,余额,对方户名"


def recorded_transfer(session: Session) -> tuple[Order, bank.LedgerItem]:
    """A demo order paid by bank transfer that staff recorded, and its clearing posting."""
    session.rollback()
    paid = session.scalars(
        select(Order)
        .join(Payment, col(Payment.order_id) == col(Order.id))
        .where(col(Payment.provider) == "manual")
        .order_by(col(Order.id))
    ).first()
    assert paid is not None
    (posting,) = [
        item
        for item in bank.ledger_items(session, bank.CLEARING_ACCOUNT)
        if item.metadata.get("order_id") == paid.id and item.amount > 0
    ]
    return paid, posting


def icbc_export(path: Path, order: Order, posting: bank.LedgerItem) -> None:
    day = posting.effective_date.isoformat()
    amount = f"{posting.amount / 100:,.2f}"
    money_in = f"{(posting.amount + 37) / 100:,.2f}"
    rows = [
        ["中国工商银行 账户历史明细"],
        ["账号：6222 0212 0000 1234 567"],
        [f"起止日期：{day[:8]}01 至 {day}", "", "币种：人民币"],
        HEADER.split(","),
        [
            f"{day} ",
            " 转账汇款 ",
            f" 货款 {order.reference_code} ",
            " 网上银行 ",
            "CHN",
            "钞",
            amount,
            "-",
            "人民币",
            amount,
            "-",
            "人民币",
            "9,000.00",
            " 买家 ",
        ],
        [
            f"{day} ",
            " 账户管理费 ",
            " 账户管理费 ",
            "-",
            "CHN",
            "钞",
            "-",
            "2.50",
            "人民币",
            "-",
            "2.50",
            "人民币",
            "8,997.50",
            "-",
        ],
        [
            f"{day} ",
            " 结息 ",
            " 活期结息 ",
            "-",
            "CHN",
            "钞",
            "0.37",
            "-",
            "人民币",
            "0.37",
            "-",
            "人民币",
            "8,997.87",
            "-",
        ],
        ["人民币合计", "", "", "", "", "", money_in, "2.50", "", money_in, "2.50", "", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk"))


@pytest.mark.e2e
def test_staff_import_a_gbk_bank_export_match_book_explain_and_close(
    browser: Browser,
    live_server: str,  # noqa: F811
    session: Session,
    tmp_path: Any,
) -> None:
    order, posting = recorded_transfer(session)
    month = posting.effective_date.strftime("%Y-%m")
    statement = tmp_path / "工行明细.csv"
    icbc_export(statement, order, posting)
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(f"/login?next=/staff/reconciliation?period={month}")
    page.locator("#email").fill(STAFF.email)
    page.locator("#password").fill(STAFF.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(month)

    page.locator("#file").set_input_files(str(statement))
    page.locator("button[name=action][value=preview]").first.click()
    expect(page.locator("#preset")).to_have_text("中国工商银行 ICBC")
    expect(page.locator("#skipped")).to_contain_text("人民币合计")
    expect(page.locator("#skipped")).to_contain_text("合计行，已与明细核对")
    expect(page.locator("#line-count")).to_have_text("3")
    expect(page.locator("#preview-lines td.proposal-code")).to_have_count(1)
    expect(page.locator("input[type=file]")).to_have_count(0)
    page.locator("#import-preview").click()

    expect(page.locator("p.notice")).to_contain_text("自动匹配")
    expect(page.locator("#unexplained")).to_have_text("2")
    open_rows = page.locator("#open-items tbody tr")
    expect(open_rows.filter(has_text=order.reference_code)).to_have_count(0)

    open_rows.filter(has_text="账户管理费").locator("input[type=checkbox]").check()
    options = page.locator("#counter_account option")
    expect(options.filter(has_text="expenses:bank:fees")).to_have_count(1)
    page.locator("#counter_account").select_option("expenses:bank:fees")
    page.locator("#reason").fill("11月账户管理费")
    page.locator("button[value=book]").click()
    expect(page.locator("p.notice")).to_contain_text("已记账")
    expect(page.locator("#unexplained")).to_have_text("1")

    page.locator("#open-items tbody tr").filter(has_text="结息").locator(
        "input[type=checkbox]"
    ).check()
    page.locator("#reason").fill("活期结息，下月记入利息收入")
    page.locator("button[value=explain]").click()
    expect(page.locator("#unexplained")).to_have_text("0")

    # Everything is explained, but the month is still running: closing it is refused (only an
    # ended month can be closed, issue 15), with the reason on the page and nothing closed.
    page.locator("button[value=close]").click()
    expect(page.locator(".error-summary")).to_contain_text(month)
    expect(page.locator("#closed-notice")).to_have_count(0)
    page.set_viewport_size({"width": 360, "height": 800})  # the same page on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
