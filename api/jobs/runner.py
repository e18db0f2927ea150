"""Runs one tick of a job at most once across every process and replica.

1. Claim: insert (job, tick) into job_runs and commit; the unique constraint lets exactly one
   process win, on SQLite and on PostgreSQL alike. The losers skip the tick.
2. Lock: on PostgreSQL the winner also holds an advisory lock on the job while it runs, so a
   "run now" and a scheduled tick (two different ticks) never run the same job side by side.
3. Run with retries: a job that raises is retried with exponential backoff
   (HEZUO_JOBS_RETRY_SECONDS × 2^n, HEZUO_JOBS_MAX_ATTEMPTS in all); the last error is stored and
   the run shows as failed.
"""

import logging
import os
import socket
import time
import traceback
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from api.jobs.models import JobRun, RunStatus, RunTrigger
from api.jobs.registry import JobSpec, SessionFactory
from api.settings import Settings
from ledger.base import utcnow

logger = logging.getLogger("hezuo.jobs")
# The advisory-lock key space of jobs (the first of the two int4 keys).
LOCK_NAMESPACE = 0x4E5A  # "HZ"
RESULT_LIMIT = 1000
ERROR_LIMIT = 2000


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def claim(
    factory: SessionFactory,
    job: str,
    tick: datetime,
    *,
    trigger: RunTrigger,
    requested_by: str | None = None,
) -> int | None:
    """The new run's id, or None when another process already claimed this tick."""
    run = JobRun(
        job=job,
        tick=tick,
        run_trigger=trigger,
        status=RunStatus.running,
        worker=worker_id(),
        requested_by=requested_by,
    )
    try:
        with factory.begin() as session:
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        return None


@contextmanager
def job_lock(engine: Engine, job: str) -> Iterator[bool]:
    """True while this process holds the job's advisory lock (always True on SQLite)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(job.encode()) & 0x7FFFFFFF
    with engine.connect() as connection:
        held = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": key}
            ).scalar_one()
        )
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": key}
                )
                connection.commit()


def _record(factory: SessionFactory, run_id: int, **changes: object) -> None:
    with factory.begin() as session:
        run = session.get(JobRun, run_id)
        assert run is not None
        for name, value in changes.items():
            setattr(run, name, value)


def execute(
    spec: JobSpec,
    run_id: int,
    *,
    factory: SessionFactory,
    engine: Engine,
    settings: Settings,
) -> RunStatus:
    """Run a claimed tick under the job's lock, retrying with backoff; record how it ended."""
    with job_lock(engine, spec.name) as held:
        if not held:
            _record(
                factory,
                run_id,
                status=RunStatus.skipped,
                finished_at=utcnow(),
                result="another run of this job was still in progress",
            )
            return RunStatus.skipped
        return _run_with_retries(spec, run_id, factory=factory, settings=settings)


def _run_with_retries(
    spec: JobSpec, run_id: int, *, factory: SessionFactory, settings: Settings
) -> RunStatus:
    last_error = ""
    for attempt in range(1, settings.jobs_max_attempts + 1):
        _record(factory, run_id, attempts=attempt)
        try:
            result = spec.function(factory, settings)
        except Exception as error:  # a job's failure is recorded, never kills the scheduler
            last_error = "".join(traceback.format_exception_only(error)).strip()
            logger.warning(
                "job %s attempt %d/%d failed: %s",
                spec.name,
                attempt,
                settings.jobs_max_attempts,
                last_error,
                exc_info=True,
            )
            if attempt < settings.jobs_max_attempts:
                time.sleep(settings.jobs_retry_seconds * 2 ** (attempt - 1))
            continue
        _record(
            factory,
            run_id,
            status=RunStatus.succeeded,
            finished_at=utcnow(),
            result=result[:RESULT_LIMIT],
        )
        logger.info("job %s: %s", spec.name, result)
        return RunStatus.succeeded
    _record(
        factory,
        run_id,
        status=RunStatus.failed,
        finished_at=utcnow(),
        error=last_error[:ERROR_LIMIT],
    )
    return RunStatus.failed


def run_tick(
    spec: JobSpec,
    tick: datetime,
    *,
    factory: SessionFactory,
    engine: Engine,
    settings: Settings,
    trigger: RunTrigger = RunTrigger.schedule,
    requested_by: str | None = None,
) -> RunStatus | None:
    """Claim and run one tick; None when another process has it."""
    run_id = claim(factory, spec.name, tick, trigger=trigger, requested_by=requested_by)
    if run_id is None:
        return None
    return execute(spec, run_id, factory=factory, engine=engine, settings=settings)
