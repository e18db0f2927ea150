"""The `hezuo` command: serve, db upgrade, demo load, user create (see docs/api.md)."""

import argparse
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from api.settings import DEFAULT_JOB_SCHEDULES, Settings

Command = Callable[[argparse.Namespace, Settings], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    # JSON logs: uvicorn's own loggers go through the app's handler instead of its plain format.
    logging = {"log_config": None} if settings.log_format == "json" else {}
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **logging,  # type: ignore[arg-type]
    )
    return 0


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from api.migrations import upgrade

    upgrade(settings.database_url)
    print(f"database at head: {_safe_url(settings.database_url)}")
    return 0


def _demo_load(_args: argparse.Namespace, settings: Settings) -> int:
    from api.database import create_db_engine, create_session_factory
    from api.demo import DemoRefused, load_demo

    engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            created = load_demo(session, settings=settings)
    except DemoRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print("\n".join(f"created {line}" for line in created) or "demo data already loaded")
    return 0


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    from api import service
    from api.database import create_db_engine, create_session_factory
    from api.models import Role
    from core.errors import DomainError

    engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            user = service.create_user(
                session,
                email=args.email,
                password=args.password,
                role=Role(args.role),
                coop_id=args.coop,
                household_id=args.household,
            )
            user_id = user.id
    except DomainError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(user_id)
    return 0


def _ledger_seal(args: argparse.Namespace, settings: Settings) -> int:
    from api.database import create_db_engine, create_session_factory
    from ledger import service

    engine = create_db_engine(settings.database_url)
    factory = create_session_factory(engine)
    sealed = 0
    try:
        # One block per transaction, retried on serialization failures; until nothing is left.
        while True:
            block = service.run_in_transaction(
                factory,
                lambda session: service.seal_pending(
                    session, min_age_seconds=args.min_age, max_entries=args.batch
                ),
            )
            if block is None:
                break
            sealed += block.entry_count
            print(f"block {block.id}: {block.entry_count} entries, hash {block.hash}")
    finally:
        engine.dispose()
    print(f"sealed {sealed} entries")
    return 0


def _ledger_verify(_args: argparse.Namespace, settings: Settings) -> int:
    import json

    from api.database import create_db_engine, create_session_factory
    from ledger import service

    engine = create_db_engine(settings.database_url, sqlite_immediate=False)
    try:
        with create_session_factory(engine)() as session:
            report = service.verify(session)
    finally:
        engine.dispose()
    print(json.dumps(report, indent=2, default=str))
    return 0 if report["ok"] else 1


def _orders_run(args: argparse.Namespace, settings: Settings) -> int:
    """`orders auto-deliver` / `orders expire`: one transaction, prints the order ids it moved."""
    from api.database import create_db_engine, create_session_factory
    from api.policies import order_policy
    from orders import fulfilment

    engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            if args.orders_command == "auto-deliver":
                days = args.days or order_policy(settings).auto_deliver_days
                moved = fulfilment.auto_deliver(session, days=days)
            else:
                moved = fulfilment.expire_orders(session)
    finally:
        engine.dispose()
    verb = "delivered and settled" if args.orders_command == "auto-deliver" else "expired"
    print(f"{verb} {len(moved)} order(s)" + (": " + ", ".join(map(str, moved)) if moved else ""))
    return 0


def _stripe_sync(_args: argparse.Namespace, settings: Settings) -> int:
    """`stripe sync`: Stripe balance transactions and payouts since the last sync, in one transaction."""
    from api.database import create_db_engine, create_session_factory
    from orders.stripe_gateway import StripeGateway
    from orders.stripe_sync import sync

    if not settings.stripe_secret_key:
        print("Stripe is not configured (set HEZUO_STRIPE_SECRET_KEY)", file=sys.stderr)
        return 2
    gateway = StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
    engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            result = sync(session, gateway=gateway, created_by="cli")
    finally:
        engine.dispose()
    print(
        f"fetched {result.fetched}, new {result.new}, matched {result.matched}, "
        f"fees posted {result.fees_posted}, payouts posted {result.payouts_posted}"
    )
    for item in result.unmatched:
        print(f"unmatched: {item}")
    return 0


