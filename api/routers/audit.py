"""The audit log of auditors' reads, for staff, admins and auditors (read-only)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from api.auditing import reads_of
from api.deps import PageDep, SessionDep, StaffDep, encode_cursor

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditorReadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    at: datetime
    method: str
    path: str


class AuditorReadPage(BaseModel):
    items: list[AuditorReadRead]
    next_cursor: str | None = None


@router.get("/auditor-reads", response_model=AuditorReadPage)
def list_auditor_reads(
    _reader: StaffDep,
    session: SessionDep,
    page: PageDep,
    user_id: Annotated[int | None, Query(ge=1)] = None,
) -> AuditorReadPage:
    """Newest first: who read what and when (an auditor's own requests included)."""
    rows = reads_of(session, user_id=user_id, before_id=page.after_int(), limit=page.limit + 1)
    items = [AuditorReadRead.model_validate(r) for r in rows[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > page.limit else None
    return AuditorReadPage(items=items, next_cursor=next_cursor)
