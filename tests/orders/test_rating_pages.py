"""A buyer rates a delivered product from the order page, with the API's rules: only their own
delivered order, each line once, 1 to 5 stars; nobody else may."""

from sqlmodel import select

from governance.models import Rating
from tests.frontend.helpers import HTML
from tests.orders.test_pages import post_form


def _delivered_order(client, place, as_role, world) -> int:
    order_id = place("buyer", [(world.honey, 1)]).json()["id"]
    client.post(
        f"/api/v1/orders/{order_id}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("staff"),
    )
    client.post(
        f"/api/v1/orders/{order_id}/ship",
        json={"carrier": "SF", "tracking_number": "SF9"},
        headers=as_role("manager_a"),
    )
    return order_id


def _ratings(session) -> list[tuple[int, str]]:
    session.rollback()
    return [(r.stars, r.comment) for r in session.scalars(select(Rating))]


def test_the_buyer_rates_a_delivered_line_once(world, client, place, as_role, browser_for, session):
    order_id = _delivered_order(client, place, as_role, world)
    buyer = browser_for("buyer")
    page = f"/orders/{order_id}"
    assert 'id="rate"' not in buyer.get(page, headers=HTML).text  # shipped, not yet delivered
    client.post(f"/api/v1/orders/{order_id}/deliver", headers=as_role("buyer"))
    shown = buyer.get(page, headers=HTML).text
    assert 'id="rate"' in shown
    line_id = int(shown.split('action="/orders/')[-1].split("/lines/")[1].split("/")[0])
    action = f"/orders/{order_id}/lines/{line_id}/rating"
    no_stars = post_form(buyer, action, {"comment": "很好"}, page=page)
    assert no_stars.status_code == 422
    assert "请选择 1 到 5 颗星。" in no_stars.text
    assert _ratings(session) == []
    done = post_form(buyer, action, {"stars": "5", "comment": "蜂蜜很香"}, page=page)
    assert done.status_code == 303
    assert _ratings(session) == [(5, "蜂蜜很香")]
    assert 'id="rate"' not in buyer.get(page, headers=HTML).text  # nothing left to rate
    twice = post_form(buyer, action, {"stars": "1"}, page=page)
    assert twice.status_code == 409
    assert _ratings(session) == [(5, "蜂蜜很香")]
    product = buyer.get(f"/products/{world.honey.id}/reviews", headers=HTML).text
    assert "蜂蜜很香" in product


def test_nobody_else_rates_the_buyers_order(world, client, place, as_role, browser_for, session):
    order_id = _delivered_order(client, place, as_role, world)
    client.post(f"/api/v1/orders/{order_id}/deliver", headers=as_role("buyer"))
    session.rollback()
    from orders.lifecycle import lines_of

    line_id = lines_of(session, order_id)[0].id
    session.rollback()
    action = f"/orders/{order_id}/lines/{line_id}/rating"
    for role, status in (("other_buyer", 403), ("manager_a", 403), ("staff", 403)):
        other = browser_for(role)
        refused = post_form(other, action, {"stars": "1"}, page="/products")
        assert refused.status_code == status, role
    assert _ratings(session) == []


def test_the_cooperatives_manager_hides_a_comment_saying_why(
    world, client, place, as_role, browser_for, session
):
    order_id = _delivered_order(client, place, as_role, world)
    client.post(f"/api/v1/orders/{order_id}/deliver", headers=as_role("buyer"))
    session.rollback()
    from orders.lifecycle import lines_of

    line_id = lines_of(session, order_id)[0].id
    session.rollback()  # end the read: the session writes users after the app wrote
    rated = client.post(
        f"/api/v1/orders/{order_id}/lines/{line_id}/rating",
        json={"stars": 1, "comment": "广告 加微信"},
        headers=as_role("buyer"),
    )
    assert rated.status_code == 201, rated.text
    rating_id = rated.json()["id"]
    reviews = f"/products/{world.honey.id}/reviews"
    action = f"{reviews}/{rating_id}/hide"
    for role in ("manager_b", "buyer"):
        other = browser_for(role)
        assert "hide-comment" not in other.get(reviews, headers=HTML).text
        refused = post_form(other, action, {"reason": "x"}, page=reviews)
        assert refused.status_code == 403, role
    manager = browser_for("manager_a")
    assert "hide-comment" in manager.get(reviews, headers=HTML).text
    blank = post_form(manager, action, {"reason": " "}, page=reviews)
    assert blank.status_code == 422
    done = post_form(manager, action, {"reason": "广告"}, page=reviews)
    assert done.status_code == 303
    public = client.get(reviews, headers=HTML).text
    assert "加微信" not in public
    assert "广告" in public
