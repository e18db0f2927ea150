"""Ledger benchmark: sale-settlement entries through the posting service, against pgbench anchors.

`make bench` (``python -m bench``) runs, on one PostgreSQL server:

1. the "sale settlement" workload — one entry of 5 postings (Dr assets:clearing:stripe 10000;
   Cr a random one of 1,000 member payables 7000, the cooperative's collective fund 1000, its
   training fund 1000, enterprise income 1000) through ``ledger.service.post`` in-process, one
   transaction per entry, with 1 and 8 worker processes (each its own engine), for 10 s each;
2. the same workload on SQLite with 1 worker;
3. pgbench's built-in tpcb-like script (8 clients, 10 s, in its own database), and a custom
   script doing the least work any correct design must do — one transaction inserting the entry
   row and its 5 posting rows into plain copies of the ledger tables (no triggers, no balance
   rows), 8 clients, 10 s;
4. a fill to 100,000 entries (through the same service, many entries per commit), ANALYZE (this
   server runs with autovacuum off), then the median time of one member balance, one statement
   page and the full trial balance;
5. sealing every entry into hash-chained blocks, then one full verify of the chain.

It prints a table and writes bench/results/ledger.json. The PostgreSQL database (default
postgresql://root@127.0.0.1:5432/hezuo_bench, or HEZUO_BENCH_DATABASE_URL) is dropped and
re-created by each run, and dropped at the end; so is ``<name>_pgbench``.
"""

import argparse
import json
import multiprocessing as mp
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from api.database import create_db_engine, create_session_factory
from api.migrations import alembic_config
from api.settings import Settings

DEFAULT_URL = "postgresql://root@127.0.0.1:5432/hezuo_bench"
RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
CURRENCY = "CNY"
MEMBERS = 1_000
COOP_ID = 1
CLEARING = "assets:clearing:stripe"
COLLECTIVE = f"equity:coops:{COOP_ID}:collective-fund"
TRAINING = f"equity:coops:{COOP_ID}:training-fund"
ENTERPRISE = "income:enterprise:service-fees"


def member_key(n: int) -> str:
    return f"liabilities:members:{n}:payable"


# --- databases ---------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return Settings(database_url=url).database_url


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def database_name(url: str) -> str:
    name = make_url(url).database
    if not name:
        raise SystemExit(f"the benchmark URL {url!r} names no database")
    return name


def recreate_database(url: str, *, drop_only: bool = False) -> None:
    admin = create_engine(
        sqlalchemy_url(with_database(url, "postgres")), isolation_level="AUTOCOMMIT"
    )
    name = database_name(url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to drop a database with the name {name!r}")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def migrate(url: str) -> None:
    config = alembic_config(sqlalchemy_url(url))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def open_accounts(url: str) -> None:
    from ledger.models import AccountLimit, AccountType
    from ledger.service import open_account

    engine = create_db_engine(sqlalchemy_url(url))
    with create_session_factory(engine)() as session:
        open_account(session, key=CLEARING, type=AccountType.asset, currency=CURRENCY)
        for n in range(1, MEMBERS + 1):
            open_account(
                session,
                key=member_key(n),
                type=AccountType.liability,
                currency=CURRENCY,
                limit=AccountLimit.non_negative,
                party=f"household:{n}",
            )
        open_account(session, key=COLLECTIVE, type=AccountType.equity, currency=CURRENCY)
        open_account(session, key=TRAINING, type=AccountType.equity, currency=CURRENCY)
        open_account(session, key=ENTERPRISE, type=AccountType.income, currency=CURRENCY)
        session.commit()
    engine.dispose()


# --- the workload ------------------------------------------------------------------------------


def sale_entry(rng: random.Random, tag: str) -> Any:
    from ledger.models import Side
    from ledger.service import EntrySpec, PostingSpec

    member = member_key(rng.randint(1, MEMBERS))
    return EntrySpec(
        kind="sale",
        effective_date=date.today(),
        postings=(
            PostingSpec(account=CLEARING, side=Side.debit, amount=10_000, currency=CURRENCY),
            PostingSpec(account=member, side=Side.credit, amount=7_000, currency=CURRENCY),
            PostingSpec(account=COLLECTIVE, side=Side.credit, amount=1_000, currency=CURRENCY),
            PostingSpec(account=TRAINING, side=Side.credit, amount=1_000, currency=CURRENCY),
            PostingSpec(account=ENTERPRISE, side=Side.credit, amount=1_000, currency=CURRENCY),
        ),
        idempotency_key=f"bench-{tag}-{uuid.uuid4().hex}",
        reference=f"order:{tag}",
    )


def commit_entries(session_for: Callable[[], Session], specs: Sequence[Any]) -> int:
    """Post the specs in one transaction (the ledger's retrying runner); returns the retries."""
    from ledger.service import post
    from ledger.transactions import run_in_transaction

    attempts = 0

    def unit(session: Session) -> None:
        nonlocal attempts
        attempts += 1
        for spec in specs:
            post(session, spec)

    run_in_transaction(session_for, unit, attempts=20)
    return attempts - 1


@dataclass
class WorkerReport:
    entries: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)


