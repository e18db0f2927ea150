"""/metrics: Prometheus text with request and job figures, only for the holder of the token."""

import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.database import create_session_factory
from api.jobs import runner
from api.jobs.registry import job_named
from api.logs import JsonFormatter, RequestIdFilter, request_id_var
from api.problems import RequestIdMiddleware
from api.settings import Settings
from ledger.base import utcnow

TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
        metrics_token=TOKEN,
    )


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_show_requests_by_route_and_job_runs(client, engine, settings):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = _samples(client.get("/metrics", headers=auth).text)
    for product_id in (101, 102, 103):
        client.get(f"/api/v1/products/{product_id}")
    spec = job_named("orders-expire")
    runner.run_tick(
        spec, utcnow(), factory=create_session_factory(engine), engine=engine, settings=settings
    )

    response = client.get("/metrics", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)
    route = "/api/v1/products/{product_id}"
    key = "hezuo_http_requests_total"
    assert (
        _value(after, key, method="GET", route=route, status="404")
        - _value(before, key, method="GET", route=route, status="404")
        == 3
    )
    assert not any("/api/v1/products/101" in str(labels) for _, labels in after)  # templates only
    assert _value(after, "hezuo_job_runs_total", job="orders-expire", status="succeeded") == 1
    assert ("hezuo_ledger_entries_posted_total", frozenset()) in after
    assert any(name == "hezuo_db_pool_checked_out" for name, _ in after)
    assert any(name == "hezuo_http_request_duration_seconds_count" for name, _ in after)


def test_metrics_need_the_token(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_without_a_token_setting_there_are_no_metrics(settings):
    app = create_app(settings.model_copy(update={"metrics_token": None}))
    with TestClient(app) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    app.state.engine.dispose()


def test_json_logs_carry_the_request_id():
    record = logging.LogRecord(
        "hezuo.test", logging.INFO, __file__, 1, "paid %s", ("order 7",), None
    )
    reset = request_id_var.set("req-abc")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(reset)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "paid order 7"
    assert line["request_id"] == "req-abc"
    assert line["level"] == "INFO"


def test_the_request_id_is_set_for_the_request_s_log_lines():
    """RequestIdMiddleware puts the id where the log filter reads it, and clears it after."""
    seen: list[str | None] = []

    async def endpoint(scope, receive, send):
        seen.append(request_id_var.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = TestClient(RequestIdMiddleware(endpoint))  # no lifespan: a bare ASGI endpoint
    response = client.get("/", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert seen == ["trace-42"]
    assert request_id_var.get() is None
