"""Browser journey (360-px phone, no JavaScript needed): staff read the trial balance, follow an
account to its statement and an entry, reverse it after ticking the confirmation, and seal."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from playwright.sync_api import Browser, Page, ViewportSize, expect

from api.demo import DEMO_USERS
from ledger import service
from ledger.models import AccountType, Side

STAFF = next(user for user in DEMO_USERS if user.role == "staff")
PHONE: ViewportSize = {"width": 360, "height": 740}
LONG_KEY = "liabilities:members:household-with-a-rather-long-identifier-0001:payable"


def _post_entries(session) -> tuple[list[int], str]:
    """Two opening balances on the bank; their entry ids and the trial balance's total (the
    demo's entries included), as the page shows it."""
    service.open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    service.open_account(session, key=LONG_KEY, type=AccountType.liability, currency="CNY")
    ids = []
    for amount in (123450, 99900):
        result = service.post(
            session,
            service.EntrySpec(
                kind="adjustment",
                effective_date=date.today(),  # the demo closes last month
                memo="Opening balance",
                idempotency_key=uuid.uuid4().hex,
                postings=(
                    service.PostingSpec("assets:bank", Side.debit, amount, "CNY"),
                    service.PostingSpec(LONG_KEY, Side.credit, amount, "CNY"),
                ),
            ),
        )
        assert result.entry.id is not None
        ids.append(result.entry.id)
    session.commit()
    (total,) = [t.debits for t in service.trial_balance(session).totals if t.currency == "CNY"]
    return ids, format_currency(Decimal(total).scaleb(-2), "CNY", locale="zh_CN")


def _page_does_not_scroll_sideways(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


@pytest.mark.e2e
def test_staff_reverse_an_entry_on_a_phone(browser: Browser, live_server: str, session):
    (_first, second), total = _post_entries(session)
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/staff/ledger")
    expect(page).to_have_url(f"{live_server}/login?next=/staff/ledger")
    page.locator("#email").fill(STAFF.email)
    page.locator("#password").fill(STAFF.password)
    page.locator("form[action='/login'] button[type=submit]").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("试算平衡表")
    expect(page.locator(".balanced")).to_contain_text(total)
    _page_does_not_scroll_sideways(page)
    scroller = page.locator(".table-scroll").first
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls inside

    page.get_by_role("link", name="assets:bank").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("assets:bank")
    expect(page.locator(".facts")).to_contain_text("¥2,233.50")
    _page_does_not_scroll_sideways(page)

    page.locator(".ledger-table a").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"分录 {second}")
    _page_does_not_scroll_sideways(page)
    page.locator("#memo").fill("Entered twice")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="冲销分录").click()
    reversal = second + 1  # the next entry (SQLite: nothing else posts meanwhile)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"分录 {reversal}")
    expect(page.locator(".facts")).to_contain_text("Entered twice")
    page.get_by_role("link", name=f"分录 {second}").click()
    expect(page.locator(".facts")).to_contain_text(f"分录 {reversal}")
    expect(page.get_by_role("button", name="冲销分录")).to_have_count(0)

    page.goto("/staff/ledger/seals")
    page.get_by_role("button", name="立即封存").click()
    expect(page.locator(".notice")).to_contain_text("区块")
    page.get_by_role("button", name="立即校验").click()
    expect(page.locator(".verify-result")).to_contain_text("校验通过")
    _page_does_not_scroll_sideways(page)
    context.close()


@pytest.mark.e2e
def test_an_admin_closes_and_reopens_a_month_on_a_phone(browser: Browser, live_server: str):
    """Issue 15: a typo such as 9999-12 comes back as the form with a message; a past month
    closes; the administrator reopens it with a reason that the history keeps."""
    admin = next(user for user in DEMO_USERS if user.role == "admin")
    today = date.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/staff/ledger/periods")
    page.locator("#email").fill(admin.email)
    page.locator("#password").fill(admin.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("会计期间")
    _page_does_not_scroll_sideways(page)

    page.locator("#close_period").fill("9999-12")
    page.get_by_role("button", name="结账", exact=True).click()
    expect(page.locator("#period-problem")).to_contain_text("年份在 2000 到 2100 之间")
    expect(page.locator("#close_period")).to_have_value("9999-12")

    page.locator("#close_period").fill(last_month)
    page.get_by_role("button", name="结账", exact=True).click()
    expect(page.locator(".notice")).to_have_text(f"{last_month} 已结账。")

    page.locator("#reason").fill("银行流水漏记")
    page.get_by_role("button", name="重新开账").click()
    expect(page.locator(".notice")).to_have_text(f"{last_month} 已重新开账。")
    expect(page.locator(".ledger-table")).to_contain_text("银行流水漏记")
    _page_does_not_scroll_sideways(page)
    context.close()