def worker(
    url: str,
    index: int,
    seconds: float,
    batch: int,
    limit: int | None,
    ready: Any,
    start: Any,
    out: Any,
) -> None:
    """One process: its own engine, posting until the deadline (or ``limit`` entries)."""
    # One pinned connection per worker, used back to back: a liveness ping before every
    # transaction (the app's default) would only add a round trip per entry.
    engine = create_db_engine(sqlalchemy_url(url), pool_size=1, max_overflow=0, pool_pre_ping=False)
    factory = create_session_factory(engine)
    rng = random.Random(index * 7919 + os.getpid())
    report = WorkerReport()
    commit_entries(factory, [sale_entry(rng, f"warm-{index}")])  # connect + import before timing
    ready.release()
    start.wait()
    deadline = time.perf_counter() + seconds
    counter = 0
    while time.perf_counter() < deadline and (limit is None or report.entries < limit):
        specs = [sale_entry(rng, f"w{index}-{counter + i}") for i in range(batch)]
        counter += batch
        began = time.perf_counter()
        report.retries += commit_entries(factory, specs)
        report.latencies.append(time.perf_counter() - began)
        report.entries += batch
    engine.dispose()
    out.put((report.entries, report.retries, report.latencies))


@dataclass
class RunResult:
    label: str
    workers: int
    entries: int
    seconds: float
    retries: int
    latencies: list[float]

    @property
    def per_s(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_workers(
    url: str,
    label: str,
    *,
    workers: int,
    seconds: float,
    batch: int = 1,
    limit: int | None = None,
) -> RunResult:
    context = mp.get_context("spawn")
    ready = context.Semaphore(0)
    start = context.Event()
    out = context.Queue()
    procs = [
        context.Process(
            target=worker, args=(url, i, seconds, batch, limit, ready, start, out), daemon=True
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    for _ in procs:
        while not ready.acquire(timeout=1):
            _fail_if_dead(procs)
    began = time.perf_counter()
    start.set()
    reports: list[tuple[int, int, list[float]]] = []
    while len(reports) < len(procs):
        try:
            reports.append(out.get(timeout=1))
        except queue.Empty:
            _fail_if_dead(procs)
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a benchmark worker failed (exit {proc.exitcode})")
    latencies = [lat for _, _, lats in reports for lat in lats]
    return RunResult(
        label,
        workers,
        entries=sum(r[0] for r in reports),
        seconds=min(elapsed, seconds) if limit is None else elapsed,
        retries=sum(r[1] for r in reports),
        latencies=latencies,
    )


def _fail_if_dead(procs: list[Any]) -> None:
    dead = [proc for proc in procs if proc.exitcode not in (None, 0)]
    if dead:
        for proc in procs:
            proc.terminate()
        raise SystemExit(f"a benchmark worker failed (exit {dead[0].exitcode}); see its traceback")


# --- pgbench ------------------------------------------------------------------------------------

CUSTOM_TABLES = """
DROP TABLE IF EXISTS bench_postings;
DROP TABLE IF EXISTS bench_entries;
CREATE TABLE bench_entries
    (LIKE ledger_entries INCLUDING ALL EXCLUDING DEFAULTS EXCLUDING IDENTITY);
ALTER TABLE bench_entries ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;
CREATE TABLE bench_postings
    (LIKE ledger_postings INCLUDING ALL EXCLUDING DEFAULTS EXCLUDING IDENTITY);
ALTER TABLE bench_postings ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;
ALTER TABLE bench_postings ADD FOREIGN KEY (entry_id) REFERENCES bench_entries (id);
ALTER TABLE bench_postings ADD FOREIGN KEY (account_id) REFERENCES ledger_accounts (id);
"""

CUSTOM_SCRIPT = """\\set member random(:first_member, :last_member)
BEGIN;
INSERT INTO bench_entries (kind, effective_date, memo, reference, metadata, idempotency_key, content_hash, created_at)
    VALUES ('sale', CURRENT_DATE, '', 'order:pgbench', '{}', gen_random_uuid()::text,
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', now())
    RETURNING id AS entry_id \\gset
INSERT INTO bench_postings (entry_id, account_id, effective_date, amount, currency) VALUES
    (:entry_id, :clearing, CURRENT_DATE, 10000, 'CNY'),
    (:entry_id, :member, CURRENT_DATE, -7000, 'CNY'),
    (:entry_id, :collective, CURRENT_DATE, -1000, 'CNY'),
    (:entry_id, :training, CURRENT_DATE, -1000, 'CNY'),
    (:entry_id, :enterprise, CURRENT_DATE, -1000, 'CNY');
COMMIT;
"""


@dataclass
class PgbenchResult:
    label: str
    tps: float
    p50_ms: float
    p99_ms: float


def pgbench_connection_args(url: str) -> list[str]:
    parsed = make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    if parsed.username:
        args += ["-U", parsed.username]
    return args


def pgbench_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def run_pgbench(
    url: str, label: str, extra: list[str], *, clients: int, seconds: int
) -> PgbenchResult:
    with tempfile.TemporaryDirectory(prefix="hezuo-pgbench-") as logdir:
        completed = subprocess.run(
            [
                "pgbench",
                "-n",
                "-c",
                str(clients),
                "-j",
                str(clients),
                "-T",
                str(seconds),
                "-l",
                "--log-prefix",
                str(Path(logdir) / "log"),
                *extra,
                *pgbench_connection_args(url),
                database_name(url),
            ],
            capture_output=True,
            text=True,
            env=pgbench_env(url),
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"pgbench failed:\n{completed.stdout}\n{completed.stderr}")
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout)
        if match is None:
            raise SystemExit(f"pgbench printed no tps:\n{completed.stdout}")
        latencies = sorted(
            int(line.split()[2]) / 1000
            for log in Path(logdir).glob("log*")
            for line in log.read_text().splitlines()
            if line.strip()
        )
    p50 = latencies[len(latencies) // 2] if latencies else float("nan")
    p99 = (
        latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else float("nan")
    )
    return PgbenchResult(label, float(match.group(1)), p50, p99)


def pgbench_tpcb(url: str, *, clients: int, seconds: int) -> PgbenchResult:
    pgbench_url = with_database(url, f"{database_name(url)}_pgbench")
    recreate_database(pgbench_url)
    try:
        init = subprocess.run(
            [
                "pgbench",
                "-i",
                "-q",
                *pgbench_connection_args(pgbench_url),
                database_name(pgbench_url),
            ],
            capture_output=True,
            text=True,
            env=pgbench_env(pgbench_url),
            check=False,
        )
        if init.returncode != 0:
            raise SystemExit(f"pgbench -i failed:\n{init.stderr}")
        return run_pgbench(
            pgbench_url, "pgbench tpcb-like (scale 1)", [], clients=clients, seconds=seconds
        )
    finally:
        recreate_database(pgbench_url, drop_only=True)


def pgbench_custom(url: str, *, clients: int, seconds: int) -> PgbenchResult:
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.execute(text(CUSTOM_TABLES))
        ids = _account_ids(conn)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write(CUSTOM_SCRIPT)
        variables = [f"-D{name}={value}" for name, value in ids.items()]
        return run_pgbench(
            url,
            "pgbench custom (entry + 5 postings)",
            ["-f", script.name, *variables],
            clients=clients,
            seconds=seconds,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_postings; DROP TABLE bench_entries"))
        engine.dispose()


def _account_ids(conn: Any) -> dict[str, int]:
    def one(key: str) -> int:
        return int(
            conn.execute(
                text("SELECT id FROM ledger_accounts WHERE key = :k"), {"k": key}
            ).scalar_one()
        )

    first, last = conn.execute(
        text("SELECT min(id), max(id) FROM ledger_accounts WHERE key LIKE 'liabilities:members:%'")
    ).one()
    if last - first + 1 != MEMBERS:
        raise SystemExit("member payable accounts are not one contiguous id range")
    return {
        "clearing": one(CLEARING),
        "collective": one(COLLECTIVE),
        "training": one(TRAINING),
        "enterprise": one(ENTERPRISE),
        "first_member": int(first),
        "last_member": int(last),
    }


# --- reads at scale -------------------------------------------------------------------------------


def count_entries(url: str) -> int:
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one())
    engine.dispose()
    return count


def fill(url: str, target: int, *, workers: int, batch: int) -> RunResult | None:
    """Post sale entries (``batch`` per commit, through the service) until ``target`` exist."""
    missing = target - count_entries(url)
    if missing <= 0:
        return None
    per_worker = -(-missing // workers)
    per_worker = -(-per_worker // batch) * batch
    return run_workers(url, "fill", workers=workers, seconds=3600, batch=batch, limit=per_worker)


def analyze(url: str) -> bool:
    """Refresh the planner's statistics after the fill; True when autovacuum is on (it would
    do this itself, later). This server runs with autovacuum off, which leaves a freshly filled
    table with the estimates of an empty one and the planner choosing scans accordingly."""
    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        autovacuum = str(conn.execute(text("SHOW autovacuum")).scalar_one()) == "on"
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return autovacuum


def server_version(url: str) -> str:
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        version = str(conn.execute(text("SHOW server_version")).scalar_one())
    engine.dispose()
    return version


def median_ms(action: Callable[[], object], *, runs: int) -> float:
    action()  # warm caches and the connection
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append(1000 * (time.perf_counter() - began))
    return statistics.median(timings)


@dataclass
class ReadTimings:
    balance_ms: float
    statement_ms: float
    trial_balance_ms: float
    hot_balance_ms: float


def time_reads(url: str, *, runs: int) -> ReadTimings:
    from ledger import service

    engine = create_db_engine(sqlalchemy_url(url))
    factory = create_session_factory(engine)
    member = member_key(1)

    def timed(call: Callable[[Session], object]) -> float:
        def action() -> None:
            with factory() as session:
                call(session)
                session.rollback()

        return median_ms(action, runs=runs)

    result = ReadTimings(
        balance_ms=timed(lambda s: service.balance(s, member)),
        statement_ms=timed(lambda s: service.statement(s, member, limit=50)),
        trial_balance_ms=timed(lambda s: service.trial_balance(s)),
        hot_balance_ms=timed(lambda s: service.balance(s, CLEARING)),
    )
    engine.dispose()
    return result


@dataclass
class SealTimings:
    seal_s: float
    blocks: int
    verify_ms: float
    verified_ok: bool


def seal_and_verify(url: str) -> SealTimings:
    """Seal every entry (blocks of 10,000, one commit each), then verify the whole chain once."""
    from ledger import service

    engine = create_db_engine(sqlalchemy_url(url))
    factory = create_session_factory(engine)
    blocks = 0
    began = time.perf_counter()
    while True:
        with factory() as session:
            block = service.seal_pending(session)
            session.commit()
        if block is None:
            break
        blocks += 1
    seal_s = time.perf_counter() - began
    with factory() as session:
        began = time.perf_counter()
        report = service.verify(session)
        verify_ms = 1000 * (time.perf_counter() - began)
    engine.dispose()
    return SealTimings(seal_s, blocks, verify_ms, bool(report["ok"]))


# --- the run -------------------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="hezuo-bench-") as workdir:
        url = f"sqlite:///{workdir}/bench.db"
        migrate(url)
        open_accounts(url)
        yield url


def ratio(value: float, anchor: float) -> float:
    return round(value / anchor, 3) if anchor else float("nan")


def print_table(
    runs: list[RunResult], anchors: list[PgbenchResult], custom: PgbenchResult, tpcb: PgbenchResult
) -> None:
    header = (
        f"{'workload':<44} {'workers':>7} {'entries/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'retries':>7} {'÷custom':>8} {'÷tpcb':>7}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        print(
            f"{run.label:<44} {run.workers:>7} {run.per_s:>10.0f} {run.percentile_ms(0.5):>8.2f}"
            f" {run.percentile_ms(0.99):>8.2f} {run.retries:>7}"
            f" {ratio(run.per_s, custom.tps):>8.2f} {ratio(run.per_s, tpcb.tps):>7.2f}"
        )
    for anchor in anchors:
        print(
            f"{anchor.label:<44} {8:>7} {anchor.tps:>10.0f} {anchor.p50_ms:>8.2f}"
            f" {anchor.p99_ms:>8.2f} {'':>7} {ratio(anchor.tps, custom.tps):>8.2f}"
            f" {ratio(anchor.tps, tpcb.tps):>7.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("HEZUO_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=10, help="per timed run (default 10)")
    parser.add_argument("--workers", type=int, default=8, help="the concurrent run (default 8)")
    parser.add_argument("--entries", type=int, default=100_000, help="fill target for the reads")
    parser.add_argument("--read-runs", type=int, default=9, help="timings per read (median)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)

    url: str = args.url
    load_before = os.getloadavg()[0]
    print(
        f"ledger benchmark on {make_url(url).render_as_string(hide_password=True)}, "
        f"{os.cpu_count()} cores, {args.seconds} s per run",
        flush=True,
    )
    recreate_database(url)
    try:
        migrate(url)
        open_accounts(url)
        print("pgbench anchors ...", flush=True)
        tpcb = pgbench_tpcb(url, clients=args.workers, seconds=args.seconds)
        custom = pgbench_custom(url, clients=args.workers, seconds=args.seconds)
        print("sale settlement through ledger.service.post ...", flush=True)
        runs = [
            run_workers(url, "sale settlement, PostgreSQL", workers=1, seconds=args.seconds),
            run_workers(
                url, "sale settlement, PostgreSQL", workers=args.workers, seconds=args.seconds
            ),
        ]
        with sqlite_database() as sqlite_url:
            runs.append(
                run_workers(sqlite_url, "sale settlement, SQLite", workers=1, seconds=args.seconds)
            )
        print(f"filling to {args.entries} entries ...", flush=True)
        filled = fill(url, args.entries, workers=args.workers, batch=200)
        entries = count_entries(url)
        autovacuum = analyze(url)
        reads = time_reads(url, runs=args.read_runs)
        seals = seal_and_verify(url)
        server = server_version(url)
    finally:
        if not args.keep:
            recreate_database(url, drop_only=True)

    print()
    print_table(runs, [custom, tpcb], custom, tpcb)
    print()
    if filled is not None:
        print(
            f"fill: {filled.entries} entries in {filled.seconds:.1f} s ({filled.per_s:.0f}/s, 200 per commit)"
        )
    print(
        f"at {entries} entries (median of {args.read_runs}; ANALYZE after the fill, "
        f"autovacuum {'on' if autovacuum else 'off'} on this server):"
    )
    print(f"  member balance       {reads.balance_ms:8.2f} ms   (target < 10)")
    print(f"  statement page (50)  {reads.statement_ms:8.2f} ms   (target < 10)")
    print(f"  trial balance        {reads.trial_balance_ms:8.2f} ms   (target < 500)")
    print(f"  clearing balance     {reads.hot_balance_ms:8.2f} ms   (hot account, for information)")
    print(
        f"  sealing all entries  {seals.seal_s:8.2f} s    ({seals.blocks} blocks, after the fact)"
    )
    print(
        f"  verify (whole chain) {seals.verify_ms:8.0f} ms   "
        f"({'ok' if seals.verified_ok else 'MISMATCH'})"
    )

    pg_w1, pg_w8, sqlite_w1 = runs
    results = {
        "entries_per_s_w1": round(pg_w1.per_s, 1),
        "entries_per_s_w8": round(pg_w8.per_s, 1),
        "entries_per_s_sqlite_w1": round(sqlite_w1.per_s, 1),
        "p50_ms_w1": round(pg_w1.percentile_ms(0.5), 3),
        "p99_ms_w1": round(pg_w1.percentile_ms(0.99), 3),
        "p50_ms_w8": round(pg_w8.percentile_ms(0.5), 3),
        "p99_ms_w8": round(pg_w8.percentile_ms(0.99), 3),
        "retries_w8": pg_w8.retries,
        "pgbench_custom_tps_w8": round(custom.tps, 1),
        "pgbench_tpcb_tps_w8": round(tpcb.tps, 1),
        "ratio_custom_w8": ratio(pg_w8.per_s, custom.tps),
        "ratio_tpcb_w8": ratio(pg_w8.per_s, tpcb.tps),
        "balance_ms": round(reads.balance_ms, 3),
        "statement_ms": round(reads.statement_ms, 3),
        "trial_balance_ms": round(reads.trial_balance_ms, 3),
        "hot_balance_ms": round(reads.hot_balance_ms, 3),
        "autovacuum": autovacuum,
        "seal_all_s": round(seals.seal_s, 3),
        "verify_ms": round(seals.verify_ms, 1),
        "verify_ok": seals.verified_ok,
        "entries": entries,
        "cores": os.cpu_count(),
        # Other processes on the machine skew every figure: compare runs at similar load.
        "load_avg_1min_before": round(load_before, 2),
        "load_avg_1min_after": round(os.getloadavg()[0], 2),
        "seconds_per_run": args.seconds,
        "workers": args.workers,
        "postgresql_server": server,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"\nload average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        f" on {os.cpu_count()} cores; wrote {args.output}"
    )
    return 0
