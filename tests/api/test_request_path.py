"""The HTTP path: reads never wait for SQLite's write lock, writes still take it, answers compressed."""

import gzip
import sqlite3

import pytest

import api.database
from api.database import create_db_engine
from tests.conftest import BACKEND

sqlite_only = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's write lock")


@pytest.fixture
def held_write_lock(settings):
    """Another process's writer, holding SQLite's write lock with a transaction left open."""
    path = settings.database_url.split("///", 1)[-1]
    writer = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    yield writer
    writer.execute("ROLLBACK")
    writer.close()


@sqlite_only
def test_a_read_request_is_answered_while_a_writer_holds_the_lock(client, held_write_lock):
    # Before reads began deferred transactions, this waited for the busy timeout, then failed.
    response = client.get("/api/v1/products")
    assert response.status_code == 200
    assert client.get("/products").status_code == 200


@sqlite_only
def test_a_write_request_still_takes_the_write_lock_up_front(settings, monkeypatch):
    monkeypatch.setattr(api.database, "SQLITE_BUSY_TIMEOUT_MS", 100)
    engine = create_db_engine(settings.database_url)
    writer = sqlite3.connect(
        settings.database_url.split("///", 1)[-1], isolation_level=None, timeout=0.1
    )
    try:
        writer.execute("BEGIN IMMEDIATE")
        # Outside a request every unit of work may write, so it begins IMMEDIATE and is refused
        # at BEGIN, before it has read anything it could later fail to upgrade.
        with pytest.raises(Exception, match="locked"), engine.connect() as connection:
            connection.begin()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        engine.dispose()


def test_pages_and_json_are_compressed_for_clients_that_accept_gzip(client):
    page = client.get("/products", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "<html" in page.text  # httpx decoded it
    css = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers.get("content-encoding") == "gzip"
    plain = client.get("/products", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert int(page.headers.get("content-length", len(gzip.compress(plain.content)))) < len(
        plain.content
    )