def _governance_monitor(args: argparse.Namespace, settings: Settings) -> int:
    """`governance monitor`: recompute households' income figures and alerts (idempotent)."""
    from datetime import date

    from api.database import create_db_engine, create_session_factory
    from governance.monitoring import run_monitor

    as_of = date.fromisoformat(args.as_of) if args.as_of else None
    engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(engine).begin() as session:
            result = run_monitor(session, as_of=as_of)
    finally:
        engine.dispose()
    print(
        f"monitored {result.households} household(s) as of {result.as_of}: "
        f"opened {len(result.opened)} alert(s), refreshed {len(result.refreshed)}"
    )
    return 0


def _worker(_args: argparse.Namespace, settings: Settings) -> int:
    """`worker`: run every scheduled job until SIGTERM/SIGINT (production's job process)."""
    import signal
    import threading

    from api.database import create_db_engine, create_session_factory
    from api.jobs.scheduler import build_scheduler
    from api.logs import configure_logging

    configure_logging(settings)
    engine = create_db_engine(settings.database_url)
    scheduler = build_scheduler(settings, factory=create_session_factory(engine), engine=engine)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    print(f"worker running {len(scheduler.get_jobs())} job(s); stop with SIGTERM", flush=True)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        engine.dispose()
    return 0


def _jobs_run(args: argparse.Namespace, settings: Settings) -> int:
    """`jobs run NAME`: run one job now (recorded like a staff "run now"); exit 1 if it failed."""
    from api.database import create_db_engine, create_session_factory
    from api.jobs.models import RunStatus, RunTrigger
    from api.jobs.registry import job_named
    from api.jobs.runner import run_tick
    from ledger.base import utcnow

    spec = job_named(args.name)
    assert spec is not None  # argparse's choices
    if not spec.available(settings):
        print(f"{spec.name} is not available with these settings", file=sys.stderr)
        return 2
    engine = create_db_engine(settings.database_url)
    try:
        status = run_tick(
            spec,
            utcnow(),
            factory=create_session_factory(engine),
            engine=engine,
            settings=settings,
            trigger=RunTrigger.manual,
            requested_by="cli",
        )
    finally:
        engine.dispose()
    print(f"{spec.name}: {status or 'claimed by another process'}")
    return 0 if status == RunStatus.succeeded else 1


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    """`backup DIR`: the database (pg_dump custom format, or SQLite's online backup) and media."""
    from pathlib import Path

    from api.backup import BackupRefused, backup

    try:
        result = backup(settings, Path(args.directory))
    except BackupRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    rows = sum(result.tables.values())
    print(
        f"backed up {len(result.tables)} tables ({rows} rows) and {result.media_files} media "
        f"file(s) to {result.directory}"
    )
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    """`restore DIR`: into an empty database only; then run `hezuo ledger verify`."""
    from pathlib import Path

    from api.backup import BackupRefused, restore

    try:
        manifest = restore(settings, Path(args.directory))
    except BackupRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    print(
        f"restored the backup of {manifest['created_at']} (revision {manifest['revision']}) "
        f"into {_safe_url(settings.database_url)}; now run `hezuo ledger verify`"
    )
    return 0


def _notify_send(args: argparse.Namespace, settings: Settings) -> int:
    """`notify send`: deliver due e-mail and SMS notifications (until none is due, or one batch)."""
    from api.database import create_db_engine, create_session_factory
    from api.wiring import send_notifications

    engine = create_db_engine(settings.database_url)
    factory = create_session_factory(engine)
    try:
        while True:
            counts = send_notifications(factory, settings, limit=args.limit)
            print(
                f"sent {counts.sent}, retrying {counts.retrying}, failed {counts.failed}, "
                f"dead {counts.dead}, possible duplicates {counts.reclaimed}",
                flush=True,
            )
            if args.once or counts.claimed == 0 or counts.sent == 0:
                break
    finally:
        engine.dispose()
    return 0


