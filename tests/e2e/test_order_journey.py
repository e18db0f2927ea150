"""Browser journey: a guest orders from two cooperatives and pays by bank transfer; staff record the
payment; each manager ships their own lines; the guest confirms delivery; the receipt's split sums
to the amount paid, and the ledger's trial balance (API) balances."""

import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import col, select

from api import service
from api.database import create_db_engine, create_session_factory
from api.demo import DEMO_USERS
from api.models import Role
from api.settings import Settings
from catalog.models import Cooperative, Lot, Product
from tests.catalog import factories

STAFF = next(user for user in DEMO_USERS if user.role == "staff")
MANAGER = next(user for user in DEMO_USERS if user.role == "manager")
SECOND_MANAGER = ("manager@hongxing.demo", "hongxing-manager-2026")
PHONE = {"width": 360, "height": 740}


@dataclass
class Shop:
    songjiang_product: int
    hongxing_product: int
    hongxing_coop: int


@pytest.fixture
def shop(live_server: str, e2e_settings: Settings) -> Shop:
    """The demo's Songjiang cooperative plus a second one (Hongxing) with a product, a lot and a
    manager, made through the services."""
    engine = create_db_engine(e2e_settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            songjiang = session.scalars(
                select(Product)
                .join(Lot, col(Lot.product_id) == col(Product.id))
                .where(col(Product.status) == "active", col(Lot.quantity) > col(Lot.sold) + 2)
                .order_by(col(Product.id))
            ).first()
            assert songjiang is not None, "the demo has a product in stock"
            coop = factories.create_coop(session, code="HX", village="红星村")
            grower = factories.create_household(session, coop=coop, name="赵六")
            mushrooms = factories.create_product(
                session,
                coop=coop,
                household=grower,
                name={"zh": "红星香菇", "en": "Hongxing shiitake"},
                category="mushrooms",
                price={"amount": 4550, "currency": "CNY"},
            )
            factories.create_lot(
                session, product=mushrooms, quantity=20, contributions=[(grower, 20)]
            )
            service.create_user(
                session,
                email=SECOND_MANAGER[0],
                password=SECOND_MANAGER[1],
                role=Role.manager,
                coop_id=coop.id,
            )
            assert isinstance(coop, Cooperative)
            return Shop(songjiang.id or 0, mushrooms.id or 0, coop.id or 0)
    finally:
        engine.dispose()


def add_to_cart(page: Page, context: BrowserContext, product_id: int, quantity: int) -> None:
    """Through the product page's add-to-cart form, as a buyer would."""
    page.goto(f"/products/{product_id}")
    form = page.locator("form[action='/cart/add']")
    form.locator("input[name=quantity]").fill(str(quantity))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cart$"))


def sign_in(browser: Browser, live_server: str, email: str, password: str, next_path: str) -> Page:
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto(f"/login?next={next_path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}{next_path}")
    return page


@pytest.mark.e2e
def test_guest_orders_from_two_coops_and_the_receipt_sums_to_the_payment(
    browser: Browser, live_server: str, shop: Shop
):
    guest_context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    guest = guest_context.new_page()
    add_to_cart(guest, guest_context, shop.songjiang_product, 2)
    add_to_cart(guest, guest_context, shop.hongxing_product, 1)

    guest.goto("/cart")
    expect(guest.locator("table.lines tbody tr")).to_have_count(2)
    guest.get_by_role("link", name="去结算").click()
    expect(guest.get_by_role("heading", level=1)).to_have_text("结算")
    guest.locator("#f-recipient").fill("李娜")
    guest.locator("#f-phone").fill("13912345678")
    guest.locator("#f-province").fill("上海市")
    guest.locator("#f-city").fill("上海市")
    guest.locator("#f-district").fill("松江区")
    guest.locator("#f-street").fill("中山路 100 号 3 室")
    guest.locator("#f-note").fill("请放门卫")
    guest.locator("#f-email").fill("lina@example.com")
    guest.locator("input[name=payment_method][value=bank_transfer]").check()
    guest.get_by_role("button", name="提交订单").click()
    expect(guest).to_have_url(re.compile(r"/orders/\d+\?token="))
    order_url = guest.url
    order_id = int(re.search(r"/orders/(\d+)", order_url).group(1))  # type: ignore[union-attr]
    expect(guest.locator(".status")).to_have_text("等待付款")
    reference = guest.locator("#reference-code").inner_text()
    assert re.fullmatch(r"HZ[A-Z2-9]{8}", reference)

    staff = sign_in(browser, live_server, STAFF.email, STAFF.password, "/staff/payments")
    staff.locator("#q").fill(reference)
    staff.get_by_role("button", name="搜索").click()
    row = staff.locator(f"#order-{order_id}")
    expect(row).to_be_visible()
    row.locator("input[name=reference]").fill("ICBC 20261129-0042")
    row.get_by_role("button", name="登记付款").click()
    expect(staff).to_have_url(f"{live_server}/orders/{order_id}")
    expect(staff.locator(".status")).to_have_text("已付款")

    for email, password in ((MANAGER.email, MANAGER.password), SECOND_MANAGER):
        manager = sign_in(browser, live_server, email, password, "/manage/fulfilment")
        parcel = manager.locator(f"#order-{order_id}")
        expect(parcel).to_contain_text("中山路 100 号 3 室")
        expect(parcel.locator("li")).to_have_count(1)  # only this cooperative's line
        parcel.locator("input[name=carrier]").fill("顺丰速运")
        parcel.locator("input[name=tracking_number]").fill(f"SF{order_id}{len(email)}")
        parcel.get_by_role("button", name="标记为已发货").click()
        expect(manager.locator(f"#order-{order_id}")).to_have_count(0)
        manager.context.close()

    guest.goto(order_url)
    expect(guest.locator(".status")).to_have_text("已发货")
    guest.get_by_role("button", name="我已收到货").click()
    # a confirmation first, saying how the money will be shared out
    expect(guest.locator("#confirm")).to_contain_text("此操作无法撤销")
    guest.get_by_role("button", name="是的，我已收到：分配货款").click()
    expect(guest.locator(".status")).to_contain_text("已结算")
    receipt = guest.locator("#receipt")
    expect(receipt.get_by_role("heading")).to_have_text("您的钱去了哪里")
    amounts = [
        int(value)
        for value in receipt.locator("tbody td[data-amount]").evaluate_all(
            "cells => cells.map(c => c.dataset.amount)"
        )
    ]
    parties = receipt.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.party)")
    assert any(p.startswith("household:HX-") for p in parties)
    assert any(p.startswith("household:SJ-") for p in parties)
    assert "enterprise" in parties
    assert "escrow" not in parties  # all of it has been shared out

    with httpx.Client(base_url=live_server) as api:
        token = api.post(
            "/api/v1/auth/token", data={"username": STAFF.email, "password": STAFF.password}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        order = api.get(f"/api/v1/orders/{order_id}", headers=headers).json()
        assert order["status"] == "settled"
        paid = order["paid"]["amount"]
        assert paid == order["total"]["amount"] > 0
        assert sum(amounts) == paid
        assert int(receipt.locator("#receipt-total").get_attribute("data-amount") or 0) == paid
        trial = api.get("/api/v1/ledger/trial-balance", headers=headers)
        assert trial.status_code == 200, trial.text
        for total in trial.json()["totals"]:
            assert total["debits"] == total["credits"]
    guest_context.close()
    staff.context.close()


@pytest.mark.e2e
def test_cash_on_delivery_ships_before_payment_and_the_manager_records_the_cash(
    browser: Browser, live_server: str, shop: Shop
):
    guest_context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    guest = guest_context.new_page()
    add_to_cart(guest, guest_context, shop.songjiang_product, 1)
    guest.goto("/checkout")
    guest.locator("#f-recipient").fill("王强")
    guest.locator("#f-phone").fill("13812345678")
    guest.locator("#f-province").fill("上海市")
    guest.locator("#f-city").fill("上海市")
    guest.locator("#f-district").fill("松江区")
    guest.locator("#f-street").fill("人民路 8 号")
    guest.locator("#f-email").fill("wq@example.com")
    guest.locator("input[name=payment_method][value=cash_on_delivery]").check()
    guest.get_by_role("button", name="提交订单").click()
    expect(guest).to_have_url(re.compile(r"/orders/\d+\?token="))
    order_url = guest.url
    order_id = int(re.search(r"/orders/(\d+)", order_url).group(1))  # type: ignore[union-attr]
    expect(guest.locator(".pay-box")).to_contain_text("货到付款")

    manager = sign_in(browser, live_server, MANAGER.email, MANAGER.password, "/manage/fulfilment")
    parcel = manager.locator(f"#order-{order_id}")
    expect(parcel).to_contain_text("货到付款：尚未付款")
    parcel.locator("input[name=carrier]").fill("顺丰速运")
    parcel.locator("input[name=tracking_number]").fill(f"SF-COD-{order_id}")
    parcel.get_by_role("button", name="标记为已发货").click()
    cash = manager.locator(f"#cash-{order_id}")
    expect(cash).to_be_visible()
    cash.locator("input[name=reference]").fill("COD-0001")
    cash.get_by_role("button", name="登记现金").click()
    expect(manager.locator(f"#cash-{order_id}")).to_have_count(0)
    assert manager.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    guest.goto(order_url)
    expect(guest.locator(".status")).to_have_text("已发货")
    guest.get_by_role("button", name="我已收到货").click()
    guest.get_by_role("button", name="是的，我已收到：分配货款").click()
    expect(guest.locator(".status")).to_contain_text("已结算")
    expect(guest.locator("#receipt")).to_be_visible()
