"""Browser: the demo farmer's inbox on a 360 px phone (unread count, mark all read, no JavaScript
needed), and staff's outbox, where e-mails wait because the demo configures no SMTP server."""

import pytest
from playwright.sync_api import Browser, Page, expect

from api.demo import DEMO_USERS

FARMER = next(user for user in DEMO_USERS if user.role == "farmer")
STAFF = next(user for user in DEMO_USERS if user.role == "staff")
PHONE = {"width": 360, "height": 740}


def _signed_in(browser: Browser, live_server: str, email: str, password: str) -> Page:
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/login?next=/inbox")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/inbox")
    return page


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways ({width}px)"


@pytest.mark.e2e
def test_the_farmer_reads_the_inbox_on_a_phone(browser: Browser, live_server: str):
    page = _signed_in(browser, live_server, FARMER.email, FARMER.password)
    nav = page.locator("nav.main-nav")
    expect(nav.get_by_role("link", name="消息（2）")).to_be_visible()
    expect(page.locator("li.notice-item.unread")).to_have_count(2)
    expect(page.get_by_text("已计入您家的账户")).to_be_visible()  # the share of a settled sale
    _fits(page)
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator("li.notice-item.unread")).to_have_count(0)
    expect(nav.get_by_role("link", name="消息", exact=True)).to_be_visible()
    page.goto("/me/notifications")
    _fits(page)
    page.goto("/staff/notifications")
    expect(page.locator("h1")).to_have_text("无权访问")  # a farmer is refused the outbox
    page.context.close()


@pytest.mark.e2e
def test_staff_see_e_mails_waiting_without_smtp(browser: Browser, live_server: str):
    page = _signed_in(browser, live_server, STAFF.email, STAFF.password)
    page.goto("/staff/notifications?status=pending")
    expect(page.get_by_text("电子邮件 尚未配置")).to_be_visible()
    expect(page.locator("table tbody tr").first).to_contain_text("等待中")
    _fits(page)
    page.context.close()
