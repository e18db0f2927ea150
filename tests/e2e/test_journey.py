"""Browser journeys in Debian's Chromium: Chinese first, switch to English, sign in, sign out."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from api.demo import DEMO_USERS

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "home.png"
FARMER = next(user for user in DEMO_USERS if user.role == "farmer")


@pytest.mark.e2e
def test_home_in_chinese_switch_to_english_sign_in_and_out(browser: Browser, live_server: str):
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "乡村合作社的好产品，每一元钱都有账可查"
    )
    expect(page.locator(".site-header").get_by_role("link", name="登录")).to_be_visible()
    if os.environ.get("HEZUO_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Products from village cooperatives"
    )

    page.locator(".site-header").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/login?next=/")
    page.get_by_label("Email").fill(FARMER.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")

    page.get_by_label("Password").fill(FARMER.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/")
    header = page.locator(".site-header")
    expect(header.locator(".who")).to_have_text(FARMER.email)
    cookies = {cookie["name"]: cookie for cookie in context.cookies()}
    assert cookies["hezuo_session"]["httpOnly"]
    assert cookies["hezuo_session"]["sameSite"] == "Lax"

    header.get_by_role("link", name="My account").click()
    expect(page.locator(".facts .role")).to_have_text("Farmer")

    header.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(header.get_by_role("link", name="Sign in")).to_be_visible()
    expect(header.locator(".who")).to_have_count(0)
    assert "hezuo_session" not in {cookie["name"] for cookie in context.cookies()}
    page.goto("/me")
    expect(page).to_have_url(f"{live_server}/login?next=/me")
    context.close()


@pytest.mark.e2e
def test_a_browser_gets_a_chinese_404_page(browser: Browser, live_server: str):
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    page = context.new_page()
    response = page.goto("/nowhere")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(f"{live_server}/")
    context.close()


@pytest.mark.e2e
def test_pages_fit_a_360_pixel_phone(browser: Browser, live_server: str):
    context = browser.new_context(
        base_url=live_server, locale="en", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    for path in ("/", "/login", "/nowhere"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways ({width}px)"
    page.goto("/login")
    page.get_by_label("Email").fill(FARMER.email)
    page.get_by_label("Password").fill(FARMER.password)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/me")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
