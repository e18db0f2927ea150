"""/metrics in the Prometheus text format (prometheus-client), for the operator's scraper only.

Two kinds of figures:
- per process, counted as requests pass: request counts and latency by route template (never by
  raw path, so ids do not explode the series). With several uvicorn workers set
  PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them (the Compose file does): the
  counters then live in files there and any worker's /metrics sums all of them. Without it, each
  answer shows only the worker that answered.
- read from the database at scrape time, so every process and replica agrees: job runs by job and
  status, the last success of each job, ledger entries posted, the notification backlog (when the
  notifications table exists). The connection pool figures are those of the answering process.

Protected by HEZUO_METRICS_TOKEN (`Authorization: Bearer <token>`); without the setting /metrics
does not exist (404), so a forgotten token never exposes it.
"""

import hmac
import os
import time
from collections.abc import Iterable, Iterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.jobs.models import JobRun, RunStatus
from ledger.models import JournalEntry

REQUESTS = Counter(
    "hezuo_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "hezuo_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNMATCHED = "<unmatched>"
# Where the notifications issue may keep its outbox; the backlog is reported if one exists.
OUTBOX_TABLES = ("notification_outbox", "notifications", "outbox")


class MetricsMiddleware:
    """Counts every HTTP request by its route template once the router has matched it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status[0])).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


class DatabaseCollector(Collector):
    """Figures read from the database (and this process's pool) when /metrics is scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        yield from self._pool()
        with self.engine.connect() as connection:
            runs = CounterMetricFamily(
                "hezuo_job_runs", "Job runs recorded, by job and status", labels=["job", "status"]
            )
            for job, status, count in connection.execute(
                select(col(JobRun.job), col(JobRun.status), func.count(col(JobRun.id))).group_by(
                    col(JobRun.job), col(JobRun.status)
                )
            ):
                runs.add_metric([job, status], count)
            yield runs
            last = GaugeMetricFamily(
                "hezuo_job_last_success_timestamp_seconds",
                "When each job last finished successfully",
                labels=["job"],
            )
            for job, finished in connection.execute(
                select(col(JobRun.job), func.max(col(JobRun.finished_at)))
                .where(col(JobRun.status) == RunStatus.succeeded)
                .group_by(col(JobRun.job))
            ):
                if finished is not None:
                    last.add_metric([job], _timestamp(finished))
            yield last
            entries = connection.execute(
                select(func.count()).select_from(JournalEntry)
            ).scalar_one()
            yield CounterMetricFamily(
                "hezuo_ledger_entries_posted", "Ledger entries posted", value=entries
            )
            yield from self._outbox(connection)

    def _pool(self) -> Iterable[Metric]:
        pool = self.engine.pool
        for name, help_text, reader in (
            ("size", "Connections the pool keeps", "size"),
            ("checked_out", "Connections in use", "checkedout"),
            ("overflow", "Connections beyond the pool size", "overflow"),
        ):
            read = getattr(pool, reader, None)
            if callable(read):
                gauge = GaugeMetricFamily(
                    f"hezuo_db_pool_{name}", f"{help_text} (this process)", labels=["pid"]
                )
                gauge.add_metric([str(os.getpid())], float(read()))
                yield gauge

    def _outbox(self, connection: Connection) -> Iterable[Metric]:
        inspector = inspect(connection)  # on the same connection: SQLite has one writer
        tables = set(inspector.get_table_names())
        for table in OUTBOX_TABLES:
            if table in tables:
                columns = {c["name"] for c in inspector.get_columns(table)}
                if "status" not in columns:
                    continue
                count = connection.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE status = :pending'),
                    {"pending": "pending"},
                ).scalar_one()
                yield GaugeMetricFamily(
                    "hezuo_outbox_backlog", "Notifications waiting to be sent", value=count
                )
                return


def _timestamp(moment: object) -> float:
    from datetime import UTC, datetime

    if isinstance(moment, str):  # SQLite's func.max comes back as text
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found", status_code=404)
    offered = request.headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse(
            "a bearer token is needed", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector(request.app.state.engine))
    body = _process_metrics() + generate_latest(database)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)
    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
