"""Order pages: cart, checkout, order page with receipt, my orders, fulfilment, packing list,
staff payments and refunds — each form needs its CSRF token, and the wrong people are refused."""

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token

ADDRESS = {
    "recipient": "李娜",
    "phone": "13912345678",
    "province": "上海市",
    "city": "上海市",
    "district": "松江区",
    "street": "中山路 100 号",
}


def web_sign_in(client: TestClient, user) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient, path: str, data: dict, *, page: str = "/login", **kw):
    token = csrf_token(client, page)
    return client.post(
        path, data={**data, "csrf_token": token}, headers=HTML, follow_redirects=False, **kw
    )


def add_to_cart(client, product, quantity=1):
    response = post_form(client, "/cart/add", {"product_id": product.id, "quantity": quantity})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/cart"


def checkout(client, *, email="guest@example.com", method="bank_transfer", **fields):
    form = client.get("/checkout", headers=HTML)
    assert form.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)
    data = {**ADDRESS, "payment_method": method, "idempotency_key": key, **fields}
    if email:
        data["email"] = email
    return post_form(client, "/checkout", data, page="/checkout")


def place_guest_order(client, world) -> tuple[int, str]:
    add_to_cart(client, world.honey, 2)
    add_to_cart(client, world.mushrooms, 1)
    response = checkout(client)
    assert response.status_code == 303, response.text
    location = urlparse(response.headers["location"])
    order_id = int(location.path.rsplit("/", 1)[1])
    return order_id, parse_qs(location.query)["token"][0]


@pytest.fixture
def shopper(app) -> Iterator[TestClient]:
    """A second client with its own cookies (the `client` fixture is the API client)."""
    with TestClient(app, raise_server_exceptions=False) as other:
        yield other


def test_cart_in_a_cookie_updates_and_shows_the_total_in_chinese(world, shopper):
    add_to_cart(shopper, world.honey, 2)
    add_to_cart(shopper, world.honey, 1)
    page = shopper.get("/cart", headers=HTML)
    assert page.status_code == 200
    assert "购物车" in page.text
    assert "¥204.00" in page.text  # 3 × 68.00
    post_form(shopper, "/cart/update", {"product_id": world.honey.id, "quantity": 0})
    assert "购物车是空的" in shopper.get("/cart", headers=HTML).text


