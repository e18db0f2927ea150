"""Browser journey at 1280 px (Chromium, no JavaScript needed): staff upload the bank's own GBK
export with Chinese headers, see the preview name the format and skip the totals row, import it
without choosing the file again, see the buyer's transfer they recorded matched by its order code,
book the bank fee to an expense account chosen from a list, explain the interest, close the month;
then publish that month's disclosure from the staff page and open its verify page, which says in
Chinese that it matches.

The month is a past one (two months back: the demo closes and discloses last month, so an
administrator reopens last month first), and the transfer is recorded, shipped and settled in it.
"""

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlmodel import Session, col

import orders.payments
from api import service as users
from api.demo import DEMO_USERS
from api.deps import actor_of
from core.actor import Actor
from ledger import bank
from ledger import service as ledger
from orders import fulfilment
from orders.models import Order, OrderLine, OrderStatus
from orders.payment_methods import BANK_TRANSFER
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    browser_type_launch_args,
    e2e_settings,
    live_server,
)

STAFF = next(u for u in DEMO_USERS if u.role == "staff")
HEADER = "交易日期,摘要,交易详情,交易场所,交易国家或地区简称,钞/汇,交易金额(收入),交易金额(支出),交易币种,记账金额(收入),记账金额(支出),记账币种,余额,对方户名"


def months_back(today: date, months: int) -> date:
    """The 20th of the month `months` before today's."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 20)


def _actor(session: Session, email: str) -> Actor:
    user = users.get_user_by_email(session, email)
    assert user is not None, email
    return actor_of(user)


def transfer_of_a_past_month(
    session: Session, monkeypatch: pytest.MonkeyPatch, day: date
) -> tuple[Order, bank.LedgerItem]:
    """The demo order awaiting its bank transfer: staff record the transfer dated `day`, the
    manager ships it and staff mark it delivered, settled on `day` (last month reopened first)."""
    session.rollback()
    last_month = months_back(date.today(), 1).strftime("%Y-%m")
    ledger.reopen_period(
        session, last_month, reopened_by="test", reason="e2e: a transfer banked two months ago"
    )
    order = session.scalars(
        select(Order)
        .where(
            col(Order.status) == OrderStatus.pending_payment.value,
            col(Order.payment_method) == BANK_TRANSFER.key,
        )
        .order_by(col(Order.id))
    ).first()
    assert order is not None
    assert order.id is not None
    staff = _actor(session, STAFF.email)

    class ThatDay(date):
        @classmethod
        def today(cls) -> "ThatDay":
            return cls(day.year, day.month, day.day)

    with monkeypatch.context() as patched:
        patched.setattr(orders.payments, "date", ThatDay)
        orders.payments.record_manual_payment(
            session,
            order_id=order.id,
            amount=order.total_amount,
            currency=order.currency,
            reference=f"bank transfer {order.reference_code}",
            actor=staff,
        )
    fulfilment.ship_lines(
        session,
        order_id=order.id,
        actor=_actor(session, "manager@songjiang.demo"),
        carrier="SF",
        tracking_number="SF1400000001",
        coop_id=None,
    )
    fulfilment.deliver(session, order_id=order.id, actor=staff, token_ok=False, on=day)
    session.commit()
    (posting,) = [
        item
        for item in bank.ledger_items(session, bank.CLEARING_ACCOUNT)
        if item.metadata.get("order_id") == order.id and item.amount > 0
    ]
    assert posting.effective_date == day
    return order, posting


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
def test_staff_import_a_gbk_bank_export_match_book_explain_close_and_publish(
    browser: Browser,
    live_server: str,  # noqa: F811
    session: Session,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = months_back(date.today(), 2)
    order, posting = transfer_of_a_past_month(session, monkeypatch, day)
    coop_id = order_coop(session, order)
    month = day.strftime("%Y-%m")
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
    page.locator("#reason").fill("账户管理费")
    page.locator("button[value=book]").click()
    expect(page.locator("p.notice")).to_contain_text("已记账")
    expect(page.locator("#unexplained")).to_have_text("1")

    page.locator("#open-items tbody tr").filter(has_text="结息").locator(
        "input[type=checkbox]"
    ).check()
    page.locator("#reason").fill("活期结息，下月记入利息收入")
    page.locator("button[value=explain]").click()
    expect(page.locator("#unexplained")).to_have_text("0")

    # Everything is matched, booked or explained, and the month has ended: it closes.
    page.locator("button[value=close]").click()
    expect(page.locator("p.notice[role=status]")).to_contain_text(f"{month} 已结账")
    expect(page.locator("#closed-notice")).to_be_visible()
    page.set_viewport_size({"width": 360, "height": 800})  # the same page on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 900})

    # Publish the closed month's disclosure, final, from the staff dashboard's page.
    page.goto("/staff")
    page.locator("#publish-disclosure").click()
    expect(page.locator("h1")).to_have_text("公布公示")
    page.set_viewport_size({"width": 360, "height": 800})  # so does the form
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#coop_id").select_option(str(coop_id))
    page.locator("#period").fill(month)
    page.locator("input[name=kind][value=final]").check()
    page.locator("#publish-next").click()
    expect(page.locator("#kind")).to_contain_text("最终版")
    expect(page.locator("#public-figures")).to_contain_text("sales.total")
    page.set_viewport_size({"width": 360, "height": 800})  # the confirmation fits a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#publish-confirm").click()
    expect(page.locator("p.notice")).to_contain_text(f"{month} 的公示已公布")
    expect(page.locator(".badge.provisional")).to_have_count(0)
    expect(page.locator("p.big")).not_to_contain_text("¥0.00")  # the order settled that month

    page.locator("a", has_text="重新计算并核验").click()
    expect(page.locator("h1")).to_contain_text(month)
    expect(page.locator(".verdict-matches h2")).to_contain_text("核验一致")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    context.close()


def order_coop(session: Session, order: Order) -> int:
    coops = set(
        session.scalars(
            select(col(OrderLine.coop_id)).where(col(OrderLine.order_id) == order.id)
        ).all()
    )
    assert len(coops) == 1
    return int(coops.pop())
