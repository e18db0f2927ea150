"""Faults: the SMTP server going away mid-batch, a worker killed mid-batch, refused addresses,
messages that keep failing (dead letters), channels not configured, a wrong SMS signature."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from notify import inbox, outbox
from notify.models import Notification
from tests.orders.stripe_harness import free_port

ROOT = Path(__file__).resolve().parents[2]


def _record_guest_batch(factory, count: int, *, prefix: str = "batch") -> None:
    """`count` order e-mails to `count` guests, recorded as a domain would (one transaction)."""
    with factory.begin() as session:
        for n in range(count):
            outbox.record(
                session,
                kind="order_paid",
                event_key=f"{prefix}:{n}",
                audiences=[outbox.to_guest(email=f"buyer{n}@example.com", language="en")],
                payload={"reference": f"HZREF{n:05d}", "amount": 1000 + n, "currency": "CNY"},
            )


def _statuses(session) -> dict[str, int]:
    session.rollback()
    rows = session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    ).all()
    return {status: n for status, n in rows}


def test_smtp_stopped_during_a_batch_of_200_then_started_delivers_each_once(
    factory, session, smtp, mailbox, deliver
):
    _record_guest_batch(factory, 200)
    mailbox.stop_after = 60  # the server answers 421 from then on, and is then stopped

    def stop_when_told() -> None:
        mailbox.limit_reached.wait(30)
        smtp.stop()

    stopper = threading.Thread(target=stop_when_told)
    stopper.start()
    first = deliver(limit=500)
    stopper.join()

    assert first.claimed == 200
    assert first.sent == len(mailbox.messages) == 60
    assert first.retrying == 140
    assert _statuses(session) == {"sent": 60, "pending": 140}
    waiting = session.scalars(select(Notification).where(Notification.status == "pending")).all()
    assert all(row.last_error.startswith("SMTP") for row in waiting)

    # still down: nothing is lost, rows keep waiting with a longer backoff
    time.sleep(1.1)
    down = deliver(limit=500)
    assert (down.sent, down.retrying) == (0, 140)

    mailbox.stop_after = None
    smtp.start()
    time.sleep(2.1)  # the second retry waits 2 s (base 1 s, doubled)
    again = deliver(limit=500)

    assert again.sent == 140
    assert _statuses(session) == {"sent": 200}
    received = mailbox.by_message_id()
    assert len(received) == 200  # every notification arrived …
    assert set(received.values()) == {1}  # … exactly once
    assert inbox.possible_duplicates(session) == 0


def _worker(settings, smtp_url: str, limit: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HEZUO_ENV": "test",
        "HEZUO_DATABASE_URL": settings.database_url,
        "HEZUO_SECRET_KEY": settings.secret_key,
        "HEZUO_PUBLIC_URL": settings.public_url,
        "HEZUO_SMTP_URL": smtp_url,
        "HEZUO_NOTIFY_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "notify", "send", "--limit", str(limit)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_counts_duplicates(
    factory, session, smtp, mailbox, settings
):
    _record_guest_batch(factory, 200)
    mailbox.delay = 0.02  # slow enough to kill the worker in the middle of its batch
    worker = _worker(settings, smtp.url, 200)
    deadline = time.monotonic() + 60
    while len(mailbox.messages) < 40:
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
        assert time.monotonic() < deadline, "the worker sent nothing"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    # A message whose data the server had already taken is stored a little later (the server's
    # delay): let it land before counting what arrived.
    time.sleep(max(0.5, 10 * mailbox.delay))
    before_restart = len(mailbox.messages)
    sent_rows = _statuses(session).get("sent", 0)
    # killed mid-batch: at most the message in flight was sent but not marked; the rest waits
    assert before_restart - 1 <= sent_rows <= before_restart < 200

    time.sleep(2.2)  # the dead worker's claims expire
    restarted = _worker(settings, smtp.url, 200)
    out, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err.decode()

    received = mailbox.by_message_id()
    duplicates = sum(n - 1 for n in received.values())
    assert _statuses(session) == {"sent": 200}
    assert len(received) == 200  # nothing lost
    # At most the message in flight when the worker died arrives twice, with the same
    # Message-ID (so the receiving side can drop it), and it is counted as a possible duplicate.
    assert duplicates <= 1
    reclaimed = inbox.possible_duplicates(session)
    # counted: the send in flight when the worker died (if any), never the untouched rest
    assert duplicates <= reclaimed <= 1
    assert before_restart - sent_rows == duplicates  # the sent-but-unmarked one came again
    print(  # noqa: T201 — the counts the issue asks to report
        f"\nkilled after {before_restart} e-mails ({sent_rows} marked sent); restarted: "
        f"{len(received)} distinct delivered, {duplicates} duplicate(s) received, "
        f"{reclaimed} counted as possible duplicates; worker said: {out.decode().strip()}"
    )


def test_a_refused_address_is_recorded_and_not_retried_until_staff_say_so(
    factory, session, smtp, mailbox, deliver
):
    mailbox.refuse = ("buyer1@example.com",)
    _record_guest_batch(factory, 3)

    counts = deliver()

    assert (counts.sent, counts.failed) == (2, 1)
    session.rollback()
    bounced = session.scalars(
        select(Notification).where(Notification.address == "buyer1@example.com")
    ).one()
    assert bounced.status == "failed"
    assert "550" in bounced.last_error
    assert deliver().claimed == 0  # never retried by itself

    inbox.retry(session, bounced.id)
    session.commit()
    mailbox.refuse = ()
    assert deliver().sent == 1
    assert len(mailbox.to("buyer1@example.com")) == 1


def test_a_message_that_keeps_failing_becomes_a_dead_letter(factory, session, deliver):
    _record_guest_batch(factory, 1)
    nowhere = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    first = deliver(smtp_url=nowhere, notify_max_attempts=2)
    assert first.retrying == 1
    time.sleep(1.1)
    second = deliver(smtp_url=nowhere, notify_max_attempts=2)
    assert second.dead == 1
    assert _statuses(session) == {"dead": 1}
    assert deliver(smtp_url=nowhere).claimed == 0


def test_without_smtp_or_sms_settings_the_rows_wait(factory, session, deliver):
    _record_guest_batch(factory, 2)
    counts = deliver(smtp_url=None, sms_provider="none")
    assert counts.claimed == 0
    assert _statuses(session) == {"pending": 2}


def test_a_wrong_sms_secret_is_refused_by_the_provider_and_retried(
    factory, session, deliver, sms_endpoint
):
    with factory.begin() as s:
        outbox.record(
            s,
            kind="share_credited",
            event_key="share:1",
            audiences=[outbox.to_guest(email=None, phone="13900000001", language="zh-CN")],
            payload={"amount": 5712, "currency": "CNY"},
        )
        outbox.record(
            s,
            kind="share_credited",
            event_key="share:2",
            audiences=[outbox.to_guest(email=None, phone="not-a-number", language="zh-CN")],
            payload={"amount": 100, "currency": "CNY"},
        )
    wrong = deliver(sms_access_key_secret="not-the-secret")
    assert (wrong.sent, wrong.retrying) == (0, 2)
    assert sms_endpoint.calls == []
    session.rollback()
    errors = {row.last_error for row in session.scalars(select(Notification))}
    assert all("SignatureDoesNotMatch" in e for e in errors)

    time.sleep(1.1)
    right = deliver()
    assert (right.sent, right.failed) == (1, 1)  # the illegal number is not retried
    [call] = sms_endpoint.calls
    assert call["PhoneNumbers"] == "13900000001"
    assert call["OutId"]  # our idempotency key travels with the SMS


def test_two_workers_at_once_send_each_message_once(factory, session, smtp, mailbox, deliver):
    _record_guest_batch(factory, 120)
    mailbox.delay = 0.005
    results = []

    def work() -> None:
        while True:
            counts = deliver(limit=10)
            results.append(counts)
            if counts.claimed == 0:
                return

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)

    assert sum(c.sent for c in results) == 120
    received = mailbox.by_message_id()
    assert len(received) == 120
    assert set(received.values()) == {1}
    assert _statuses(session) == {"sent": 120}
