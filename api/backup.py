"""`hezuo backup` and `hezuo restore`: the database and the media, in one directory.

A backup directory holds:
- ``database.dump`` (PostgreSQL: ``pg_dump --format=custom``, restored with ``pg_restore``) or
  ``database.sqlite3`` (SQLite: the online backup API, a consistent copy while the app runs);
- ``media/``: every media file (from the local directory or the S3 bucket);
- ``manifest.json``: when, from which backend and schema revision, and the row count of every
  table, so a restore can be checked against it.

A restore goes only into an empty database (no tables at all): restoring over live data would
mix two histories, and the ledger's append-only rules forbid repairing that afterwards.
"""

import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from api.database import create_db_engine
from api.media import media_store
from api.media_s3 import S3MediaStore
from api.settings import Settings
from catalog.media import LocalMediaStore

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MEDIA = "media"


class BackupRefused(Exception):
    """A backup or restore that must not go ahead (the message says why)."""


@dataclass(frozen=True)
class BackupResult:
    directory: Path
    tables: dict[str, int]
    media_files: int


def libpq_url(database_url: str) -> str:
    """The URL pg_dump and pg_restore understand (no SQLAlchemy driver suffix)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def row_counts(engine: Engine) -> dict[str, int]:
    names = sorted(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            )
            for name in names
        }


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup(settings: Settings, target: Path) -> BackupResult:
    if target.exists() and any(target.iterdir()):
        raise BackupRefused(f"{target} is not empty; back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url, sqlite_immediate=False)
    try:
        if settings.is_sqlite:
            _copy_sqlite(_sqlite_path(settings.database_url), target / SQLITE_COPY)
        else:
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--file={target / PG_DUMP}",
                    libpq_url(settings.database_url),
                ]
            )
        counts = row_counts(engine)
        revision = _revision(engine)
    finally:
        engine.dispose()
    files = _save_media(settings, target / MEDIA)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(),
        "backend": "sqlite" if settings.is_sqlite else "postgresql",
        "revision": revision,
        "tables": counts,
        "media_files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return BackupResult(target, counts, files)


def restore(settings: Settings, source: Path) -> dict[str, Any]:
    manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    if manifest["backend"] != backend:
        raise BackupRefused(f"this backup is of a {manifest['backend']} database, not {backend}")
    engine = create_db_engine(settings.database_url, sqlite_immediate=False)
    try:
        existing = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if existing:
        raise BackupRefused(
            f"the target database is not empty ({len(existing)} tables); "
            "restore only into a new, empty database"
        )
    if settings.is_sqlite:
        _copy_sqlite(source / SQLITE_COPY, _sqlite_path(settings.database_url))
    else:
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={libpq_url(settings.database_url)}",
                str(source / PG_DUMP),
            ]
        )
    _load_media(settings, source / MEDIA)
    return dict(manifest)


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupRefused("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while the app writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def _run(command: list[str]) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError as missing:
        raise BackupRefused(
            f"{command[0]} is not installed (install postgresql-client)"
        ) from missing
    except subprocess.CalledProcessError as failed:
        raise BackupRefused(f"{command[0]} failed: {failed.stderr.strip()}") from failed


def _save_media(settings: Settings, target: Path) -> int:
    store = media_store(settings)
    if isinstance(store, LocalMediaStore):
        if not settings.media_dir.is_dir():
            target.mkdir()
            return 0
        shutil.copytree(settings.media_dir, target)
        return sum(1 for path in target.rglob("*") if path.is_file())
    count = 0
    assert isinstance(store, S3MediaStore)
    for key in store.keys():
        content = store.get(key)
        if content is not None:
            (target / key).parent.mkdir(parents=True, exist_ok=True)
            (target / key).write_bytes(content)
            count += 1
    target.mkdir(exist_ok=True)
    return count


def _load_media(settings: Settings, source: Path) -> None:
    store = media_store(settings)
    for path in sorted(source.rglob("*")):
        if path.is_file():
            key = path.relative_to(source).as_posix()
            store.put(
                key,
                path.read_bytes(),
                "image/webp" if key.endswith(".webp") else "application/octet-stream",
            )
