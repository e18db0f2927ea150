"""Liveness and readiness probes."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.migrations import migration_state

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    state = migration_state(request.app.state.engine)
    code = 200 if state.ready else 503
    return JSONResponse(state.as_dict(), status_code=code)
