"""Guards at the edge, before any handler runs: a cap on request bodies (413) and no NUL
characters in the address or query (422).

The body cap is enforced before the body is read.

A declared Content-Length above the cap is refused at once, without reading a byte; a body sent
without one (chunked) is counted as it streams in and refused as soon as it passes the cap, so no
handler ever holds more than the cap in memory. Multipart uploads (photos, imports) have their
own, larger cap; every other body (JSON, forms) the small one.
"""

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

CAPPED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than this address accepts ({limit:,} bytes at most).",
        )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    def _limit(self, scope: Scope) -> int:
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        if content_type.startswith(b"multipart/form-data"):
            return self.max_upload_bytes
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CAPPED_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(problem(413, BodyTooLarge(limit).detail, type_slug="body-too-large")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NulRefusalMiddleware:
    """A NUL character (%00) in the path or query string is refused 422: no database text column
    can hold one, and no legitimate link carries one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _has_nul(scope):
            body = json.dumps(
                problem(
                    422,
                    "The address or its query holds a NUL character (%00), which no value may hold.",
                    type_slug="nul-character",
                    errors=[{"loc": ["query"], "msg": "NUL character"}],
                )
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 422,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    path: str = scope.get("path", "")
    return "\x00" in path or b"%00" in query or b"\x00" in query


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every API answer that may carry personal data: any write, and
    any read made with credentials (bearer token, session cookie) or a guest order token. Public
    catalog reads made anonymously stay cacheable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _personal(scope):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in (b"cache-control", b"pragma")
                ]
                headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, no_store)


def _personal(scope: Scope) -> bool:
    if not scope.get("path", "").startswith("/api/"):
        return False
    if scope["method"] not in ("GET", "HEAD"):
        return True
    headers = dict(scope["headers"])
    query: bytes = scope.get("query_string", b"")
    return (
        b"authorization" in headers
        or b"hezuo_session=" in headers.get(b"cookie", b"")
        or query.startswith(b"token=")
        or b"&token=" in query
    )
