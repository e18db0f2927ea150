"""Bad input from anybody is a 4xx problem+json, never a 500; a lost database connection is a
503 with Retry-After (the client may retry with the same Idempotency-Key)."""

import uuid

import pytest
from sqlalchemy import event, text

from tests.orders.conftest import order_body

PROBLEM = "application/problem+json"
HUGE = 2**31
HUGER = 2**70


def _is_problem(answer, *statuses: int) -> None:
    assert answer.status_code in statuses, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_ids_beyond_the_database_integer_are_4xx(world, client, as_role):
    for huge in (HUGE, HUGER):
        _is_problem(client.get(f"/api/v1/products/{huge}"), 404, 422)
        _is_problem(client.get(f"/api/v1/orders/{huge}", headers=as_role("buyer")), 404, 422)
        listed = client.get(f"/api/v1/products?coop_id={huge}")
        assert listed.status_code in (200, 422), listed.text  # nothing there, or refused
        body = order_body([(world.honey, 1)], email="g@example.com")
        body["lines"][0]["product_id"] = huge
        placed = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k"})
        _is_problem(placed, 404, 422)
    user = {"email": "x@example.com", "password": "long-enough-pw-1", "role": "farmer"}
    made = client.post("/api/v1/users", json={**user, "coop_id": HUGER}, headers=as_role("admin"))
    _is_problem(made, 422)  # beyond any database integer (SQLite's 64 bits included)


def test_nul_characters_in_the_query_or_path_are_422(world, client, as_role):
    _is_problem(client.get("/api/v1/products?q=%00honey"), 422)
    _is_problem(client.get("/api/v1/lots/AB%00CD"), 422)
    body = order_body([(world.honey, 1)], email="g@example.com")
    body["shipping"] = {**body["shipping"], "recipient": "李\u0000娜"}
    placed = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "nul"})
    assert placed.status_code < 500, placed.text  # SQLite keeps the text; PostgreSQL: 422


def test_a_non_ascii_guest_token_is_refused_like_any_wrong_token(world, client):
    placed = client.post(
        "/api/v1/orders",
        json=order_body([(world.honey, 1)], email="g@example.com"),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    order_id = placed.json()["id"]
    wrong = client.get(f"/api/v1/orders/{order_id}", params={"token": "x" * 40})
    non_ascii = client.get(f"/api/v1/orders/{order_id}", params={"token": "令牌é"})
    _is_problem(non_ascii, wrong.status_code)
    assert wrong.status_code in (401, 403, 404)


def test_year_0000_is_not_a_period(world, client, as_role):
    staff = as_role("staff")
    answer = client.get("/api/v1/reconciliation?period=0000-01", headers=staff)
    _is_problem(answer, 422)
    published = client.post(
        "/api/v1/disclosures",
        json={"coop_id": world.coop_a.id, "period": "0000-01"},
        headers=staff,
    )
    _is_problem(published, 422)


def test_stripe_sync_without_stripe_is_409_with_a_message(app, client, as_role, monkeypatch):
    monkeypatch.setattr(app.state.settings, "stripe_secret_key", None)
    answer = client.post("/api/v1/reconciliation/stripe/sync", headers=as_role("staff"))
    _is_problem(answer, 409)
    assert "not configured" in answer.json()["detail"]


@pytest.mark.postgres_only
def test_a_lost_database_connection_is_503_with_retry_after(world, app, client):
    """The server ends the request's connection in the middle of its first order query."""
    killed: list[str] = []

    def kill_once(conn, cursor, statement, *_args) -> None:
        if not killed and "FROM orders" in statement:
            killed.append(statement)
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    event.listen(app.state.engine, "before_cursor_execute", kill_once)
    try:
        answer = client.post(
            "/api/v1/orders",
            json=order_body([(world.honey, 1)], email="g@example.com"),
            headers={"Idempotency-Key": "lost"},
        )
    finally:
        event.remove(app.state.engine, "before_cursor_execute", kill_once)
    assert killed
    _is_problem(answer, 503)
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["type"].endswith("/database-unavailable")
    again = client.post(
        "/api/v1/orders",
        json=order_body([(world.honey, 1)], email="g@example.com"),
        headers={"Idempotency-Key": "lost"},
    )
    assert again.status_code == 201, again.text  # the retry with the same key goes through
    with app.state.engine.connect() as connection:
        count = connection.scalar(text("SELECT count(*) FROM orders"))
    assert count == 1