def _notify_status(_args: argparse.Namespace, settings: Settings) -> int:
    """`notify status`: the outbox by status, and sends possibly repeated after a crash."""
    from api.database import create_db_engine, create_session_factory
    from notify import inbox

    engine = create_db_engine(settings.database_url, sqlite_immediate=False)
    try:
        with create_session_factory(engine)() as session:
            summary = inbox.outbox_summary(session)
            duplicates = inbox.possible_duplicates(session)
    finally:
        engine.dispose()
    print(", ".join(f"{status} {n}" for status, n in sorted(summary.items())))
    print(f"possible duplicates {duplicates}")
    return 0


def _safe_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hezuo", description="Hezuo 合作 command line")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the app with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database commands").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate the configured database to head").set_defaults(
        handler=_db_upgrade
    )

    demo = commands.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    demo.add_parser("load", help="load the demo cooperative (idempotent)").set_defaults(
        handler=_demo_load
    )

    user = commands.add_parser("user", help="users").add_subparsers(
        dest="user_command", required=True
    )
    create = user.add_parser("create", help="create a user and print its id")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument(
        "--role",
        required=True,
        choices=["buyer", "farmer", "manager", "staff", "admin", "auditor", "social_worker"],
    )
    create.add_argument("--coop", type=int)
    create.add_argument("--household", type=int)
    create.set_defaults(handler=_user_create)

    ledger = commands.add_parser("ledger", help="ledger sealing and verification").add_subparsers(
        dest="ledger_command", required=True
    )
    seal = ledger.add_parser("seal", help="seal committed entries into hash-chained blocks")
    seal.add_argument("--min-age", type=float, default=0.0, help="only entries older (seconds)")
    seal.add_argument("--batch", type=int, default=10_000, help="entries per block")
    seal.set_defaults(handler=_ledger_seal)
    ledger.add_parser(
        "verify", help="recompute the seal chain; exit 1 and name the first mismatch"
    ).set_defaults(handler=_ledger_verify)
    orders = commands.add_parser("orders", help="order jobs").add_subparsers(
        dest="orders_command", required=True
    )
    deliver = orders.add_parser("auto-deliver", help="take orders shipped N days ago as delivered")
    deliver.add_argument("--days", type=int, help="days after shipping (default: settings)")
    deliver.set_defaults(handler=_orders_run)
    orders.add_parser("expire", help="expire unpaid orders past their reservation").set_defaults(
        handler=_orders_run
    )
    stripe_commands = commands.add_parser("stripe", help="Stripe jobs").add_subparsers(
        dest="stripe_command", required=True
    )
    stripe_commands.add_parser(
        "sync", help="fetch Stripe balance transactions since the last sync; post fees, payouts"
    ).set_defaults(handler=_stripe_sync)
    governance = commands.add_parser("governance", help="governance jobs").add_subparsers(
        dest="governance_command", required=True
    )
    monitor = governance.add_parser("monitor", help="recompute household monitoring and alerts")
    monitor.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
    monitor.set_defaults(handler=_governance_monitor)
    backup_command = commands.add_parser(
        "backup", help="back up the database and media into a new directory"
    )
    backup_command.add_argument("directory")
    backup_command.set_defaults(handler=_backup)
    restore_command = commands.add_parser(
        "restore", help="restore a backup directory into an empty database"
    )
    restore_command.add_argument("directory")
    restore_command.set_defaults(handler=_restore)
    commands.add_parser(
        "worker", help="run the scheduled jobs (expiry, sealing, sync, monitoring, notifications)"
    ).set_defaults(handler=_worker)
    jobs = commands.add_parser("jobs", help="scheduled jobs").add_subparsers(
        dest="jobs_command", required=True
    )
    run_job = jobs.add_parser("run", help="run one job now, recorded in its run history")
    run_job.add_argument("name", choices=DEFAULT_JOB_SCHEDULES)
    run_job.set_defaults(handler=_jobs_run)
    notify = commands.add_parser("notify", help="notifications").add_subparsers(
        dest="notify_command", required=True
    )
    send = notify.add_parser("send", help="send due e-mail and SMS notifications")
    send.add_argument("--limit", type=int, default=100, help="rows per batch")
    send.add_argument("--once", action="store_true", help="one batch only")
    send.set_defaults(handler=_notify_send)
    notify.add_parser("status", help="the outbox by status").set_defaults(handler=_notify_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    from api.wiring import connect_domains

    connect_domains()
    handler: Command = args.handler
    return handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
