"""Sealing into hash-chained blocks, and verify catching a tampered or unbalanced ledger."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text
from sqlmodel import Session

from ledger import service
from ledger.sealing import GENESIS_HASH
from tests.ledger.conftest import spec, transfer

HEZUO = str(Path(sys.executable).parent / "hezuo")


def _post_some(post, n: int) -> list[int]:
    return [
        post(
            transfer("assets:bank", "income:enterprise:service-fees", 100 + i, memo=f"m{i}")
        ).entry.id
        for i in range(n)
    ]


def _tamper(engine: Engine, statement: str) -> None:
    """Change a row behind the ledger's back, with its append-only trigger out of the way."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE ledger_postings DISABLE TRIGGER USER"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE ledger_postings ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER ledger_postings_no_update"))
            connection.execute(text(statement))


def test_sealing_chains_blocks_and_verify_passes(session: Session, post) -> None:
    assert service.seal_pending(session) is None  # nothing to seal yet
    first_ids = _post_some(post, 3)
    first = service.seal_pending(session)
    session.commit()
    assert first is not None
    assert (first.entry_count, first.first_entry_id, first.last_entry_id) == (
        3,
        first_ids[0],
        first_ids[-1],
    )
    assert first.prev_hash == GENESIS_HASH
    _post_some(post, 2)
    second = service.seal_pending(session)
    session.commit()
    assert second is not None
    assert second.prev_hash == first.hash
    assert second.entry_count == 2
    assert service.seal_pending(session) is None
    report = service.verify(session)
    assert report["ok"] is True
    assert report["sealed_entries"] == 5
    assert report["blocks"] == 2
    assert report["first_mismatch"] is None
    assert report["unbalanced_entries"] == []


def test_seal_skips_entries_younger_than_min_age(session: Session, post) -> None:
    _post_some(post, 2)
    assert service.seal_pending(session, min_age_seconds=3600) is None
    assert service.verify(session)["unsealed_entries"] == 2


def test_verify_names_the_entry_whose_posting_was_tampered(
    session: Session, engine: Engine, post
) -> None:
    ids = _post_some(post, 4)
    service.seal_pending(session)
    session.commit()
    target = ids[2]
    # Change both sides so the entry still balances: only the seal can tell.
    _tamper(engine, f"UPDATE ledger_postings SET amount = amount * 2 WHERE entry_id = {target}")
    session.rollback()
    report = service.verify(session)
    assert report["ok"] is False
    assert report["first_mismatch"]["entry_id"] == target
    assert report["first_mismatch"]["block"] == 1
    assert report["unbalanced_entries"] == []
    assert target in report["content_mismatches"]


def test_verify_reports_an_unbalanced_entry(session: Session, engine: Engine, post) -> None:
    ids = _post_some(post, 2)
    # One side only: unbalanced (unsealed, so only the balance and content checks see it).
    _tamper(
        engine,
        f"UPDATE ledger_postings SET amount = amount + 1 WHERE entry_id = {ids[1]} AND amount > 0",
    )
    session.rollback()
    report = service.verify(session)
    assert report["ok"] is False
    assert report["first_mismatch"] is None
    assert report["unbalanced_entries"] == [{"entry_id": ids[1], "currency": "CNY", "off_by": 1}]
    assert report["content_mismatches"] == [ids[1]]


def test_multi_currency_entry_seals_and_verifies(session: Session, post) -> None:
    post(
        spec(
            ("assets:bank:usd", "debit", 3, "USD"),
            ("equity:opening:usd", "credit", 3, "USD"),
            ("assets:bank", "debit", 20),
            ("income:enterprise:service-fees", "credit", 20),
            metadata={"note": "中文", "n": [1, 2]},
        )
    )
    service.seal_pending(session)
    session.commit()
    assert service.verify(session)["ok"] is True


def _cli(args: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HEZUO_DATABASE_URL": database_url, "HEZUO_ENV": "development"}
    environment["HEZUO_SECRET_KEY"] = "cli-test-secret-key-0123456789-abcdefghij"
    return subprocess.run(
        [HEZUO, *args], env=environment, capture_output=True, text=True, timeout=120
    )


def test_cli_seal_and_verify(session: Session, engine: Engine, post, database_url: str) -> None:
    ids = _post_some(post, 3)
    sealed = _cli(["ledger", "seal"], database_url)
    assert sealed.returncode == 0, sealed.stderr
    assert "sealed 3 entries" in sealed.stdout
    verified = _cli(["ledger", "verify"], database_url)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["sealed_entries"] == 3
    _tamper(engine, f"UPDATE ledger_postings SET amount = -amount WHERE entry_id = {ids[0]}")
    broken = _cli(["ledger", "verify"], database_url)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_mismatch"]["entry_id"] == ids[0]
