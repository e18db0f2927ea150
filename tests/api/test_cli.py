"""The `hezuo` command, run as a real process against a real database."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session, col

from api.demo import DEMO_USERS
from api.models import User

HEZUO = str(Path(sys.executable).parent / "hezuo")


def run_cli(args, database_url, env="development"):
    environment = {**os.environ, "HEZUO_DATABASE_URL": database_url, "HEZUO_ENV": env}
    environment["HEZUO_SECRET_KEY"] = "cli-test-secret-key-0123456789-abcdefghij"
    environment["HEZUO_MEDIA_DIR"] = tempfile.mkdtemp(prefix="hezuo-cli-media-")
    return subprocess.run(
        [HEZUO, *args], env=environment, capture_output=True, text=True, timeout=120
    )


def test_db_upgrade_on_a_new_sqlite_file(tmp_path):
    result = run_cli(["db", "upgrade"], f"sqlite:///{tmp_path}/new.db")
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout


def test_user_create_prints_the_id_and_refuses_a_duplicate(database_url, session: Session):
    args = [
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "pw-long-enough",
        "--role",
        "staff",
    ]
    created = run_cli(args, database_url)
    assert created.returncode == 0, created.stderr
    user = session.get(User, int(created.stdout.strip()))
    assert user is not None
    assert user.role == "staff"
    session.rollback()
    again = run_cli(args, database_url)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_user_create_refuses_an_unknown_role(database_url):
    result = run_cli(
        [
            "user",
            "create",
            "--email",
            "a@example.com",
            "--password",
            "pw-long-enough",
            "--role",
            "king",
        ],
        database_url,
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_demo_load_is_idempotent(database_url, session: Session):
    first = run_cli(["demo", "load"], database_url)
    assert first.returncode == 0, first.stderr
    second = run_cli(["demo", "load"], database_url)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    emails = set(session.scalars(select(col(User.email))))
    assert {u.email for u in DEMO_USERS} <= emails
    assert session.scalar(select(func.count()).select_from(User)) == len(emails)


def test_demo_load_is_refused_outside_development(database_url, session: Session):
    result = run_cli(["demo", "load"], database_url, env="production")
    assert result.returncode == 2
    assert "only when HEZUO_ENV=development" in result.stderr
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_production_refuses_to_start_without_a_secret(database_url):
    environment = {**os.environ, "HEZUO_DATABASE_URL": database_url, "HEZUO_ENV": "production"}
    environment.pop("HEZUO_SECRET_KEY", None)
    result = subprocess.run(
        [HEZUO, "serve", "--port", "1"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "HEZUO_SECRET_KEY" in result.stderr
