"""Logging set-up: plain lines for people, or one JSON object per line (HEZUO_LOG_FORMAT=json)
carrying the request id, so a log collector can join a request's lines across processes."""

import json
import logging
from contextvars import ContextVar
from typing import Any

from api.settings import Settings

# Set by RequestIdMiddleware for the duration of a request (and copied into its threadpool calls).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Idempotent: replaces the root handler, so calling it again (tests, reloads) is harmless."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else _plain())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # readiness probes would log each call
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per fire otherwise


def _plain() -> logging.Formatter:
    return logging.Formatter(PLAIN_FORMAT)
