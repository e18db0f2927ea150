"""The delivery job: claim due e-mail/SMS rows, send them, mark each sent once; retry or give up.

Claims are safe across processes: on PostgreSQL the due rows are picked `FOR UPDATE SKIP LOCKED`,
and on both databases a conditional UPDATE takes each row only if nobody holds an unexpired claim
on it. Each row is marked in its own short transaction right after it is sent. A worker killed
between sending and marking leaves a claim that expires after `lease_seconds`; the row is then
sent again with the same idempotency key (the e-mail Message-ID, the SMS OutId) and counted in
`reclaims` as a possible duplicate (only if its send had started: `sending_at` is committed just
before each send).

`send_pending(session_factory, config, limit=...)` is what a scheduler or `hezuo notify send` runs.
"""

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from ledger.base import utcnow
from notify.channels import PermanentFailure, TemporaryFailure
from notify.channels.email import SmtpSender, build_email, message_id
from notify.channels.sms import SmsProvider, provider_for
from notify.config import DeliveryConfig
from notify.content import Context, Message, Words, render
from notify.kinds import UNSUBSCRIBABLE
from notify.models import Channel, Notification, Status
from notify.unsubscribe import unsubscribe_url

logger = logging.getLogger("hezuo.notify")


@dataclass
class Counts:
    """What one run did (a scheduler may log or export it)."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dead: int = 0
    reclaimed: int = 0  # rows whose earlier send started but was never marked: maybe sent twice
    by_channel: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    kind: str
    channel: str
    address: str
    language: str
    payload: str
    idempotency_key: str
    attempts: int
    reclaimed: bool


def ready_channels(config: DeliveryConfig) -> list[str]:
    """Channels that can send now; rows of the others wait (visible to staff)."""
    channels = []
    if config.smtp_url:
        channels.append(Channel.email.value)
    if config.sms.provider in ("log", "aliyun"):
        channels.append(Channel.sms.value)
    return channels


def backoff(attempts: int, config: DeliveryConfig) -> timedelta:
    seconds = min(config.retry_base_seconds * 2 ** max(attempts - 1, 0), config.retry_max_seconds)
    return timedelta(seconds=seconds)


def claim(
    session: Session, *, channels: list[str], limit: int, lease_seconds: int, now: datetime
) -> list[Claimed]:
    """Take up to `limit` due rows for this worker (the caller commits)."""
    if not channels:
        return []
    free = or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < now)
    query = (
        select(Notification)
        .where(
            col(Notification.status) == Status.pending.value,
            col(Notification.channel).in_(channels),
            col(Notification.next_attempt_at) <= now,
            free,
        )
        .order_by(col(Notification.next_attempt_at), col(Notification.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    token = secrets.token_hex(16)
    taken: list[Claimed] = []
    for row in session.scalars(query).all():
        again = row.sending_at is not None  # a send started but its outcome was never marked
        result = session.execute(
            update(Notification)
            .where(
                col(Notification.id) == row.id,
                col(Notification.status) == Status.pending.value,
                free,
            )
            .values(
                claim_token=token,
                claimed_until=now + timedelta(seconds=lease_seconds),
                sending_at=None,
                attempts=Notification.attempts + 1,
                reclaims=Notification.reclaims + (1 if again else 0),
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(
                Claimed(
                    id=row.id or 0,
                    token=token,
                    kind=row.kind,
                    channel=row.channel,
                    address=row.address,
                    language=row.language,
                    payload=row.payload,
                    idempotency_key=row.idempotency_key,
                    attempts=row.attempts + 1,
                    reclaimed=again,
                )
            )
    return taken


def _finish(session: Session, claimed: Claimed, **values: Any) -> bool:
    """Mark the row only while our claim holds; False if another worker took it meanwhile."""
    result = session.execute(
        update(Notification)
        .where(col(Notification.id) == claimed.id, col(Notification.claim_token) == claimed.token)
        .values(claim_token=None, claimed_until=None, sending_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _start(session: Session, claimed: Claimed, at: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(col(Notification.id) == claimed.id, col(Notification.claim_token) == claimed.token)
        .values(sending_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class Senders:
    """The channels of one run: an SMTP connection reused for the batch, the SMS provider."""

    def __init__(self, config: DeliveryConfig, sms: SmsProvider | None = None) -> None:
        self.config = config
        self.smtp = (
            SmtpSender(config.smtp_url, timeout=config.smtp_timeout_seconds)
            if config.smtp_url
            else None
        )
        self.sms = sms if sms is not None else provider_for(config.sms)
        self.context = Context(config.public_url, config.timezone, config.payee)

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()

    def send(self, claimed: Claimed) -> None:
        message = render(claimed.kind, claimed.payload, claimed.language, self.context)
        if claimed.channel == Channel.email:
            self._email(claimed, message)
        elif claimed.channel == Channel.sms:
            self._sms(claimed, message)
        else:
            raise PermanentFailure(f"nothing sends on channel {claimed.channel}")

    def _email(self, claimed: Claimed, message: Message) -> None:
        if self.smtp is None:
            raise TemporaryFailure("no SMTP server configured")
        unsubscribe = (
            unsubscribe_url(
                self.config.public_url, self.config.secret_key, claimed.address, claimed.kind
            )
            if claimed.kind in UNSUBSCRIBABLE and self.config.secret_key
            else None
        )
        email = build_email(
            message,
            sender=self.config.mail_from,
            to=claimed.address,
            msg_id=message_id(claimed.idempotency_key, self.config.public_url),
            language=claimed.language,
            unsubscribe_url=unsubscribe,
        )
        self.smtp.send(email)

    def _sms(self, claimed: Claimed, message: Message) -> None:
        if self.sms is None:
            raise TemporaryFailure("no SMS provider configured")
        self.sms.send(
            phone=claimed.address,
            kind=claimed.kind,
            text=message.sms_text(),
            params=sms_params(claimed, message, Words(claimed.language, self.context)),
            out_id=claimed.idempotency_key,
        )


def sms_params(claimed: Claimed, message: Message, words: Words) -> dict[str, str]:
    """TemplateParam for a provider template: the amount, the order reference, the link."""
    data: Mapping[str, Any] = json.loads(claimed.payload)
    params = {"link": message.link}
    if "amount" in data and "currency" in data:
        params["amount"] = words.money(int(data["amount"]), str(data["currency"]))
    if "reference" in data:
        params["reference"] = str(data["reference"])
    if "code" in data:  # a password reset code (the template shows it)
        params["code"] = str(data["code"])
    return params


def send_pending(
    session_factory: sessionmaker[Session],
    config: DeliveryConfig | None = None,
    *,
    settings: Any = None,
    limit: int = 100,
    now: Callable[[], datetime] = utcnow,
    sms: SmsProvider | None = None,
) -> Counts:
    """Send up to `limit` due rows; safe to run in several processes at once.

    Given the HEZUO_ `settings` (as the jobs scheduler passes them) instead of a `config`, the
    config is read from them by name (notify never imports api).
    """
    if config is None:
        if settings is None:
            raise TypeError("send_pending needs a DeliveryConfig or the settings")
        config = DeliveryConfig.from_settings(settings)
    counts = Counts()
    with session_factory.begin() as session:
        batch = claim(
            session,
            channels=ready_channels(config),
            limit=limit,
            lease_seconds=config.lease_seconds,
            now=now(),
        )
    counts.claimed = len(batch)
    counts.reclaimed = sum(1 for c in batch if c.reclaimed)
    senders = Senders(config, sms)
    try:
        for claimed in batch:
            _deliver_one(session_factory, senders, claimed, config, counts, now)
    finally:
        senders.close()
    return counts


def _deliver_one(
    session_factory: sessionmaker[Session],
    senders: Senders,
    claimed: Claimed,
    config: DeliveryConfig,
    counts: Counts,
    now: Callable[[], datetime],
) -> None:
    with session_factory.begin() as session:
        if not _start(session, claimed, now()):
            return  # our claim expired and another worker has the row now
    try:
        senders.send(claimed)
    except PermanentFailure as error:
        with session_factory.begin() as session:
            _finish(session, claimed, status=Status.failed.value, last_error=str(error)[:500])
        counts.failed += 1
        return
    except (TemporaryFailure, Exception) as error:  # noqa: BLE001 — any other fault is retried
        if not isinstance(error, TemporaryFailure):
            logger.exception("notification %s: unexpected failure", claimed.id)
        gave_up = claimed.attempts >= config.max_attempts
        with session_factory.begin() as session:
            _finish(
                session,
                claimed,
                status=Status.dead.value if gave_up else Status.pending.value,
                next_attempt_at=now() + backoff(claimed.attempts, config),
                last_error=str(error)[:500],
            )
        if gave_up:
            counts.dead += 1
        else:
            counts.retrying += 1
        return
    with session_factory.begin() as session:
        _finish(session, claimed, status=Status.sent.value, sent_at=now(), last_error="")
    counts.sent += 1
    counts.by_channel[claimed.channel] = counts.by_channel.get(claimed.channel, 0) + 1
