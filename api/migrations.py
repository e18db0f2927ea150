"""Alembic from code: upgrade the configured database, and tell whether it is at head."""

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


@dataclass
class MigrationState:
    database: bool
    current: tuple[str, ...]
    head: tuple[str, ...]
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.database and set(self.current) == set(self.head)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "database": "reachable" if self.database else "unreachable",
            "migrations": {"current": list(self.current), "head": list(self.head)},
            **({"error": self.error} if self.error else {}),
        }


def migration_state(engine: Engine) -> MigrationState:
    head = tuple(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    try:
        with engine.connect() as connection:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        return MigrationState(database=False, current=(), head=head, error=type(error).__name__)
    return MigrationState(database=True, current=current, head=head)
