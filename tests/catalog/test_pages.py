"""Catalog pages: storefront search, product, cooperative, provenance, the farmer's sell form."""

import re

from sqlalchemy import func, select

from catalog.models import Lot, Product, ProductPhoto
from tests.catalog.images import image_bytes
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

HOSTILE = "<script>alert(1)</script>"


def test_storefront_finds_honey_by_chinese_and_english(client, world):
    for q in ("蜂蜜", "honey"):
        page = client.get("/products", params={"q": q}, headers=HTML)
        assert page.status_code == 200
        assert f'href="/products/{world.active.id}"' in page.text
        assert f'href="/products/{world.coop_product.id}"' not in page.text
    assert "土蜂蜜" in client.get("/products", headers=HTML).text
    assert "新茶" not in client.get("/products", headers=HTML).text  # a draft


def test_product_page_links_lots_to_provenance(client, world):
    page = client.get(f"/products/{world.active.id}", headers=HTML)
    assert page.status_code == 200
    assert f'href="/l/{world.lot.code}"' in page.text
    assert "¥68.00" in page.text
    assert client.get(f"/products/{world.draft.id}", headers=HTML).status_code == 404


def test_provenance_page_shows_member_codes_not_private_data(client, world):
    page = client.get(f"/l/{world.lot.code}", headers=HTML)
    assert page.status_code == 200
    assert world.household_a.member_code in page.text
    assert "13800000000" not in page.text
    assert "王芳" not in page.text  # no consent
    assert f"/l/{world.lot.code}/qr.svg" in page.text
    assert "松江村" in page.text


def test_coop_page(client, world):
    page = client.get(f"/coops/{world.coop_a.id}", headers=HTML)
    assert page.status_code == 200
    assert "SJ合作社" in page.text
    assert "土蜂蜜" in page.text
    assert "香菇" not in page.text


def test_coop_page_shows_the_share_rule_in_force_and_its_versions(client, world, session):
    from datetime import date

    from ledger.share_rules import ShareParts
    from orders.config import OrderPolicy
    from orders.share_rules import set_share_rule

    page = client.get(f"/coops/{world.coop_a.id}", headers=HTML).text
    assert "70.00%" in page  # the configured default, said to be the default
    assert "平台默认分配规则" in page
    set_share_rule(
        session,
        coop_id=world.coop_a.id,
        effective_from=date(2020, 1, 1),
        parts=ShareParts(producers=8000, collective_fund=800, training_fund=800, enterprise=400),
        fee_bearer="enterprise",
        created_by="test",
        policy=OrderPolicy(),
    )
    session.commit()
    page = client.get(f"/coops/{world.coop_a.id}", headers=HTML).text
    assert "80.00%" in page
    assert "4.00%" in page
    assert "平台默认分配规则" not in page
    assert f'href="/disclosures/coops/{world.coop_a.id}/latest"' in page


def test_names_are_shown_escaped(client, world, session):
    world.active.name_zh = HOSTILE
    session.add(world.active)
    session.commit()
    page = client.get(f"/products/{world.active.id}", headers=HTML).text
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _sell(client, token, **fields):
    data = {
        "csrf_token": token,
        "name_zh": "核桃",
        "category": "nuts",
        "unit": "jin",
        "price": "25.50",
        "quantity": "40",
        "harvested_on": "2026-10-10",
        **fields,
    }
    files = {"photo": ("walnut.jpg", image_bytes("JPEG"), "image/jpeg")}
    return client.post("/sell", data=data, files=files, headers=HTML, follow_redirects=False)


def counts(session):
    session.rollback()
    return [
        session.scalar(select(func.count()).select_from(m)) for m in (Product, Lot, ProductPhoto)
    ]


def test_farmer_lists_a_product_with_photo_and_lot(client, world, session):
    farmer = world.user("farmer_a")
    assert sign_in(client, farmer.email, TEST_PASSWORD).status_code == 303
    token = csrf_token(client, "/sell")
    form = client.get("/sell", headers=HTML).text
    assert 'capture="environment"' in form
    before = counts(session)
    response = _sell(client, token)
    assert response.status_code == 303, response.text
    found = re.search(r"/products/(\d+)", response.headers["location"])
    assert found is not None
    product_id = int(found.group(1))
    assert counts(session) == [before[0] + 1, before[1] + 1, before[2] + 1]
    product = client.get(f"/api/v1/products/{product_id}").json()
    assert product["price"] == {"amount": 2550, "currency": "CNY"}
    assert product["household_id"] == world.household_a.id
    assert product["stock"] == 40
    assert len(product["photos"]) == 1


