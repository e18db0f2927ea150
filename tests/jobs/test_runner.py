"""One tick runs once; a failing job is retried with backoff and recorded as failed."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import col

from api.database import create_session_factory
from api.jobs import runner
from api.jobs.models import JobRun, RunStatus, RunTrigger
from api.jobs.registry import JobSpec, job_named
from api.jobs.schedule import ScheduleInvalid, latest_tick, next_tick, parse_schedule
from api.settings import Settings

TICK = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _runs(session, job: str) -> list[JobRun]:
    session.rollback()
    return list(session.scalars(select(JobRun).where(col(JobRun.job) == job).order_by(JobRun.id)))


def _counting(calls: list[int]):
    def job(_factory, _settings) -> str:
        calls.append(1)
        return "done"

    return job


def test_a_tick_is_claimed_once(engine, settings, session):
    factory = create_session_factory(engine)
    calls: list[int] = []
    spec = JobSpec("orders-expire", _counting(calls), "test")

    first = runner.run_tick(spec, TICK, factory=factory, engine=engine, settings=settings)
    again = runner.run_tick(spec, TICK, factory=factory, engine=engine, settings=settings)
    later = runner.run_tick(
        spec, TICK + timedelta(minutes=1), factory=factory, engine=engine, settings=settings
    )

    assert (first, again, later) == (RunStatus.succeeded, None, RunStatus.succeeded)
    assert len(calls) == 2
    runs = _runs(session, "orders-expire")
    assert [(r.status, r.result, r.attempts) for r in runs] == [("succeeded", "done", 1)] * 2


def test_a_failing_job_is_retried_with_backoff_then_recorded_failed(engine, session):
    settings = Settings(
        env="test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        jobs_max_attempts=3,
        jobs_retry_seconds=0.2,
    )
    factory = create_session_factory(engine)
    attempts: list[float] = []

    def broken(_factory, _settings) -> str:
        attempts.append(time.monotonic())
        raise RuntimeError("the bank's file server is down")

    status = runner.run_tick(
        JobSpec("ledger-seal", broken, "test"),
        TICK,
        factory=factory,
        engine=engine,
        settings=settings,
    )

    assert status == RunStatus.failed
    assert len(attempts) == 3
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= 0.2
    assert gaps[1] >= 0.4
    [run] = _runs(session, "ledger-seal")
    assert (run.status, run.attempts) == ("failed", 3)
    assert "the bank's file server is down" in run.error
    assert run.finished_at is not None


def test_a_job_that_recovers_on_retry_succeeds(engine, session):
    settings = Settings(
        env="test",
        database_url=str(engine.url.render_as_string(hide_password=False)),
        jobs_retry_seconds=0,
    )
    factory = create_session_factory(engine)
    tries: list[int] = []

    def flaky(_factory, _settings) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise ConnectionError("reset by peer")
        return "ok on the second try"

    status = runner.run_tick(
        JobSpec("stripe-sync", flaky, "test"),
        TICK,
        factory=factory,
        engine=engine,
        settings=settings,
    )
    assert status == RunStatus.succeeded
    [run] = _runs(session, "stripe-sync")
    assert (run.attempts, run.result, run.error) == (2, "ok on the second try", "")


@pytest.mark.postgres_only
def test_a_job_running_elsewhere_holds_its_advisory_lock(engine, settings, session):
    """A "run now" while the scheduled tick of the same job still runs is skipped, not doubled."""
    factory = create_session_factory(engine)
    calls: list[int] = []
    spec = JobSpec("orders-expire", _counting(calls), "test")
    with runner.job_lock(engine, "orders-expire") as held:
        assert held
        status = runner.run_tick(
            spec, TICK, factory=factory, engine=engine, settings=settings, trigger=RunTrigger.manual
        )
    assert status == RunStatus.skipped
    assert calls == []
    assert (
        runner.run_tick(
            spec, TICK + timedelta(seconds=1), factory=factory, engine=engine, settings=settings
        )
        == RunStatus.succeeded
    )
    with engine.connect() as connection:  # released: nobody holds it any more
        assert (
            connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            ).scalar_one()
            == 0
        )


def test_the_expiry_job_is_the_command_s_function(engine, settings):
    """The scheduled job and `hezuo orders expire` share orders.fulfilment.expire_orders."""
    spec = job_named("orders-expire")
    assert spec is not None
    assert spec.function(create_session_factory(engine), settings) == "expired 0 order(s)"


def test_notifications_job_waits_for_the_notify_module(settings):
    spec = job_named("notify-send")
    assert spec is not None
    try:
        import notify.delivery  # noqa: F401
    except ModuleNotFoundError:
        assert not spec.available(settings)
    else:
        assert spec.available(settings)


def test_schedules_agree_across_processes():
    every = parse_schedule("every 5s", timezone="Asia/Shanghai")
    now = datetime(2026, 12, 4, 12, 0, 7, 300_000, tzinfo=UTC)
    assert latest_tick(every, now) == datetime(2026, 12, 4, 12, 0, 5, tzinfo=UTC)
    assert next_tick(every, now) == datetime(2026, 12, 4, 12, 0, 10, tzinfo=UTC)
    hourly = parse_schedule("5 * * * *", timezone="Asia/Shanghai")
    assert latest_tick(hourly, now) == datetime(2026, 12, 4, 11, 5, tzinfo=UTC)
    monthly = parse_schedule("0 4 1 * *", timezone="Asia/Shanghai")  # 04:00 in Shanghai
    assert latest_tick(monthly, now) == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert parse_schedule("off", timezone="UTC") is None
    with pytest.raises(ScheduleInvalid):
        parse_schedule("every tuesday", timezone="UTC")


def test_unknown_jobs_and_bad_schedules_are_refused_at_start():
    with pytest.raises(ValueError, match="unknown jobs: orders-vanish"):
        Settings(job_schedules={"orders-vanish": "every 1m"})
    with pytest.raises(ValueError, match="ledger-seal"):
        Settings(job_schedules={"ledger-seal": "sometimes"})
    merged = Settings(job_schedules={"orders-expire": "every 5s"}).job_schedules
    assert merged["orders-expire"] == "every 5s"
    assert merged["ledger-seal"] == "5 * * * *"


def test_jobs_run_in_process_only_where_no_worker_is_expected():
    assert Settings(env="development").runs_jobs_in_process  # SQLite default: `make run` is enough
    assert not Settings(env="development", database_url="postgresql://x@h/db").runs_jobs_in_process
    assert Settings(database_url="postgresql://x@h/db", jobs_in_process=True).runs_jobs_in_process
    assert not Settings(env="test").runs_jobs_in_process
