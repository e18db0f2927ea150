"""/sell in 元: nothing chosen in advance, `¥`, commas and full-width digits read exactly, and a
doubtful price (absurdly large, or far from the cooperative's own prices) asks before listing."""

from sqlalchemy import func, select

from catalog.models import Product
from catalog.prices import parse_major
from tests.catalog.test_pages import _sell
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def _products(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Product)) or 0


def test_prices_are_read_in_yuan_with_symbols_commas_and_full_width_digits():
    assert parse_major("68", "CNY") == 6800
    assert parse_major("¥1,280.50", "CNY") == 128050
    assert parse_major("１２８．５０元", "CNY") == 12850
    assert parse_major("￥ 25", "CNY") == 2500
    assert parse_major("1,2,3", "CNY") is None  # commas only between thousands
    assert parse_major("0", "CNY") is None
    assert parse_major("68.505", "CNY") is None
    assert parse_major("-3", "CNY") is None


def test_the_sell_form_preselects_no_category_and_no_unit(client, world, session):
    sign_in(client, world.user("farmer_a").email, TEST_PASSWORD)
    form = client.get("/sell", headers=HTML).text
    assert "selected" not in form
    token = csrf_token(client, "/sell")
    before = _products(session)
    missing = _sell(client, token, category="", unit="")
    assert missing.status_code == 422
    assert "请选择产品类别。" in missing.text
    assert "请选择计量单位。" in missing.text
    assert 'value="核桃"' in missing.text  # what was typed stays
    assert _products(session) == before


def test_an_absurd_price_asks_for_confirmation_before_listing(client, world, session):
    sign_in(client, world.user("farmer_a").email, TEST_PASSWORD)
    token = csrf_token(client, "/sell")
    before = _products(session)
    asked = _sell(client, token, price="¥99,999,999.00")
    assert asked.status_code == 200
    assert 'id="confirm-price"' in asked.text
    assert "¥99,999,999.00" in asked.text
    assert 'name="price_confirmed" value="9999999900"' in asked.text
    assert _products(session) == before
    # confirming another price than the one shown does not count
    stale = _sell(client, token, price="¥99,999,999.00", price_confirmed="100")
    assert 'id="confirm-price"' in stale.text
    assert _products(session) == before
    listed = _sell(client, token, price="¥99,999,999.00", price_confirmed="9999999900")
    assert listed.status_code == 303
    assert _products(session) == before + 1


def test_a_price_far_from_the_cooperatives_own_asks_but_a_usual_one_does_not(
    client, world, session
):
    sign_in(client, world.user("farmer_a").email, TEST_PASSWORD)
    token = csrf_token(client, "/sell")
    first = _sell(client, token, price="25.50")  # walnuts by the 斤: nothing to compare yet
    assert first.status_code == 303
    usual = _sell(client, token, price="¥28")
    assert usual.status_code == 303
    before = _products(session)
    typo = _sell(client, token, price="2550")  # typed in fen
    assert typo.status_code == 200
    assert 'id="confirm-price"' in typo.text
    assert "¥26.75" in typo.text  # the cooperative's usual price (median) is named
    assert _products(session) == before
    cheap = _sell(client, token, price="0.25")
    assert 'id="confirm-price"' in cheap.text
    assert _products(session) == before
