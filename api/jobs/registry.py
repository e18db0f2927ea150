"""The periodic jobs: each one is a function of (session factory, settings) returning a summary.

Each job opens and commits its own unit(s) of work, the same way its `hezuo` command does, so a
job and its command never disagree. The schedules are settings (HEZUO_JOB_SCHEDULES).
"""

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

import api.tables  # noqa: F401  (every table known, so foreign keys resolve in a worker)
from api.policies import order_policy
from api.settings import Settings

SessionFactory = sessionmaker[Session]
JobFunction = Callable[[SessionFactory, Settings], str]

# The delivery function of the notifications issue; the job exists only once that module does.
NOTIFY_MODULE = "notify.delivery"


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    describe: str  # untranslated English; pages translate it through the catalog
    available: Callable[[Settings], bool] = lambda _settings: True


def expire_orders(factory: SessionFactory, _settings: Settings) -> str:
    from orders import fulfilment

    with factory.begin() as session:
        moved = fulfilment.expire_orders(session)
    return f"expired {len(moved)} order(s)" + (f": {_ids(moved)}" if moved else "")


def auto_deliver(factory: SessionFactory, settings: Settings) -> str:
    from orders import fulfilment

    days = order_policy(settings).auto_deliver_days
    with factory.begin() as session:
        moved = fulfilment.auto_deliver(session, days=days)
    return f"delivered and settled {len(moved)} order(s)" + (f": {_ids(moved)}" if moved else "")


def seal_ledger(factory: SessionFactory, _settings: Settings) -> str:
    from ledger import service

    sealed = blocks = 0
    while True:  # one block per transaction, retried on serialization failures, until none left
        block = service.run_in_transaction(
            factory, lambda session: service.seal_pending(session, max_entries=10_000)
        )
        if block is None:
            return f"sealed {sealed} entries in {blocks} block(s)"
        sealed += block.entry_count
        blocks += 1


def sync_stripe(factory: SessionFactory, settings: Settings) -> str:
    from orders.stripe_gateway import StripeGateway
    from orders.stripe_sync import sync

    assert settings.stripe_secret_key is not None
    gateway = StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
    with factory.begin() as session:
        result = sync(session, gateway=gateway, created_by="job")
    return (
        f"fetched {result.fetched}, new {result.new}, matched {result.matched}, "
        f"unmatched {len(result.unmatched)}"
    )


def monitor_households(factory: SessionFactory, _settings: Settings) -> str:
    from governance.monitoring import run_monitor

    with factory.begin() as session:
        result = run_monitor(session)
    return (
        f"monitored {result.households} household(s): opened {len(result.opened)} alert(s), "
        f"refreshed {len(result.refreshed)}"
    )


def _notify_module() -> ModuleType | None:
    try:
        return importlib.import_module(NOTIFY_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name and NOTIFY_MODULE.startswith(missing.name):
            return None
        raise


def send_notifications(factory: SessionFactory, settings: Settings) -> str:
    module = _notify_module()
    if module is None:
        return "notifications are not installed"
    send_pending = module.send_pending
    # Called the way it declares: with the session factory or a session, and settings if asked.
    parameters = inspect.signature(send_pending).parameters
    kwargs = {"settings": settings} if "settings" in parameters else {}
    first = next(iter(parameters), "")
    if first in ("factory", "session_factory"):
        return str(send_pending(factory, **kwargs))
    with factory.begin() as session:
        return str(send_pending(session, **kwargs))


def _ids(ids: list[int]) -> str:
    shown = ", ".join(map(str, ids[:20]))
    return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")


JOBS: tuple[JobSpec, ...] = (
    JobSpec("orders-expire", expire_orders, "Expire unpaid orders past their reservation"),
    JobSpec("orders-auto-deliver", auto_deliver, "Take orders shipped long ago as delivered"),
    JobSpec("ledger-seal", seal_ledger, "Seal ledger entries into hash-chained blocks"),
    JobSpec(
        "stripe-sync",
        sync_stripe,
        "Fetch Stripe balance transactions and payouts",
        available=lambda settings: settings.stripe_enabled,
    ),
    JobSpec("governance-monitor", monitor_households, "Recompute household monitoring alerts"),
    JobSpec(
        "notify-send",
        send_notifications,
        "Send pending notifications",
        available=lambda _settings: _notify_module() is not None,
    ),
)
JOB_NAMES = tuple(spec.name for spec in JOBS)


def job_named(name: str) -> JobSpec | None:
    return next((spec for spec in JOBS if spec.name == name), None)
