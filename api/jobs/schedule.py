"""Job schedules from settings: "every 60s" / "every 5m" / "every 1h", a crontab line, or "off".

Every process builds the same triggers from the same settings, so they agree on the ticks: an
interval is counted from one fixed anchor (not from each process's start), and crontab lines are
read in the settings' time zone.
"""

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

OFF = "off"
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
_EVERY = re.compile(r"every\s+(\d+)\s*([smh])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# How far back a crontab schedule is searched for its latest tick (a monthly job's period).
_CRON_LOOKBACK = timedelta(days=32)


class ScheduleInvalid(ValueError):
    pass


def parse_schedule(text: str, *, timezone: str) -> BaseTrigger | None:
    """The trigger for a schedule text, or None for "off"; ScheduleInvalid if unreadable."""
    text = text.strip()
    if text.lower() == OFF:
        return None
    every = _EVERY.fullmatch(text)
    if every:
        seconds = int(every.group(1)) * _UNIT_SECONDS[every.group(2).lower()]
        if seconds < 1:
            raise ScheduleInvalid(f"{text!r}: the interval must be at least 1 second")
        return IntervalTrigger(seconds=seconds, start_date=ANCHOR, timezone=UTC)
    try:
        return CronTrigger.from_crontab(text, timezone=timezone)
    except ValueError as error:
        raise ScheduleInvalid(
            f"{text!r} is neither 'off', 'every N[s|m|h]' nor a crontab line ({error})"
        ) from error


def latest_tick(trigger: BaseTrigger, now: datetime) -> datetime:
    """The last fire time at or before `now`: the tick a run started now belongs to."""
    if isinstance(trigger, IntervalTrigger):
        step = trigger.interval_length
        elapsed = (now - ANCHOR).total_seconds()
        return ANCHOR + timedelta(seconds=(elapsed // step) * step)
    first: datetime | None = trigger.get_next_fire_time(None, now - _CRON_LOOKBACK)
    assert first is not None, "a crontab schedule always has a next fire time"
    tick = first
    while True:
        following: datetime | None = trigger.get_next_fire_time(
            tick, tick + timedelta(microseconds=1)
        )
        if following is None or following > now:
            return tick.astimezone(UTC)
        tick = following


def next_tick(trigger: BaseTrigger, now: datetime) -> datetime | None:
    following: datetime | None = trigger.get_next_fire_time(None, now)
    return following.astimezone(UTC) if following is not None else None
