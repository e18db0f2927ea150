"""Every error is problem+json with a clear detail; none is a 500 except a real bug, which hides internals."""

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.models import Role

PROBLEM = "application/problem+json"


def _is_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    return body


def test_unknown_route_is_404_problem(client):
    body = _is_problem(
        client.get("/api/v1/no-such-thing", headers={"accept": "application/json"}), 404
    )
    assert "/api/v1/no-such-thing" in body["detail"]


def test_wrong_method_is_405_problem(client):
    body = _is_problem(client.delete("/api/v1/me"), 405)
    assert "DELETE" in body["detail"]


def test_malformed_json_is_422_with_location(client):
    response = client.post(
        "/api/v1/auth/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    body = _is_problem(response, 422)
    assert body["errors"][0]["loc"][0] == "body"


def test_missing_field_is_422_naming_the_field(client):
    body = _is_problem(client.post("/api/v1/auth/register", json={"email": "a@example.com"}), 422)
    assert {"loc": ["body", "password"], "msg": "Field required"} in body["errors"]
    assert "body.password" in body["detail"]


def test_bad_query_parameter_is_422(client, make_user, login):
    headers = login(make_user(Role.admin))
    body = _is_problem(client.get("/api/v1/users?limit=0", headers=headers), 422)
    assert body["errors"][0]["loc"] == ["query", "limit"]
    body = _is_problem(client.get("/api/v1/users?cursor=%%%", headers=headers), 422)
    assert body["errors"][0]["loc"] == ["query", "cursor"]


def test_missing_form_fields_on_token_is_422(client):
    body = _is_problem(client.post("/api/v1/auth/token", data={"username": "x@example.com"}), 422)
    assert ["body", "password"] in [e["loc"] for e in body["errors"]]


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/api/v1/_boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


def test_unexpected_error_is_500_without_internals_and_logged_with_request_id(failing_app, caplog):
    with (
        TestClient(failing_app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="hezuo.errors"),
    ):
        response = client.get("/api/v1/_boom")
    body = _is_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    request_id = response.headers["x-request-id"]
    assert request_id in body["detail"]
    assert any(request_id in record.getMessage() for record in caplog.records)
    assert any("hunter2" in (record.exc_text or "") or record.exc_info for record in caplog.records)


def test_openapi_documents_the_api(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]