def test_sell_form_errors_name_the_field_and_store_nothing(client, world, session):
    farmer = world.user("farmer_a")
    sign_in(client, farmer.email, TEST_PASSWORD)
    token = csrf_token(client, "/sell")
    before = counts(session)
    bad_price = _sell(client, token, price="-3", quantity="a few")
    assert bad_price.status_code == 422
    assert 'id="price"' in bad_price.text
    assert "field-error" in bad_price.text
    # in the reader's language only (gettext), not a "中文 / English" pair
    assert "请填写价格（元），例如 68 或 68.50</span>" in bad_price.text
    assert "请填写整数数量</span>" in bad_price.text
    assert "Enter a price" not in bad_price.text
    client.cookies.set("hezuo_locale", "en")
    in_english = _sell(client, token, price="-3")
    assert "Enter a price in yuan, e.g. 68 or 68.50</span>" in in_english.text
    assert "请填写" not in in_english.text
    client.cookies.delete("hezuo_locale")
    pdf = client.post(
        "/sell",
        data={
            "csrf_token": token,
            "name_zh": "坏图",
            "category": "nuts",
            "unit": "kg",
            "price": "10",
            "quantity": "1",
            "harvested_on": "2026-10-10",
        },
        files={"photo": ("x.jpg", b"%PDF-1.4 not an image", "image/jpeg")},
        headers=HTML,
    )
    assert pdf.status_code == 422
    assert "不是 JPEG、PNG 或 WebP 格式的照片" in pdf.text
    assert counts(session) == before


def test_sell_needs_a_farmer(client, world):
    assert client.get("/sell", headers=HTML, follow_redirects=False).status_code == 303
    buyer = world.user("buyer")
    sign_in(client, buyer.email, TEST_PASSWORD)
    assert client.get("/sell", headers=HTML).status_code == 403
    token = csrf_token(client, "/products")
    assert _sell(client, token).status_code in (403, 422)  # refused either way, nothing stored


def test_sell_without_csrf_is_refused(client, world, session):
    farmer = world.user("farmer_a")
    sign_in(client, farmer.email, TEST_PASSWORD)
    before = counts(session)
    assert _sell(client, "x" * 43).status_code == 403
    assert counts(session) == before


def test_manager_catalog_page(client, world):
    manager = world.user("manager_a")
    sign_in(client, manager.email, TEST_PASSWORD)
    page = client.get("/manage/catalog", headers=HTML)
    assert page.status_code == 200
    assert "新茶" in page.text  # drafts too
    assert world.household_a.member_code in page.text
    assert "products-template.xlsx" in page.text
    farmer = world.user("farmer_a")
    client.cookies.clear()
    sign_in(client, farmer.email, TEST_PASSWORD)
    assert client.get("/manage/catalog", headers=HTML).status_code == 403


def test_storefront_form_with_empty_filters(client, world):
    params = {"q": "蜂蜜", "category": "", "certification": "", "sort": "newest"}
    page = client.get("/products", params=params, headers=HTML)
    assert page.status_code == 200
    assert f'href="/products/{world.active.id}"' in page.text
    rice = client.get("/products", params={"category": "rice"}, headers=HTML).text
    assert f'href="/products/{world.coop_product.id}"' in rice
    assert f'href="/products/{world.active.id}"' not in rice


def test_product_page_offers_the_cart_only_when_in_stock_and_shows_ratings(client, world, session):
    page = client.get(f"/products/{world.active.id}", headers=HTML).text
    assert 'action="/cart/add"' in page
    assert f'name="product_id" value="{world.active.id}"' in page
    assert "暂无评价" in page
    assert f'href="/products/{world.active.id}/reviews"' in page
    for lot in session.scalars(select(Lot).where(Lot.product_id == world.active.id)):
        lot.sold = lot.quantity - lot.reserved
        session.add(lot)
    session.commit()
    page = client.get(f"/products/{world.active.id}", headers=HTML).text
    assert 'action="/cart/add"' not in page