def test_cart_forms_need_the_csrf_token_and_an_active_product(world, shopper):
    shopper.get("/cart", headers=HTML)
    refused = shopper.post(
        "/cart/add", data={"product_id": world.honey.id}, headers=HTML, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "hezuo_cart" not in shopper.cookies
    unknown = post_form(shopper, "/cart/add", {"product_id": 999999})
    assert unknown.status_code == 422


def test_a_guest_checks_out_and_reads_the_order_with_the_link_only(world, shopper, client):
    order_id, token = place_guest_order(shopper, world)
    assert "hezuo_cart" not in shopper.cookies  # emptied
    page = shopper.get(f"/orders/{order_id}?token={token}", headers=HTML)
    assert page.status_code == 200
    assert "等待付款" in page.text
    assert re.search(r'id="reference-code">HZ[A-Z2-9]{8}<', page.text)
    assert "¥181.00" in page.text
    # without the token: sign in first; with a wrong one: the same
    stranger = client.get(f"/orders/{order_id}", headers=HTML, follow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["location"].startswith("/login")
    assert (
        client.get(f"/orders/{order_id}?token=x", headers=HTML, follow_redirects=False).status_code
        == 303
    )


def test_checkout_names_the_bad_fields_and_stores_nothing(world, shopper, client, as_role):
    add_to_cart(shopper, world.honey, 1)
    bad_phone = checkout(shopper, phone="call me")
    assert bad_phone.status_code == 422
    assert 'id="e-phone"' in bad_phone.text
    no_email = checkout(shopper, email="")
    assert no_email.status_code == 422
    assert 'id="e-email"' in no_email.text
    too_many = post_form(shopper, "/cart/update", {"product_id": world.honey.id, "quantity": 50})
    assert too_many.status_code == 303
    out = checkout(shopper)
    assert out.status_code == 409
    assert "库存" in out.text or "stock" in out.text
    listed = client.get("/api/v1/orders", headers=as_role("staff")).json()
    assert listed["items"] == []


def test_a_double_submitted_checkout_is_one_order(world, shopper, client, as_role):
    add_to_cart(shopper, world.honey, 1)
    form = shopper.get("/checkout", headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text).group(1)
    token = csrf_token(shopper, "/checkout")
    data = {
        **ADDRESS,
        "payment_method": "cash_on_delivery",
        "idempotency_key": key,
        "email": "g@example.com",
        "csrf_token": token,
    }
    first = shopper.post("/checkout", data=data, headers=HTML, follow_redirects=False)
    add_to_cart(shopper, world.honey, 1)  # the same cart again, the same key
    second = shopper.post("/checkout", data=data, headers=HTML, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    assert len(client.get("/api/v1/orders", headers=as_role("staff")).json()["items"]) == 1


def test_the_whole_journey_through_pages_and_the_receipt_sums_to_the_payment(
    world, shopper, app, as_role, client
):
    order_id, token = place_guest_order(shopper, world)
    with TestClient(app, raise_server_exceptions=False) as staff:
        web_sign_in(staff, world.user("staff"))
        queue = staff.get("/staff/payments", headers=HTML)
        assert queue.status_code == 200
        assert f'id="order-{order_id}"' in queue.text
        key = re.search(
            rf'action="/staff/payments/{order_id}".*?name="idempotency_key" value="([^"]+)"',
            queue.text,
            re.S,
        ).group(1)
        paid = post_form(
            staff,
            f"/staff/payments/{order_id}",
            {"amount": "181.00", "reference": "ICBC 7", "idempotency_key": key},
            page="/staff/payments",
        )
        assert paid.status_code == 303, paid.text
        again = post_form(
            staff,
            f"/staff/payments/{order_id}",
            {"amount": "181.00", "reference": "ICBC 7", "idempotency_key": key},
            page="/staff/payments",
        )
        assert again.status_code == 303  # the same form twice: recorded once
    for role, coop in (("manager_a", world.coop_a), ("manager_b", world.coop_b)):
        with TestClient(app, raise_server_exceptions=False) as manager:
            web_sign_in(manager, world.user(role))
            page = manager.get("/manage/fulfilment", headers=HTML)
            assert f'id="order-{order_id}"' in page.text
            sheet = manager.get(
                f"/manage/fulfilment/packing-list?order_id={order_id}", headers=HTML
            )
            assert "中山路 100 号" in sheet.text
            shipped = post_form(
                manager,
                f"/manage/fulfilment/{order_id}/ship",
                {"carrier": "顺丰速运", "tracking_number": f"SF{coop.id}"},
                page="/manage/fulfilment",
            )
            assert shipped.status_code == 303, shipped.text
            assert f'id="order-{order_id}"' not in manager.get("/manage/fulfilment").text
    delivered = post_form(
        shopper,
        f"/orders/{order_id}/deliver",
        {"token": token, "confirmed": "yes"},
        page=f"/orders/{order_id}?token={token}",
    )
    assert delivered.status_code == 303, delivered.text
    page = shopper.get(f"/orders/{order_id}?token={token}", headers=HTML)
    assert "钱去了哪里" in page.text
    amounts = [int(a) for a in re.findall(r'<td class="num" data-amount="(\d+)"', page.text)]
    assert sum(amounts) == 18100
    assert 'id="receipt-total" data-amount="18100"' in page.text
    assert "王芳" in page.text  # consented to be named
    api = client.get(f"/api/v1/orders/{order_id}?token={token}").json()
    assert api["status"] == "settled"
    assert api["paid"]["amount"] == 18100


def test_a_signed_in_buyer_sees_their_orders_and_cancels_one(world, shopper, app):
    web_sign_in(shopper, world.user("buyer"))
    add_to_cart(shopper, world.honey, 1)
    placed = checkout(shopper, email="")
    assert placed.status_code == 303, placed.text
    order_path = placed.headers["location"]
    assert "token" not in order_path
    mine = shopper.get("/me/orders", headers=HTML)
    assert order_path in mine.text
    cancelled = post_form(shopper, f"{order_path}/cancel", {"confirmed": "yes"}, page=order_path)
    assert cancelled.status_code == 303
    assert "已取消" in shopper.get(order_path, headers=HTML).text
    with TestClient(app, raise_server_exceptions=False) as other:
        web_sign_in(other, world.user("other_buyer"))
        assert other.get(order_path, headers=HTML).status_code == 403
        assert order_path not in other.get("/me/orders", headers=HTML).text


def test_staff_refund_from_the_order_page(world, shopper, app, client, as_role):
    order_id, token = place_guest_order(shopper, world)
    client.post(
        f"/api/v1/orders/{order_id}/payments/manual",
        json={"amount": 18100, "currency": "CNY"},
        headers=as_role("staff"),
    )
    with TestClient(app, raise_server_exceptions=False) as staff:
        web_sign_in(staff, world.user("staff"))
        page = staff.get(f"/orders/{order_id}", headers=HTML)
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
        too_much = post_form(
            staff,
            f"/orders/{order_id}/refund",
            {"amount": "181.01", "idempotency_key": key},
            page=f"/orders/{order_id}",
        )
        assert too_much.status_code == 409
        bad = post_form(
            staff,
            f"/orders/{order_id}/refund",
            {"amount": "1,5", "idempotency_key": key},
            page=f"/orders/{order_id}",
        )
        assert bad.status_code == 422
        done = post_form(
            staff,
            f"/orders/{order_id}/refund",
            {"amount": "45", "reason": "破损", "idempotency_key": key, "confirmed": "yes"},
            page=f"/orders/{order_id}",
        )
        assert done.status_code == 303, done.text
    api = client.get(f"/api/v1/orders/{order_id}?token={token}").json()
    assert api["refunded"]["amount"] == 4500
    assert api["status"] == "partially_refunded"


PAGES = ["/me/orders", "/manage/fulfilment", "/manage/fulfilment/packing-list", "/staff/payments"]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(world, shopper, path):
    response = shopper.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("buyer", "/manage/fulfilment", 403),
        ("farmer", "/manage/fulfilment", 403),
        ("buyer", "/manage/fulfilment/packing-list", 403),
        ("manager_a", "/manage/fulfilment", 200),
        ("staff", "/manage/fulfilment", 200),
        ("buyer", "/staff/payments", 403),
        ("farmer", "/staff/payments", 403),
        ("manager_a", "/staff/payments", 403),
        ("staff", "/staff/payments", 200),
        ("admin", "/staff/payments", 200),
        ("farmer", "/me/orders", 200),
    ],
)
def test_who_may_open_the_work_pages(world, shopper, role, path, status):
    web_sign_in(shopper, world.user(role))
    assert shopper.get(path, headers=HTML).status_code == status


def test_a_manager_may_not_look_at_or_ship_another_cooperatives_lines(world, shopper, app):
    order_id, _token = place_guest_order(shopper, world)
    with TestClient(app, raise_server_exceptions=False) as manager:
        web_sign_in(manager, world.user("manager_a"))
        other = manager.get(f"/manage/fulfilment?coop_id={world.coop_b.id}", headers=HTML)
        assert other.status_code == 403
        ship = post_form(
            manager,
            f"/manage/fulfilment/{order_id}/ship",
            {"carrier": "SF", "tracking_number": "1", "coop_id": world.coop_b.id},
            page="/manage/fulfilment",
        )
        assert ship.status_code == 403
        unpaid = post_form(
            manager,
            f"/manage/fulfilment/{order_id}/ship",
            {"carrier": "SF", "tracking_number": "1"},
            page="/manage/fulfilment",
        )
        assert unpaid.status_code == 409  # not paid yet


def test_work_forms_refuse_the_wrong_people(world, shopper, app, client, as_role):
    order_id, token = place_guest_order(shopper, world)
    with TestClient(app, raise_server_exceptions=False) as buyer:
        web_sign_in(buyer, world.user("buyer"))
        pay = post_form(
            buyer,
            f"/staff/payments/{order_id}",
            {"amount": "181", "idempotency_key": "k"},
            page="/me/orders",
        )
        assert pay.status_code == 403
        refund = post_form(
            buyer,
            f"/orders/{order_id}/refund",
            {"amount": "1", "idempotency_key": "k"},
            page="/me/orders",
        )
        assert refund.status_code == 403
        cancel = post_form(buyer, f"/orders/{order_id}/cancel", {}, page="/me/orders")
        assert cancel.status_code == 403  # not their order, no token
    # a guest's forms without the CSRF token change nothing
    bare = shopper.post(
        f"/orders/{order_id}/cancel", data={"token": token}, headers=HTML, follow_redirects=False
    )
    assert bare.status_code == 403
    state = client.get(f"/api/v1/orders/{order_id}?token={token}").json()
    assert state["status"] == "pending_payment"
    assert state["paid"]["amount"] == 0


def test_card_is_offered_only_when_stripe_is_configured(world, shopper):
    add_to_cart(shopper, world.honey, 1)
    form = shopper.get("/checkout", headers=HTML).text
    assert 'value="stripe"' in form  # the orders tests' settings have Stripe keys
    assert 'value="bank_transfer"' in form
    assert 'value="cash_on_delivery"' in form


@pytest.mark.parametrize(
    ("action", "back"),
    [
        ("/staff/payments/{id}", "/staff/payments"),
        ("/orders/{id}/refund", "/orders/{id}"),
        ("/manage/fulfilment/{id}/ship", "/manage/fulfilment"),
        ("/manage/fulfilment/{id}/cash", "/manage/fulfilment"),
    ],
)
def test_a_visitor_sending_a_work_form_is_sent_to_sign_in(world, shopper, action, back):
    order_id, _token = place_guest_order(shopper, world)
    fields = {"amount": "1", "idempotency_key": "k", "carrier": "SF", "tracking_number": "1"}
    answer = shopper.post(
        action.format(id=order_id),
        data={**fields, "csrf_token": csrf_token(shopper)},
        headers={**HTML, "Referer": f"http://testserver{back.format(id=order_id)}"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={back.format(id=order_id)}"


def test_a_refused_staff_payment_stores_nothing_and_shows_the_queue(world, shopper, app, client):
    order_id, token = place_guest_order(shopper, world)
    with TestClient(app, raise_server_exceptions=False) as staff:
        web_sign_in(staff, world.user("staff"))
        refused = post_form(
            staff,
            f"/staff/payments/{order_id}",
            {"amount": "lots", "idempotency_key": "k-refused"},
            page="/staff/payments",
        )
        assert refused.status_code == 422
        assert f'action="/staff/payments/{order_id}"' in refused.text  # still waiting
    state = client.get(f"/api/v1/orders/{order_id}?token={token}").json()
    assert state["paid"]["amount"] == 0
