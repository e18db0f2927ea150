"""A Jepsen-style "bank" test on PostgreSQL: many processes post at once and nothing breaks.

Eight writer processes (each with its own engine) post random balanced transfers among ~50
accounts: three hot ones touched by most entries, twenty member payables that may never go below
zero and are kept near zero so the limit is really contested. Some posts drop their connection
(before or after COMMIT) and retry with the same idempotency key; some keys are shared between
writers, which race to post the same content. Meanwhile readers take trial balances. Checked:
every read balances per currency and shows no limited account below zero; every acknowledged
entry exists exactly once, with the id it was acknowledged with; nothing else was stored.
"""

import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from core.errors import DomainError
from ledger import service
from ledger.errors import LimitExceeded
from ledger.models import AccountLimit, AccountType, JournalEntry, Side

pytestmark = pytest.mark.postgres_only

WRITERS = 8
READERS = 2
SECONDS = 3.0
HOT = ["assets:clearing:stripe", "income:enterprise:service-fees", "equity:coops:1:collective-fund"]
MEMBERS = [f"liabilities:members:{i}:payable" for i in range(6)]
OTHERS = [f"assets:bank:{i}" for i in range(36)]
USD = ["assets:usd:0", "assets:usd:1", "liabilities:usd:0", "liabilities:usd:1", "income:usd:0"]
TYPES = {
    "assets": AccountType.asset,
    "liabilities": AccountType.liability,
    "income": AccountType.income,
    "equity": AccountType.equity,
}


def _open_accounts(session: Session) -> None:
    for key in HOT + MEMBERS + OTHERS + USD:
        service.open_account(
            session,
            key=key,
            type=TYPES[key.split(":")[0]],
            currency="USD" if key in USD else "CNY",
            limit=AccountLimit.non_negative if key in MEMBERS else AccountLimit.none,
        )
    session.commit()


def _transfer(rng: random.Random, key: str) -> service.EntrySpec:
    if rng.random() < 0.1:
        pool, currency = USD, "USD"
        debit, credit = rng.sample(pool, 2)
        credits = [(credit, rng.randint(1, 500))]
    else:
        currency = "CNY"
        pool = HOT * 4 + MEMBERS * 5 + OTHERS
        debit = rng.choice(pool)
        amount = rng.randint(1, 150)
        first = rng.choice([k for k in pool if k != debit])
        if rng.random() < 0.5:
            second = rng.choice([k for k in pool if k not in (debit, first)])
            part = rng.randint(1, amount)
            credits = [(first, part)] + ([(second, amount - part)] if amount > part else [])
        else:
            credits = [(first, amount)]
    total = sum(a for _, a in credits)
    postings = [service.PostingSpec(debit, Side.debit, total, currency)]
    postings += [service.PostingSpec(k, Side.credit, a, currency) for k, a in credits]
    return service.EntrySpec(
        kind="transfer",
        effective_date=date.today(),
        postings=tuple(postings),
        idempotency_key=key,
    )


def _poster(spec: service.EntrySpec) -> Callable[[Session], service.PostResult]:
    return lambda session: service.post(session, spec)


def _writer(url: str, worker: int, results: Any) -> None:
    from api.database import create_db_engine, create_session_factory

    engine = create_db_engine(url, pool_size=1, max_overflow=0)
    factory = create_session_factory(engine)
    rng = random.Random(worker)
    acked: dict[str, int] = {}
    refused = Counter[str]()
    end = time.monotonic() + SECONDS
    n = 0
    while time.monotonic() < end:
        n += 1
        if rng.random() < 0.15:
            # A key every writer may race for; its content depends only on the key.
            shared = rng.randint(0, 60)
            key, spec = f"shared-{shared}", _transfer(random.Random(shared), f"shared-{shared}")
        else:
            key = f"w{worker}-{n}"
            spec = _transfer(rng, key)
        drop = rng.random()
        try:
            if drop < 0.05:
                # The connection dies before COMMIT: nothing was stored; retry the same key.
                with factory() as session:
                    service.post(session, spec)
                    session.connection().invalidate()
                    try:
                        session.commit()
                    except Exception:  # noqa: BLE001 - the point is that it fails
                        session.rollback()
            elif drop < 0.10:
                # COMMIT went through but the answer was lost: the retry must replay it.
                with factory() as session:
                    service.post(session, spec)
                    session.commit()
                    session.connection().invalidate()
            result = service.run_in_transaction(factory, _poster(spec))
        except LimitExceeded:
            refused["limit"] += 1
            continue
        except DomainError as error:
            refused[type(error).__name__] += 1
            continue
        if key in acked:
            assert acked[key] == result.entry.id, "a replay answered with another entry"
        acked[key] = int(result.entry.id or 0)
    engine.dispose()
    results.put(("writer", worker, acked, dict(refused), n))


