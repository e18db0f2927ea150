"""Browser journey (360 px, zh-CN, JavaScript off): a manager replaces a product's photo with a
phone camera's picture, opens a share-rule hearing and runs its vote; a member votes on the
hearing's own page, another's vote from the meeting is entered by the manager; staff record a household's off-platform income. Every step that cannot be
undone is confirmed on a page of its own (or a ticked box for a photo)."""

from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from api.demo import DEMO_USERS

PHONE = {"width": 360, "height": 740}
TODAY = date.today().isoformat()


def _signed_in(browser: Browser, live_server: str, role: str) -> tuple[BrowserContext, Page]:
    user = next(u for u in DEMO_USERS if u.role == role)
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(user.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_load_state()
    return context, page


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.e2e
def test_a_manager_replaces_a_photo_and_runs_a_hearing(
    browser: Browser, live_server: str, tmp_path: Path
):
    camera = tmp_path / "camera.jpg"
    Image.new("RGB", (4000, 3000), (90, 140, 60)).save(camera, format="JPEG", quality=95)

    manager, page = _signed_in(browser, live_server, "manager")
    page.goto("/products")
    page.locator(".product-card a").first.click()
    product_url = page.url
    page.locator("#new_photo").set_input_files(str(camera))
    page.locator("#photos button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("照片已保存")
    count = page.locator(".gallery img").count()
    assert count >= 1
    srcset = page.locator(".gallery img").first.get_attribute("srcset") or ""
    assert "720w" in srcset
    _fits(page)

    # replacing without the box: refused with a message, nothing deleted
    page.locator("#new_photo").set_input_files(str(camera))
    page.locator("input[name=replace]").nth(1).check()
    page.locator("#photos button[type=submit]").click()
    expect(page.locator("#photos .field-error")).to_contain_text("请勾选以删除旧照片")
    page.goto(product_url)
    expect(page.locator(".gallery img")).to_have_count(count)

    # the hearing: a form, a confirmation page, then the hearing's page
    page.goto("/hearings")
    page.get_by_role("link", name="发起听证会").click()
    for name, value in (
        ("producers", "75"),
        ("collective_fund", "10"),
        ("training_fund", "10"),
        ("enterprise", "5"),
        ("comment_until", TODAY),
        ("vote_until", TODAY),
        ("effective_from", TODAY),
    ):
        page.locator(f"#{name}").fill(value)
    page.locator("#reason").fill("社员大会提议提高农户分成")
    _fits(page)
    page.locator("form[action='/manage/hearings/new'] button[type=submit]").click()
    expect(page.locator(".confirm h1")).to_contain_text("发起这次听证会")
    expect(page.locator(".consequences")).to_contain_text("75 %")
    page.locator(".confirm button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("听证会已发起")
    hearing_url = page.url.split("?")[0]
    page.get_by_role("button", name="结束意见征集，开始投票").click()
    page.locator(".confirm button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("投票已开始")
    manager.close()

    farmer, page = _signed_in(browser, live_server, "farmer")
    page.goto(hearing_url)
    page.get_by_role("button", name="赞成").click()
    expect(page.locator(".notice")).to_be_visible()
    farmer.close()

    manager, page = _signed_in(browser, live_server, "manager")
    page.goto(hearing_url)
    # a member who voted at the village meeting: entered by the manager, confirmed first
    expect(page.locator("#household_id option[value]")).not_to_have_count(0)
    page.locator("#household_id").select_option(label="SJ-0002 李建国")
    page.locator("#record-vote input[value=no]").check()
    _fits(page)
    page.locator("#record-vote button[type=submit]").click()
    expect(page.locator(".consequences")).to_contain_text("SJ-0002")
    page.locator(".confirm button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()
    expect(page.locator("#household_id")).not_to_contain_text("SJ-0002")
    page.get_by_role("button", name="结束投票并计票").click()
    expect(page.locator(".consequences")).to_contain_text("2")
    page.locator(".confirm button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("投票已结束并完成计票")
    manager.close()


@pytest.mark.e2e
def test_staff_record_off_platform_income(browser: Browser, live_server: str):
    staff, page = _signed_in(browser, live_server, "staff")
    page.goto("/manage/households/1")
    page.locator("#amount").fill("八百")
    page.locator("#received_on").fill(TODAY)
    page.locator("#source").fill("县城打零工")
    page.locator("form[action$='/income'] button[type=submit]").click()
    expect(page.locator("#amount")).to_have_value("八百")  # kept, with the problem said
    expect(page.locator("form[action$='/income'] .field-error")).to_contain_text("请输入大于 0")
    page.locator("#amount").fill("800")
    page.locator("form[action$='/income'] button[type=submit]").click()
    expect(page.locator(".consequences")).to_contain_text("¥800.00")
    page.locator(".confirm button[type=submit]").click()
    expect(page.locator(".notice")).to_contain_text("收入已记录")
    expect(page.locator("table")).to_contain_text("县城打零工")
    _fits(page)
    staff.close()
