"""Recording notifications inside the transaction that changes state (never sending from it).

Domains call `record(session, kind=..., event_key=..., audiences=[...], payload={...})` once per
event. Who an audience is (a user's e-mail and language, a household's members and phone, the
staff) is known only to the composition root, which connects a `Directory` (api/wiring.py);
guests carry their address with them. Each (event, recipient, channel) is stored at most once, so
a replayed request or job records nothing new.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import Session, col, select

from ledger.base import utcnow
from notify.kinds import can_switch_off, default_enabled
from notify.models import Channel, Notification, NotificationPreference, Status

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class Audience:
    """Who an event concerns: a user, a household, a cooperative's managers, the staff, a guest."""

    kind: str  # "user", "household", "managers", "staff", "guest"
    id: int | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None


def to_user(user_id: int) -> Audience:
    return Audience("user", user_id)


def to_household(household_id: int) -> Audience:
    return Audience("household", household_id)


def to_staff() -> Audience:
    return Audience("staff")


def to_coop_members(coop_id: int) -> Audience:
    """The member households' accounts of a cooperative (farmers)."""
    return Audience("coop_members", coop_id)


def to_guest(*, email: str | None, phone: str | None = None, language: str | None) -> Audience:
    return Audience("guest", email=email, phone=phone, language=language)


@dataclass(frozen=True)
class Recipient:
    """One person (or one phone) a message goes to, with the addresses known for them."""

    key: str
    user_id: int | None
    email: str | None
    phone: str | None
    language: str


Directory = Callable[[Session, Audience], Sequence[Recipient]]


def _guests_only(_session: Session, audience: Audience) -> Sequence[Recipient]:
    return []


_directory: list[Directory] = [_guests_only]


def use_directory(directory: Directory) -> None:
    """Connect who-is-who (the composition root does, at start)."""
    _directory[0] = directory


def resolve(session: Session, audience: Audience, default_language: str) -> list[Recipient]:
    if audience.kind != "guest":
        return list(_directory[0](session, audience))
    language = audience.language if audience.language in LANGUAGES else default_language
    if audience.email:
        key = "email:" + audience.email.lower()
    elif audience.phone:
        key = "phone:" + audience.phone
    else:
        return []
    return [Recipient(key, None, audience.email, audience.phone, language)]


def idempotency_key(event_key: str, recipient_key: str, channel: str) -> str:
    """Stable for the row: it becomes the e-mail's Message-ID and the SMS OutId."""
    raw = f"{event_key}\n{recipient_key}\n{channel}".encode()
    return hashlib.sha256(raw).hexdigest()[:40]


def record(
    session: Session,
    *,
    kind: str,
    event_key: str,
    audiences: Iterable[Audience],
    payload: Mapping[str, object],
    default_language: str = "zh-CN",
) -> list[Notification]:
    """Store the rows for this event (in the caller's transaction); replays store nothing new."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    stored: list[Notification] = []
    seen: set[str] = set()
    for audience in audiences:
        for recipient in resolve(session, audience, default_language):
            if recipient.key in seen:
                continue
            seen.add(recipient.key)
            for channel, address in _channels(session, recipient, kind):
                row = _store(session, kind, event_key, recipient, channel, address, body)
                if row is not None:
                    stored.append(row)
    return stored


def _channels(session: Session, recipient: Recipient, kind: str) -> list[tuple[Channel, str]]:
    chosen = preferences_of(session, recipient.user_id) if recipient.user_id is not None else {}

    def wanted(channel: Channel) -> bool:
        if not can_switch_off(kind, channel):
            return True
        return chosen.get((kind, channel.value), default_enabled(kind, channel))

    channels: list[tuple[Channel, str]] = []
    if recipient.user_id is not None and wanted(Channel.inbox):
        channels.append((Channel.inbox, ""))
    if recipient.email and wanted(Channel.email):
        channels.append((Channel.email, recipient.email))
    if recipient.phone and (
        recipient.user_id is None and not recipient.email or wanted(Channel.sms)
    ):
        channels.append((Channel.sms, recipient.phone))
    return channels


def preferences_of(session: Session, user_id: int) -> dict[tuple[str, str], bool]:
    rows = session.scalars(
        select(NotificationPreference).where(col(NotificationPreference.user_id) == user_id)
    )
    return {(row.kind, row.channel): row.enabled for row in rows}


def _store(
    session: Session,
    kind: str,
    event_key: str,
    recipient: Recipient,
    channel: Channel,
    address: str,
    body: str,
) -> Notification | None:
    key = idempotency_key(event_key, recipient.key, channel.value)
    now = utcnow()
    row = Notification(
        kind=kind,
        event_key=event_key,
        recipient_key=recipient.key,
        user_id=recipient.user_id,
        channel=channel.value,
        address=address,
        language=recipient.language,
        payload=body,
        idempotency_key=key,
        next_attempt_at=now,
    )
    if channel == Channel.inbox:  # the inbox is this table: nothing to send
        row.status = Status.sent.value
        row.sent_at = now
    # One statement: a replay (or a concurrent one that stored it first) inserts nothing.
    row.id = session.execute(_insert_unless_stored(session, row)).scalar()
    return row if row.id is not None else None


def _insert_unless_stored(session: Session, row: Notification) -> ReturningInsert[tuple[int]]:
    table = Notification.__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in table.columns if c.name != "id"}
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table).values(values).on_conflict_do_nothing().returning(table.c.id)
