"""Jobs fixtures: `hezuo worker` and `hezuo serve` as real processes on the test's database."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from api.settings import DEFAULT_JOB_SCHEDULES, Settings

HEZUO = str(Path(sys.executable).with_name("hezuo"))
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def only(schedules: dict[str, str]) -> str:
    """HEZUO_JOB_SCHEDULES with every other job switched off."""
    return json.dumps({name: "off" for name in DEFAULT_JOB_SCHEDULES} | schedules)


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEZUO_")}
    env.update(
        HEZUO_ENV="development",
        HEZUO_DATABASE_URL=settings.database_url,
        HEZUO_SECRET_KEY=SECRET,
        HEZUO_MEDIA_DIR=str(settings.media_dir),
        HEZUO_JOBS_RETRY_SECONDS="0.1",
    )
    env.update(extra)
    return env


def wait_for_line(
    log: Path, line: str, process: subprocess.Popen[bytes], seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        if log.exists() and line in log.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{line!r} never appeared in {log}")


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def worker_process(settings: Settings, tmp_path: Path):
    """A `hezuo worker` on the test's database, with the given schedules (others off)."""
    count = iter(range(100))

    @contextmanager
    def launch(schedules: dict[str, str], **extra: str) -> Iterator[subprocess.Popen[bytes]]:
        env = process_env(settings, HEZUO_JOB_SCHEDULES=only(schedules), **extra)
        log = tmp_path / f"worker-{next(count)}.log"
        with running([HEZUO, "worker"], env, log) as process:
            wait_for_line(log, "worker running", process)
            yield process

    return launch
