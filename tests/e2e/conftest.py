"""Browser harness: Debian's Chromium through pytest-playwright, the app served by uvicorn.

Each test gets a fresh migrated database (tests/conftest.py) with the demo data loaded, and the
app on a free loopback port in a background thread (`live_server` is its base URL). Browser tests
are marked `e2e`: `make test` runs them in the SQLite pass only.
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.database import create_db_engine, create_session_factory
from api.demo import load_demo
from api.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium (never a downloaded browser), headless, with no network chatter."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def e2e_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="e2e-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
    )


@pytest.fixture
def live_server(e2e_settings: Settings) -> Iterator[str]:
    """The app with the demo data, served by uvicorn on 127.0.0.1:<free port>; yields its URL."""
    engine = create_db_engine(e2e_settings.database_url)
    with create_session_factory(engine).begin() as session:
        load_demo(session, settings=e2e_settings.model_copy(update={"env": "development"}))
    engine.dispose()

    app = create_app(e2e_settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        app.state.engine.dispose()
