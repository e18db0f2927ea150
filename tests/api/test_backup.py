"""Backups that are proven: a loaded database (demo data, sealed ledger, photos) is backed up,
restored into a new empty database, verified, and compared table by table and account by account."""

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.backup import row_counts
from api.database import create_db_engine, create_session_factory
from api.demo import load_demo
from api.settings import Settings
from ledger import service as ledger
from tests.conftest import BACKEND

HEZUO = str(Path(sys.executable).with_name("hezuo"))
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def hezuo(*args: str, database_url: str, media_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HEZUO_ENV": "development",
        "HEZUO_DATABASE_URL": database_url,
        "HEZUO_SECRET_KEY": SECRET,
        "HEZUO_MEDIA_DIR": str(media_dir),
    }
    return subprocess.run([HEZUO, *args], env=env, capture_output=True, text=True, timeout=300)


def _balances(database_url: str) -> list[tuple[str, str, int, int, int]]:
    engine = create_db_engine(database_url, sqlite_immediate=False)
    try:
        with create_session_factory(engine)() as session:
            trial = ledger.trial_balance(session)
            return sorted(
                (a.key, a.currency, a.debits, a.credits, a.balance) for a in trial.accounts
            )
    finally:
        engine.dispose()


def test_backup_restore_verify_compare(
    session: Session, settings, database_url, empty_database, tmp_path
):
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    while ledger.seal_pending(session) is not None:  # the chain covers every entry
        session.commit()
    session.commit()
    assert ledger.verify(session)["ok"] is True
    session.close()
    source_engine = create_db_engine(database_url, sqlite_immediate=False)
    before = row_counts(source_engine)
    source_engine.dispose()
    assert before["ledger_entries"] > 0
    assert before["ledger_seal_blocks"] > 0
    media_before = sorted(
        p.relative_to(settings.media_dir).as_posix() for p in settings.media_dir.rglob("*.webp")
    )
    assert media_before

    backup_dir = tmp_path / "backup"
    made = hezuo("backup", str(backup_dir), database_url=database_url, media_dir=settings.media_dir)
    assert made.returncode == 0, made.stderr
    assert (backup_dir / ("database.sqlite3" if BACKEND == "sqlite" else "database.dump")).is_file()

    restored_media = tmp_path / "restored-media"
    done = hezuo("restore", str(backup_dir), database_url=empty_database, media_dir=restored_media)
    assert done.returncode == 0, done.stderr
    verified = hezuo("ledger", "verify", database_url=empty_database, media_dir=restored_media)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert '"ok": true' in verified.stdout

    restored_engine = create_db_engine(empty_database, sqlite_immediate=False)
    after = row_counts(restored_engine)
    restored_engine.dispose()
    assert after == before
    balances = _balances(database_url)
    assert any(balance != 0 for *_, balance in balances)
    assert _balances(empty_database) == balances
    assert (
        sorted(p.relative_to(restored_media).as_posix() for p in restored_media.rglob("*.webp"))
        == media_before
    )

    # The restored copy serves, photos included.
    app = create_app(
        Settings(
            env="test", database_url=empty_database, secret_key=SECRET, media_dir=restored_media
        )
    )
    with TestClient(app) as client:
        assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
        assert client.get(f"/media/{media_before[0]}").status_code == 200
    app.state.engine.dispose()

    # A second restore into the now loaded database is refused, and changes nothing.
    again = hezuo("restore", str(backup_dir), database_url=empty_database, media_dir=restored_media)
    assert again.returncode == 2
    assert "not empty" in again.stderr
    check_engine = create_db_engine(empty_database, sqlite_immediate=False)
    assert row_counts(check_engine) == before
    check_engine.dispose()
