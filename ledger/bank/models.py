"""Tables of the statement import: parsed uploads kept for their import, and staff's saved layouts."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class StatementPreview(SQLModel, table=True):
    """An uploaded file between its preview and its import (one upload, a token, an expiry)."""

    __tablename__ = "bank_statement_previews"

    token: str = Field(primary_key=True, max_length=64)
    account_key: str = Field(max_length=255)
    filename: str = Field(default="", max_length=255)
    raw: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    mapping: dict[str, str] | None = Field(default=None, sa_column=Column(JSON(), nullable=True))
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class StatementPreset(SQLModel, table=True):
    """A statement layout staff mapped in the form, by the file's own column names."""

    __tablename__ = "bank_statement_presets"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON(), nullable=False))
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
