"""Pages speak the reader's language and zone: times in settings.timezone (never "UTC"), and
codes (units, statuses, payout methods) and ledger memos as words."""

import re
from zoneinfo import ZoneInfo

from sqlmodel import select

from frontend.i18n import Translator
from frontend.words import memo_words, word_lookup
from orders.models import OrderEvent
from tests.frontend.helpers import HTML


def test_the_order_timeline_is_in_beijing_time_not_utc(world, client, place, session):
    placed = place("guest", [(world.honey, 1)]).json()
    page = client.get(f"/orders/{placed['id']}?token={placed['access_token']}", headers=HTML)
    assert page.status_code == 200
    assert "UTC" not in page.text
    session.rollback()
    event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == placed["id"])).first()
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=ZoneInfo("UTC"))
    local = at.astimezone(ZoneInfo("Asia/Shanghai"))
    shown = re.search(r"<time [^>]*>([^<]+)</time>", page.text).group(1)
    assert shown == f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"  # UTC+8


def test_the_time_zone_setting_is_followed(world, app, client, place, session):
    app.state.settings = app.state.settings.model_copy(update={"timezone": "America/New_York"})
    placed = place("guest", [(world.honey, 1)]).json()
    page = client.get(f"/orders/{placed['id']}?token={placed['access_token']}", headers=HTML)
    session.rollback()
    event = session.scalars(select(OrderEvent).where(OrderEvent.order_id == placed["id"])).first()
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=ZoneInfo("UTC"))
    shown = re.search(r"<time [^>]*>([^<]+)</time>", page.text).group(1)
    assert shown.endswith(at.astimezone(ZoneInfo("America/New_York")).strftime(" %H:%M"))


def test_units_and_memos_are_words_in_both_languages(world, place, browser_for):
    zh, en = Translator("zh-CN"), Translator("en")
    assert word_lookup(zh)("unit", "jin") == "斤"
    assert word_lookup(en)("payout_method", "alipay") == "Alipay"
    assert word_lookup(zh)("payout_method", "alipay") == "支付宝"
    assert word_lookup(zh)("unit", "new-code") == "new-code"  # unknown codes stay visible
    assert memo_words(zh)("Settlement of order 12") == "订单 12 的分成"
    assert memo_words(en)("Settlement of order 12") == "Your share of order 12"
    assert (
        memo_words(zh)("Settlement of order 3 reversed in proportion for refund 7")
        == "退款收回分成：订单 3"
    )
    assert memo_words(zh)("Something else") == "Something else"

    placed = place("guest", [(world.honey, 2)], method="cash_on_delivery").json()
    manager = browser_for("manager_a")
    queue = manager.get("/manage/fulfilment", headers=HTML).text
    line = queue[queue.index(f'id="order-{placed["id"]}"') :]
    assert "× 2 瓶" in line
