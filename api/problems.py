"""Every error as RFC 9457 application/problem+json (or an error page for browsers)."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id_var
from core.errors import DomainError

logger = logging.getLogger("hezuo.errors")

PROBLEM_TYPE_BASE = "https://hezuo.example/problems/"
REQUEST_ID_HEADER = "X-Request-ID"
DB_RETRY_AFTER_SECONDS = 5

# Set by the composition root: renders an HTML error page for browser requests.
ErrorPageRenderer = Callable[[Request, int, str, str], Response]


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"


def problem(
    status: int,
    detail: str,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (type_slug or _slug(status)),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(request: Request, body: dict[str, Any], headers: dict[str, str] | None) -> Response:
    renderer: ErrorPageRenderer | None = getattr(request.app.state, "render_error_page", None)
    if renderer is not None and _wants_html(request):
        response = renderer(request, body["status"], body["title"], body["detail"])
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response
    return ProblemResponse(body, status_code=body["status"], headers=headers)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    request.state.problem_source = exc  # an error page tells it in the reader's language
    body = problem(
        exc.status_code, exc.detail, type_slug=exc.type_slug, title=exc.title, errors=exc.errors
    )
    return _respond(request, body, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"Nothing here: {request.method} {request.url.path} is not a known address."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return _respond(request, problem(exc.status_code, detail), dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    request.state.problem_source = exc  # an error page tells it in the reader's language
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid")} for e in exc.errors()]
    where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
    body = problem(
        422, f"The request is not valid — {where}", type_slug="validation", errors=errors
    )
    return _respond(request, body, None)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number too large for the database, or text it cannot hold (NUL): the input's fault."""
    body = problem(
        422,
        "A value in the request is out of range or holds characters that are not allowed "
        "(numbers up to 2147483647; no NUL characters).",
        type_slug="value-out-of-range",
    )
    return _respond(request, body, None)


async def _conflicts_with_stored(request: Request, exc: Exception) -> Response:
    """A reference to something that does not exist, or a duplicate: nothing was stored."""
    body = problem(
        409,
        "The request names something that does not exist or repeats something that does; "
        "nothing was changed.",
        type_slug="stored-data-conflict",
    )
    return _respond(request, body, None)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The connection was lost (or the database is busy): the client cannot know whether a write
    committed, so it is told to retry — with the same Idempotency-Key where the route takes one."""
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, str(exc)[:200]
    )
    body = problem(
        503,
        f"The database is unavailable for a moment; try again in {DB_RETRY_AFTER_SECONDS} "
        "seconds (a retry with the same Idempotency-Key is safe).",
        type_slug="database-unavailable",
    )
    return _respond(request, body, {"Retry-After": str(DB_RETRY_AFTER_SECONDS)})


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    logger.exception(
        "unhandled error on %s %s [request %s]", request.method, request.url.path, request_id
    )
    body = problem(
        500,
        f"Something went wrong on our side. Quote request id {request_id} when reporting it.",
    )
    response = _respond(request, body, {REQUEST_ID_HEADER: request_id})
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(sa_exc.DataError, _out_of_range)
    app.add_exception_handler(sa_exc.IntegrityError, _conflicts_with_stored)
    for lost in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError):
        app.add_exception_handler(lost, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


class RequestIdMiddleware:
    """Gives every request an id (kept from a sane incoming X-Request-ID) and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        reset = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(reset)


Handler = Callable[[Request, Exception], Awaitable[Response]]
