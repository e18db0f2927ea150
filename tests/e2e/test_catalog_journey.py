"""Browser journey (phone viewport): a farmer lists a product with a photo and a lot; a buyer finds
it by a Chinese search term and opens its provenance page from the product page."""

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from api.demo import DEMO_USERS

FARMER = next(user for user in DEMO_USERS if user.role == "farmer")
PHONE = {"width": 360, "height": 740}


@pytest.mark.e2e
def test_farmer_lists_buyer_finds_and_traces(browser: Browser, live_server: str, tmp_path: Path):
    photo = tmp_path / "walnuts.jpg"
    Image.new("RGB", (1600, 1200), (150, 110, 60)).save(photo, format="JPEG")

    farmer = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = farmer.new_page()
    page.goto("/login?next=/sell")
    page.locator("#email").fill(FARMER.email)
    page.locator("#password").fill(FARMER.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/sell")
    page.locator("#photo").set_input_files(str(photo))
    page.locator("#name_zh").fill("山核桃")
    page.locator("#category").select_option("nuts")
    page.locator("#unit").select_option("jin")
    page.locator("#price").fill("32.80")
    page.locator("#quantity").fill("60")
    submit = page.locator("form.sell button[type=submit]")
    box = submit.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"] + 200  # the form fits (about) one screen
    submit.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("山核桃")
    expect(page.locator(".gallery img")).to_have_count(1)
    farmer.close()

    buyer = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = buyer.new_page()
    page.goto("/products")
    page.locator("#q").fill("核桃")
    page.locator("form.search button[type=submit]").click()
    cards = page.locator(".product-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("¥32.80")
    cards.first.locator("a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("山核桃")
    page.locator(".lots a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("溯源")
    expect(page.locator(".contributors")).to_contain_text("SJ-0001")
    expect(page.locator(".facts")).to_contain_text("松江村")
    qr = page.locator(".qr img")
    expect(qr).to_be_visible()
    assert page.evaluate("() => document.querySelector('.qr img').naturalWidth") > 0
    buyer.close()
