"""APScheduler's BackgroundScheduler firing every job on its settings schedule.

The scheduler itself keeps nothing (an in-memory job store): the schedules come from settings and
the runs are recorded in job_runs, whose (job, tick) claim makes each tick run once however many
schedulers (`hezuo serve` workers, `hezuo worker` processes, replicas) fire it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine

from api.jobs import runner
from api.jobs.registry import JOBS, JobSpec, SessionFactory
from api.jobs.schedule import latest_tick, next_tick, parse_schedule
from api.settings import Settings
from ledger.base import utcnow

logger = logging.getLogger("hezuo.jobs")


@dataclass(frozen=True)
class ScheduledJob:
    spec: JobSpec
    schedule: str
    trigger: BaseTrigger | None  # None: switched off, or not available with these settings

    def next_run(self, now: datetime) -> datetime | None:
        return next_tick(self.trigger, now) if self.trigger is not None else None


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    """Every job with its schedule text and trigger (None when off or unavailable)."""
    jobs = []
    for spec in JOBS:
        schedule = settings.job_schedules[spec.name]
        trigger = parse_schedule(schedule, timezone=settings.timezone)
        if not spec.available(settings):
            trigger = None
        jobs.append(ScheduledJob(spec, schedule, trigger))
    return jobs


def fire(job: ScheduledJob, *, factory: SessionFactory, engine: Engine, settings: Settings) -> None:
    """What the scheduler calls at each fire time: run the tick unless another process has it."""
    assert job.trigger is not None
    tick = latest_tick(job.trigger, utcnow())
    status = runner.run_tick(job.spec, tick, factory=factory, engine=engine, settings=settings)
    if status is None:
        logger.debug("job %s tick %s: claimed by another process", job.spec.name, tick)


def build_scheduler(
    settings: Settings, *, factory: SessionFactory, engine: Engine
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=settings.timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    for job in scheduled_jobs(settings):
        if job.trigger is None:
            continue
        scheduler.add_job(
            fire,
            job.trigger,
            id=job.spec.name,
            kwargs={"job": job, "factory": factory, "engine": engine, "settings": settings},
        )
    return scheduler
