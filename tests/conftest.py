"""Test fixtures: a fresh, migrated database per test (SQLite file copy or PostgreSQL template clone).

The backend is chosen by HEZUO_TEST_BACKEND (sqlite, the default, or postgres). The PostgreSQL
server comes from HEZUO_TEST_DATABASE_URL; `make test` runs the suite once per backend. In CI
(CI=true) a missing or unreachable PostgreSQL is a failure, never a silent skip.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

import api.database
import api.tables  # noqa: F401
from api import service
from api.app import create_app
from api.database import create_db_engine, create_session_factory
from api.migrations import upgrade
from api.models import Role, User
from api.settings import Settings

# A GET route that writes must say so (api.deps.writes): on SQLite it would otherwise begin a
# read transaction and could fail to upgrade it under load.
api.database.strict_reads = True

BACKEND = os.environ.get("HEZUO_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("HEZUO_TEST_DATABASE_URL", "")
TEMPLATE_NAME = "hezuo_test_template"
TEST_PASSWORD = "correct-horse-battery"


def pytest_report_header() -> str:
    return f"hezuo database backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "postgres":
        return
    skip = pytest.mark.skip(reason="PostgreSQL only: runs in the postgres pass of `make test`")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


class DatabaseFactory:
    """Makes a new database per test from one migrated template."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.template_path = workdir / "template.db"
        self.admin: Engine | None = None
        # Unique per run and worker, so parallel pytest runs on one server never collide.
        self.worker = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:6]}"

    def prepare(self) -> None:
        if BACKEND == "sqlite":
            upgrade(f"sqlite:///{self.template_path}")
            return
        if not PG_URL:
            pytest.exit("HEZUO_TEST_BACKEND=postgres needs HEZUO_TEST_DATABASE_URL", returncode=3)
        self.admin = create_engine(
            Settings(database_url=_admin_url(PG_URL)).database_url, isolation_level="AUTOCOMMIT"
        )
        template = f"{TEMPLATE_NAME}_{self.worker}"
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{template}"'))
        upgrade(Settings(database_url=_with_database(PG_URL, template)).database_url)
        self.template = template

    def new_url(self) -> tuple[str, Callable[[], None]]:
        if BACKEND == "sqlite":
            path = self.workdir / f"test-{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(self.template_path, path)

            def drop_file() -> None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

            return f"sqlite:///{path}", drop_file
        assert self.admin is not None
        name = f"hezuo_test_{self.worker}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))

        def drop_database() -> None:
            assert self.admin is not None
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        return Settings(database_url=_with_database(PG_URL, name)).database_url, drop_database

    def close(self) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            self.admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _light_password_hashing() -> Iterator[None]:
    """Real Argon2id, with light parameters: the suite hashes hundreds of test passwords.

    Hashes made this way still verify with the production hasher (the parameters are stored
    in the hash), and the CLI tests, run as separate processes, use the production ones.
    """
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    import api.security

    production = api.security._password_hash
    api.security._password_hash = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),))
    yield
    api.security._password_hash = production


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("db"))
    factory.prepare()
    yield factory
    factory.close()


@pytest.fixture
def database_url(database_factory: DatabaseFactory) -> Iterator[str]:
    url, drop = database_factory.new_url()
    yield url
    drop()


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A new database with no tables at all (where `hezuo restore` may go)."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"hezuo_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        Settings(database_url=_admin_url(PG_URL)).database_url, isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield Settings(database_url=_with_database(PG_URL, name)).database_url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    # Deferred transactions, so a test's reads never hold SQLite's write lock against the app.
    engine = create_db_engine(settings.database_url, sqlite_immediate=False)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data directly; the test commits what it needs.

    End its transaction (commit or rollback) before reading what the app wrote since: on SQLite
    an open transaction keeps reading its old snapshot.
    """
    with create_session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


UserFactory = Callable[..., User]


@pytest.fixture
def make_user(session: Session) -> UserFactory:
    def make(role: Role | str = Role.buyer, **fields: object) -> User:
        email = str(fields.pop("email", f"{role}-{uuid.uuid4().hex[:8]}@example.com"))
        user = service.create_user(
            session,
            email=email,
            password=TEST_PASSWORD,
            role=Role(role),
            **fields,  # type: ignore[arg-type]
        )
        session.commit()
        return user

    return make


@pytest.fixture
def login(client: TestClient) -> Callable[[User], dict[str, str]]:
    """Bearer headers for a user made by make_user (through the real token route)."""

    def headers_for(user: User) -> dict[str, str]:
        response = client.post(
            "/api/v1/auth/token", data={"username": user.email, "password": TEST_PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return headers_for
