"""The staff jobs page: every scheduled job with its schedule, last run, result, next run and
recent failures, and a "run now" form (staff and admin only, CSRF-checked).

A "run now" is recorded like a scheduled tick (its tick is the moment it was asked), so it shows
in the same history; on PostgreSQL it waits for nothing: if the job is already running elsewhere
its advisory lock is held and the run is recorded as skipped.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlmodel import Session, col

from api.deps import SessionDep, SettingsDep
from api.jobs.models import JobRun, RunStatus, RunTrigger
from api.jobs.registry import job_named
from api.jobs.runner import run_tick
from api.jobs.scheduler import scheduled_jobs
from api.settings import Settings
from core.errors import NotFound
from frontend.csrf import CsrfDep
from frontend.flash import redirect_with_notice, take_flash
from frontend.guards import StaffPageDep
from frontend.i18n import N_, translator
from frontend.rendering import page_router, render
from ledger.base import utcnow

router = page_router()

FAILURE_WINDOW = timedelta(days=7)
RECENT_RUNS = 10
STATUS_LABELS = {
    RunStatus.running: N_("Running"),
    RunStatus.succeeded: N_("Succeeded"),
    RunStatus.failed: N_("Failed"),
    RunStatus.skipped: N_("Skipped (already running)"),
}
JOB_LABELS = {
    "orders-expire": N_("Expire unpaid orders past their reservation"),
    "orders-auto-deliver": N_("Take orders shipped long ago as delivered"),
    "ledger-seal": N_("Seal ledger entries into hash-chained blocks"),
    "stripe-sync": N_("Fetch Stripe balance transactions and payouts"),
    "governance-monitor": N_("Recompute household monitoring alerts"),
    "notify-send": N_("Send pending notifications"),
}
MSG_RAN = N_("%(job)s ran: %(status)s.")
MSG_BUSY = N_("%(job)s was started by someone else at the same moment; see its last run.")
MSG_UNAVAILABLE = N_("%(job)s is not available with these settings.")


def _last_runs(session: Session, job: str) -> list[JobRun]:
    return list(
        session.scalars(
            select(JobRun)
            .where(col(JobRun.job) == job)
            .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
            .limit(RECENT_RUNS)
        )
    )


def _failures_since(session: Session, job: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(JobRun)
            .where(
                col(JobRun.job) == job,
                col(JobRun.status) == RunStatus.failed,
                col(JobRun.started_at) >= since,
            )
        )
        or 0
    )


def _rows(session: Session, settings: Settings) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for job in scheduled_jobs(settings):
        runs = _last_runs(session, job.spec.name)
        rows.append(
            {
                "name": job.spec.name,
                "label": JOB_LABELS.get(job.spec.name, job.spec.describe),
                "schedule": job.schedule,
                "enabled": job.trigger is not None,
                "available": job.spec.available(settings),
                "next_run": job.next_run(now),
                "last": runs[0] if runs else None,
                "runs": runs,
                "failures": _failures_since(session, job.spec.name, now - FAILURE_WINDOW),
            }
        )
    return rows


@router.get("/staff/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request, user: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    translate = translator(request)
    zone = ZoneInfo(settings.timezone)

    def format_time(value: datetime | None) -> str:
        if value is None:
            return "—"
        return str(format_datetime(value, "short", tzinfo=zone, locale=translate.babel_locale))

    return render(
        request,
        "staff/jobs.html",
        {
            "jobs": _rows(session, settings),
            "status_labels": STATUS_LABELS,
            "format_time": format_time,
            "in_process": settings.runs_jobs_in_process,
            "msg": take_flash(request).notice,
        },
    )


@router.post("/staff/jobs/{name}/run")
def run_now(
    request: Request,
    name: str,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    spec = job_named(name)
    if spec is None:
        raise NotFound(f"There is no job named {name!r}.")
    # End the page's own transaction first: on SQLite it would hold the write lock the job needs.
    session.commit()
    gettext = translator(request).gettext
    if not spec.available(settings):
        message = gettext(MSG_UNAVAILABLE) % {"job": name}
    else:
        status = run_tick(
            spec,
            utcnow(),
            factory=request.app.state.session_factory,
            engine=request.app.state.engine,
            settings=settings,
            trigger=RunTrigger.manual,
            requested_by=user.email,
        )
        message = (
            gettext(MSG_BUSY) % {"job": name}
            if status is None
            else gettext(MSG_RAN) % {"job": name, "status": gettext(STATUS_LABELS[status])}
        )
    return redirect_with_notice(request, "/staff/jobs", notice=message)


def install_job_pages(app: FastAPI) -> None:
    app.include_router(router)
