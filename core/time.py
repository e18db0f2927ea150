"""Time: UTC in storage and between modules; the reader's zone (``settings.timezone``) on pages.

Columns hold naive or aware UTC datetimes; :func:`as_utc` reads either. Pages show
:func:`to_reader_zone` of them, never "UTC".
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime: naive values (as stored) are taken as UTC, aware ones converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_reader_zone(moment: datetime, zone: str = DEFAULT_TIMEZONE) -> datetime:
    """A stored (UTC) moment in the reader's zone, e.g. settings.timezone ('Asia/Shanghai')."""
    return as_utc(moment).astimezone(ZoneInfo(zone))
