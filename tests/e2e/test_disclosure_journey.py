"""Browser journey (phone): a buyer goes from a product to its cooperative's latest disclosure
(last month, closed and final), reads the chart and checks it against the ledger on a page in
Chinese, with the JSON one click away."""

import json
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import col, select

from api.database import create_db_engine, create_session_factory
from api.settings import Settings
from catalog.models import Product
from governance.disclosures import latest_for_coop

PHONE = {"width": 360, "height": 740}
LAST_MONTH = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture
def published(live_server: str, e2e_settings: Settings) -> dict[str, int]:
    """The demo cooperative's disclosure of last month, which the demo closes and publishes final
    from its settled orders (through governance.disclosures.publish, like staff)."""
    engine = create_db_engine(e2e_settings.database_url)
    with create_session_factory(engine).begin() as session:
        product = session.scalars(
            select(Product).where(col(Product.status) == "active").order_by(col(Product.id))
        ).first()
        assert product is not None
        disclosure = latest_for_coop(session, product.coop_id)
        assert disclosure is not None, "the demo publishes last month's disclosure"
        assert disclosure.period == LAST_MONTH
        assert disclosure.period_closed is True
        assert disclosure.content["sales"]["total"] > 0
        ids = {
            "product": product.id or 0,
            "coop": product.coop_id,
            "disclosure": disclosure.id or 0,
        }
    engine.dispose()
    return ids


@pytest.mark.e2e
def test_a_buyer_opens_the_latest_disclosure_reads_the_chart_and_verifies_it(
    browser: Browser, live_server: str, published: dict[str, int]
):
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto(f"/products/{published['product']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.locator(f"a[href='/coops/{published['coop']}']").first.click()
    expect(page).to_have_url(re.compile(rf"/coops/{published['coop']}$"))
    page.locator(f"a[href='/disclosures/coops/{published['coop']}/latest']").first.click()
    expect(page).to_have_url(re.compile(rf"/disclosures/{published['disclosure']}$"))
    expect(page.locator("h1.disclosure-title")).to_contain_text(LAST_MONTH)
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(5)
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] <= PHONE["width"]  # the chart fits the phone
    page.locator(f"a[href='/disclosures/{published['disclosure']}/verify']").click()
    expect(page).to_have_url(re.compile(rf"/disclosures/{published['disclosure']}/verify$"))
    expect(page.locator("section.verdict")).to_contain_text("核验一致")
    expect(page.get_by_role("heading", name="重新计算了什么")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # the figures table fits the phone
    page.get_by_role("link", name="同一核验结果（JSON）").click()
    answer = json.loads(page.locator("body").inner_text())
    assert answer["ok"] is True
    assert answer["matches"] is True
    assert answer["status"] == "matches"
    context.close()