def _reader(url: str, worker: int, results: Any) -> None:
    from api.database import create_db_engine, create_session_factory

    engine = create_db_engine(url, pool_size=1, max_overflow=0)
    factory = create_session_factory(engine)
    reads, problems = 0, []
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        with factory() as session:
            report = service.trial_balance(session)
        reads += 1
        for total in report.totals:
            if total.debits != total.credits:
                problems.append(f"{total.currency}: {total.debits} != {total.credits}")
        for line in report.accounts:
            if line.key in MEMBERS and line.balance < 0:
                problems.append(f"{line.key} at {line.balance}")
    engine.dispose()
    results.put(("reader", worker, reads, problems))


def test_bank(session: Session, database_url: str) -> None:
    _open_accounts(session)
    # Fund the members a little, so limited accounts are contested around zero.
    for i, member in enumerate(MEMBERS):
        service.post(
            session,
            service.EntrySpec(
                kind="opening",
                effective_date=date.today(),
                postings=(
                    service.PostingSpec(OTHERS[i], Side.debit, 200, "CNY"),
                    service.PostingSpec(member, Side.credit, 200, "CNY"),
                ),
                idempotency_key=f"fund-{member}",
            ),
        )
    session.commit()

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_writer, args=(database_url, w, results)) for w in range(WRITERS)
    ]
    processes += [
        context.Process(target=_reader, args=(database_url, r, results)) for r in range(READERS)
    ]
    for process in processes:
        process.start()
    messages = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    acked: dict[str, int] = {}
    refused: Counter[str] = Counter()
    reads = 0
    for message in messages:
        if message[0] == "writer":
            _, _, worker_acked, worker_refused, _ = message
            for key, entry_id in worker_acked.items():
                assert acked.setdefault(key, entry_id) == entry_id, (
                    f"{key} acknowledged as two entries"
                )
            refused.update(worker_refused)
        else:
            _, _, worker_reads, problems = message
            assert problems == [], problems[:5]
            reads += worker_reads

    session.rollback()
    stored = dict(
        session.execute(
            select(col(JournalEntry.idempotency_key), col(JournalEntry.id)).where(
                col(JournalEntry.kind) == "transfer"
            )
        )
        .tuples()
        .all()
    )
    assert stored == acked, "every acknowledged entry exactly once, with its id, and nothing else"
    per_key = session.execute(
        select(func.count(), func.count(func.distinct(JournalEntry.idempotency_key)))
    ).one()
    assert per_key[0] == per_key[1]
    final = service.trial_balance(session)
    assert all(t.debits == t.credits for t in final.totals)
    assert all(line.balance >= 0 for line in final.accounts if line.key in MEMBERS)
    report = service.verify(session)
    assert report["unbalanced_entries"] == []
    assert report["content_mismatches"] == []
    # The test exercised what it claims to.
    print(f"bank: {len(acked)} entries acknowledged, refused {dict(refused)}, {reads} reads")  # noqa: T201
    assert len(acked) >= WRITERS * 5, len(acked)
    assert refused["limit"] > 0
    assert reads > 10
    assert any(key.startswith("shared-") for key in acked)
