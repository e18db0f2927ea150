"""Reading notifications: a user's own inbox, staff's view of the outbox, retrying dead letters."""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, func, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ledger.base import utcnow
from notify.errors import NotificationNotFound
from notify.kinds import (
    NOT_CHOOSABLE,
    SOCIAL_WORKER_ONLY,
    STAFF_ONLY,
    Kind,
    can_switch_off,
    default_enabled,
)
from notify.models import Channel, Notification, NotificationPreference, Status

PAGE_SIZE = 50


def unread_count(session: Session, user_id: int) -> int:
    count = session.scalar(_unread(user_id))
    return int(count or 0)


def unread_count_of(user_id: Mapped[int | None]) -> ScalarSelect[int]:
    """The unread inbox count of a user column, as a scalar subquery to read along with the user
    (one statement per page instead of two)."""
    return _unread(user_id).scalar_subquery()


def _unread(user_id: int | Mapped[int | None]) -> SelectOfScalar[int]:
    return (
        select(func.count())
        .select_from(Notification)
        .where(
            col(Notification.user_id) == user_id,
            col(Notification.channel) == Channel.inbox.value,
            col(Notification.read_at).is_(None),
        )
    )


def inbox(session: Session, user_id: int, *, limit: int = PAGE_SIZE) -> list[Notification]:
    """The user's own inbox, newest first (only rows addressed to this user id)."""
    return list(
        session.scalars(
            select(Notification)
            .where(
                col(Notification.user_id) == user_id,
                col(Notification.channel) == Channel.inbox.value,
            )
            .order_by(col(Notification.id).desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user_id: int, notification_id: int) -> None:
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id or row.channel != Channel.inbox.value:
        raise NotificationNotFound(notification_id)  # someone else's: as if it did not exist
    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)


def mark_all_read(session: Session, user_id: int) -> None:
    session.execute(
        update(Notification)
        .where(
            col(Notification.user_id) == user_id,
            col(Notification.channel) == Channel.inbox.value,
            col(Notification.read_at).is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )


# Staff: the outbox


def outbox(session: Session, *, status: str | None, limit: int = PAGE_SIZE) -> list[Notification]:
    query = select(Notification).where(col(Notification.channel) != Channel.inbox.value)
    if status:
        query = query.where(col(Notification.status) == status)
    return list(session.scalars(query.order_by(col(Notification.id).desc()).limit(limit)))


def outbox_summary(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Notification.status, func.count())
        .where(col(Notification.channel) != Channel.inbox.value)
        .group_by(col(Notification.status))
    ).all()
    counts = Counter({status.value: 0 for status in Status if status != Status.sent})
    counts.update({str(status): int(n) for status, n in rows})
    return dict(counts)


def possible_duplicates(session: Session) -> int:
    """Sends repeated after a worker died before marking them (deduplicable by Message-ID)."""
    return int(session.scalar(select(func.coalesce(func.sum(Notification.reclaims), 0))) or 0)


def retry(session: Session, notification_id: int) -> Notification:
    """Staff: a failed or dead row goes back to pending, due now, with fresh attempts."""
    row = session.get(Notification, notification_id)
    if row is None or row.channel == Channel.inbox.value:
        raise NotificationNotFound(notification_id)
    if row.status in (Status.failed.value, Status.dead.value):
        row.status = Status.pending.value
        row.attempts = 0
        row.next_attempt_at = utcnow()
        row.claim_token = None
        row.claimed_until = None
        session.add(row)
    return row


# Preferences


@dataclass(frozen=True)
class Choice:
    kind: str
    channel: str
    enabled: bool
    locked: bool  # money messages keep their inbox copy


CHOOSABLE_CHANNELS = (Channel.inbox, Channel.email, Channel.sms)


def choices(
    session: Session, user_id: int, *, staff: bool = False, social_worker: bool = False
) -> list[Choice]:
    stored = {
        (p.kind, p.channel): p.enabled
        for p in session.scalars(
            select(NotificationPreference).where(col(NotificationPreference.user_id) == user_id)
        )
    }
    result = []
    for kind in Kind:
        if kind in NOT_CHOOSABLE or (kind in STAFF_ONLY and not staff):
            continue
        if kind in SOCIAL_WORKER_ONLY and not social_worker:
            continue
        for channel in CHOOSABLE_CHANNELS:
            locked = not can_switch_off(kind, channel)
            enabled = (
                True if locked else stored.get((kind, channel), default_enabled(kind, channel))
            )
            result.append(Choice(kind.value, channel.value, enabled, locked))
    return result


def set_choices(session: Session, user_id: int, enabled: set[tuple[str, str]]) -> None:
    """Store the page's ticks: every (kind, channel) not in `enabled` is off (unless locked)."""
    existing = {
        (p.kind, p.channel): p
        for p in session.scalars(
            select(NotificationPreference).where(col(NotificationPreference.user_id) == user_id)
        )
    }
    for kind in Kind:
        for channel in CHOOSABLE_CHANNELS:
            if not can_switch_off(kind, channel):
                continue
            _set(session, existing, user_id, kind.value, channel.value, (kind, channel) in enabled)


def switch_off(session: Session, user_id: int, kind: str, channel: str) -> None:
    existing = {
        (p.kind, p.channel): p
        for p in session.scalars(
            select(NotificationPreference).where(
                col(NotificationPreference.user_id) == user_id,
                col(NotificationPreference.kind) == kind,
            )
        )
    }
    _set(session, existing, user_id, kind, channel, False)


def _set(
    session: Session,
    existing: dict[tuple[str, str], NotificationPreference],
    user_id: int,
    kind: str,
    channel: str,
    enabled: bool,
) -> None:
    row = existing.get((kind, channel))
    if row is None:
        row = NotificationPreference(user_id=user_id, kind=kind, channel=channel, enabled=enabled)
    row.enabled = enabled
    session.add(row)
