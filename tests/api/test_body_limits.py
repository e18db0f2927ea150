"""Request bodies are capped before they are read (HEZUO_MAX_BODY_BYTES / _UPLOAD_BYTES): 413."""

import json

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

PROBLEM = "application/problem+json"


def _order_json(size: int) -> bytes:
    return json.dumps({"lines": [], "note": "x" * size}).encode()


def test_a_declared_oversized_json_body_is_413_before_anything_else(client):
    answer = client.post(
        "/api/v1/orders",
        content=_order_json(2 * 1024 * 1024),
        headers={"content-type": "application/json", "Idempotency-Key": "k"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["type"].endswith("/body-too-large")
    assert "1,048,576 bytes" in body["detail"]


def test_a_chunked_body_is_counted_as_it_streams(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MB in all, without a Content-Length

    answer = client.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_a_page_form_is_capped_too(client):
    answer = client.post(
        "/login",
        content=b"email=a%40b.c&password=" + b"x" * (1024 * 1024 + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


def test_uploads_have_their_own_larger_cap(client):
    over = client.post(
        "/api/v1/products/1/photos", files={"file": ("big.jpg", b"\0" * (33 * 1024 * 1024))}
    )
    assert over.status_code == 413
    # Under the upload cap the request goes on to the route (which wants a signed-in user).
    under = client.post(
        "/api/v1/products/1/photos", files={"file": ("ok.jpg", b"\0" * (2 * 1024 * 1024))}
    )
    assert under.status_code == 401


def test_the_caps_are_settings(settings):
    app = create_app(Settings(**{**settings.model_dump(), "max_body_bytes": 4096}))
    with TestClient(app) as client:
        small = client.post("/api/v1/auth/register", json={"email": "a@example.com"})
        assert small.status_code == 422
        big = client.post("/api/v1/auth/register", content=_order_json(5000))
        assert big.status_code == 413
    app.state.engine.dispose()
