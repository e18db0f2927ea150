"""JSON API writes signed in by the browser's cookie need the page's CSRF token and our Origin;
bearer tokens are unchanged."""

import uuid

from fastapi.testclient import TestClient

from tests.orders.conftest import order_body
from tests.orders.test_pages import web_sign_in

EVIL = {"Origin": "https://evil.example"}


def _place(client: TestClient, world, as_role) -> int:
    placed = client.post(
        "/api/v1/orders",
        json=order_body([(world.honey, 1)]),
        headers={**as_role("buyer"), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    return int(placed.json()["id"])


def test_a_cookie_cancel_from_a_foreign_origin_is_403(world, app, as_role, client):
    order_id = _place(client, world, as_role)
    with TestClient(app) as browser:
        web_sign_in(browser, world.user("buyer"))
        token = browser.cookies["hezuo_csrf"]
        evil = browser.post(
            f"/api/v1/orders/{order_id}/cancel", headers={**EVIL, "X-CSRF-Token": token}
        )
        assert evil.status_code == 403
        assert evil.json()["type"].endswith("/cross-site-refused")
        no_token = browser.post(f"/api/v1/orders/{order_id}/cancel")
        assert no_token.status_code == 403
        wrong = browser.post(f"/api/v1/orders/{order_id}/cancel", headers={"X-CSRF-Token": "x"})
        assert wrong.status_code == 403
        assert browser.get(f"/api/v1/orders/{order_id}").json()["status"] == "pending_payment"
        # Reads are not writes; and our own page's token is accepted.
        assert browser.get("/api/v1/me").status_code == 200
        ours = browser.post(
            f"/api/v1/orders/{order_id}/cancel",
            headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:8000"},
        )
        assert ours.status_code == 200, ours.text


def test_a_cookie_period_close_from_a_foreign_origin_is_403(world, app):
    with TestClient(app) as browser:
        web_sign_in(browser, world.user("staff"))
        evil = browser.post("/api/v1/ledger/periods/2020-01/close", headers=EVIL)
        assert evil.status_code == 403
        assert evil.json()["type"].endswith("/cross-site-refused")


def test_bearer_tokens_are_unchanged(world, client, as_role):
    order_id = _place(client, world, as_role)
    cancel = client.post(f"/api/v1/orders/{order_id}/cancel", headers={**as_role("buyer"), **EVIL})
    assert cancel.status_code == 200, cancel.text
