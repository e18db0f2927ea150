"""Answers several routers give the same way.

An idempotent create (a key the client sends again) answers 201 with what it made the first
time and 200, with the same body, for every replay.
"""

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel


def created_or_replayed(body: BaseModel | dict[str, Any], created: bool) -> JSONResponse:
    """201 with the body when it was made now, 200 with the same body for a replayed request."""
    content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return JSONResponse(content, status_code=201 if created else 200)
