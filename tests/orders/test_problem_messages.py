"""A refused action on a page says what happened in the reader's language, with its specifics
(the error's message id and parameters), never the API's English sentence."""

from fastapi.testclient import TestClient

from tests.orders.test_pages import add_to_cart, checkout, post_form, web_sign_in


def _cancel_twice(client: TestClient, world, language: str):
    web_sign_in(client, world.user("buyer"))
    add_to_cart(client, world.honey, 1)
    placed = checkout(client, email="")
    assert placed.status_code == 303, placed.text
    order_path = placed.headers["location"]
    done = post_form(client, f"{order_path}/cancel", {"confirmed": "yes"}, page=order_path)
    assert done.status_code == 303
    client.cookies.set("hezuo_locale", language)
    return post_form(client, f"{order_path}/cancel", {}, page=order_path)


def test_a_refusal_is_told_in_chinese_with_the_specifics(world, app):
    with TestClient(app, raise_server_exceptions=False) as client:
        again = _cancel_twice(client, world, "zh-CN")
    assert again.status_code == 409
    assert "订单当前状态（cancelled）下无法进行此操作。" in again.text  # the order's present state
    assert "cannot be" not in again.text  # not the API's English sentence


def test_an_english_reader_gets_the_specifics_alone(world, app):
    with TestClient(app, raise_server_exceptions=False) as client:
        again = _cancel_twice(client, world, "en")
    assert again.status_code == 409
    assert "订单当前状态下" not in again.text
    assert "cancelled" in again.text
