"""Payout, bank reconciliation and report pages, and the farmer's "my income" page with its chart.

Staff pages (/staff/payouts, /staff/reconciliation, /staff/reports) are for staff and admin: a
visitor is sent to sign in, any other role gets the 403 page. /me/income is the signed-in farmer's
own. Files (CSV, XLSX) are the JSON API's export routes, which accept the browser's session.
The chart is plain server-rendered SVG (bars per month, a few hundred bytes, no script), built here
from the ledger's monthly figures: a charting library would add a dependency for six rectangles.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session, col

from api.deps import SessionDep, SettingsDep, actor_of
from api.settings import Settings
from catalog import payee_history, payout_details
from catalog.models import Cooperative, Household, HouseholdPayoutChange
from core.errors import DomainError
from frontend.csrf import CsrfDep
from frontend.flash import redirect_with_notice, take_flash
from frontend.forms import refuse
from frontend.guards import FarmerPageDep, StaffPageDep
from frontend.i18n import N_, translator
from frontend.rendering import page_router, render, to_major, to_minor
from ledger import payouts

router = page_router()

# Notices after a form, in the reader's language (carried to the next page already translated).
MSG_PAID_ON = N_("Paid on: write the date as YYYY-MM-DD.")
MSG_LINE_CONFIRMED = N_("Payout line %(line)s is confirmed as paid.")
MSG_LINE_FAILED = N_("Payout line %(line)s is marked as failed; its money is owed again.")
MSG_BAD_MINIMUM = N_("Enter the minimum in yuan, e.g. 10 or 10.50.")
MSG_PAYEE_ACCEPTED = N_("Payout line %(line)s now pays the household's new payout details.")


def _back(request: Request, path: str, message: str = "", error: str = "") -> RedirectResponse:
    """Back to the page, the notice carried in a signed flash (never in the address)."""
    return redirect_with_notice(request, path, notice=message, error=error)


def _problem_text(error: DomainError) -> str:
    parts = [error.detail]
    for item in error.errors or []:
        parts.append(" / ".join(str(p) for p in item.get("loc", [])) + ": " + str(item["msg"]))
    return "\n".join(parts)


# --- Payout batches ------------------------------------------------------------------------


@router.get("/staff/payouts", response_class=HTMLResponse)
def batches_page(
    request: Request, user: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    flash = take_flash(request)
    coops = list(session.scalars(select(Cooperative).order_by(col(Cooperative.id))))
    return render(
        request,
        "staff/payouts/batches.html",
        {
            "batches": payouts.list_batches(session),
            "held": payee_history.held_counts(session),
            "coops": coops,
            "coop_names": {c.id: c.name_zh for c in coops},
            "currency": settings.currency,
            "default_minimum": to_major(settings.payout_minimum, settings.currency),
            "this_month": date.today().strftime("%Y-%m"),
            "msg": flash.notice,
            "error": flash.error,
        },
    )


@router.post("/staff/payouts")
def create_batch(
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    settings: SettingsDep,
    coop_id: Annotated[int, Form()],
    period: Annotated[str, Form()],
    minimum: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    least = to_minor(minimum, settings.currency) if minimum.strip() else settings.payout_minimum
    if least is None:
        return _back(request, "/staff/payouts", error=translator(request).gettext(MSG_BAD_MINIMUM))
    try:
        result = payout_details.create_coop_batch(
            session,
            coop_id=coop_id,
            period=period,
            currency=settings.currency,
            minimum=least,
            effective_date=date.today(),
            created_by=f"user:{user.id}",
        )
    except DomainError as error:
        problem = _problem_text(error)
        refuse(lambda: _back(request, "/staff/payouts", error=problem))
    return _back(request, f"/staff/payouts/{result.batch.id}")


@router.get("/staff/payouts/{batch_id}", response_class=HTMLResponse)
def batch_page(
    batch_id: int, request: Request, user: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    batch = payouts.get_batch(session, batch_id)
    rows = payout_details.batch_rows(session, batch_id)
    flash = take_flash(request)
    held = payee_history.changes_by_id(
        session, [r.held_change_id for r in rows if r.held_change_id is not None]
    )
    return render(
        request,
        "staff/payouts/batch.html",
        {
            "batch": batch,
            "rows": rows,
            "held": {
                line: (change, _local_time(settings, change.changed_at))
                for line, change in ((r.line_id, held.get(r.held_change_id or 0)) for r in rows)
                if change is not None
            },
            "total": sum(r.amount for r in rows if r.status != "failed"),
            "today": date.today().isoformat(),
            "msg": flash.notice,
            "error": flash.error,
        },
    )


@router.post("/staff/payouts/{batch_id}/lines/{line_id}")
def decide_line(
    batch_id: int,
    line_id: int,
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    action: Annotated[str, Form()],
    bank_reference: Annotated[str, Form()] = "",
    paid_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    t = translator(request).gettext
    here = f"/staff/payouts/{batch_id}"
    try:
        if action == "confirm":
            payout_details.confirm_payout_line(
                session,
                line_id=line_id,
                bank_reference=bank_reference,
                paid_on=date.fromisoformat(paid_on),
                decided_by=f"user:{user.id}",
            )
        else:
            payout_details.fail_payout_line(
                session, line_id=line_id, reason=reason, decided_by=f"user:{user.id}"
            )
    except ValueError:
        return _back(request, here, error=t(MSG_PAID_ON))
    except DomainError as error:
        problem = _problem_text(error)
        refuse(lambda: _back(request, here, error=problem))
    done = MSG_LINE_CONFIRMED if action == "confirm" else MSG_LINE_FAILED
    return _back(request, here, message=t(done, line=line_id))


@router.post("/staff/payouts/{batch_id}/lines/{line_id}/accept-payee")
def accept_payee(
    batch_id: int,
    line_id: int,
    request: Request,
    user: StaffPageDep,
    _csrf: CsrfDep,
    session: SessionDep,
    change_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    here = f"/staff/payouts/{batch_id}"
    try:
        payee_history.accept_held_change(
            session, line_id=line_id, change_id=change_id, accepted_by=f"user:{user.id}"
        )
    except DomainError as error:
        problem = _problem_text(error)
        refuse(lambda: _back(request, here, error=problem))
    t = translator(request).gettext
    return _back(request, here, message=t(MSG_PAYEE_ACCEPTED, line=line_id))


def _local_time(settings: Settings, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


# --- Reports ---------------------------------------------------------------------------------


@router.get("/staff/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: StaffPageDep, session: SessionDep) -> Response:
    coops = list(session.scalars(select(Cooperative).order_by(col(Cooperative.id))))
    households = list(
        session.scalars(select(Household).order_by(col(Household.coop_id), col(Household.id)))
    )
    return render(request, "staff/payouts/reports.html", {"coops": coops, "households": households})


@router.get("/staff/reports/households/{household_id}", response_class=HTMLResponse)
def household_statement_page(
    household_id: int,
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    household, statement = payout_details.household_statement(
        session, actor=actor_of(user), household_id=household_id
    )
    return render(
        request,
        "staff/payouts/statement.html",
        {
            "household": household,
            "statement": statement,
            "chart": None,
            "payout_changes": _changes(session, settings, household_id),
        },
    )


def _changes(
    session: Session, settings: Settings, household_id: int
) -> list[tuple[HouseholdPayoutChange, str]]:
    """The household's payout details history with local times, newest first."""
    return [
        (change, _local_time(settings, change.changed_at))
        for change in payee_history.changes_of(session, household_id)
    ]


# --- The farmer's own income ------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    amount: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_width: int
    bars: list[Bar]
    currency: str
    maximum: int


def income_chart(months: list[tuple[str, int]], currency: str, last: int = 12) -> Chart:
    """Bars for the last `last` months; negative months (refunds) are drawn at zero height."""
    shown = months[-last:]
    plot_height, bar_width, gap = 120, 28, 8
    maximum = max([amount for _, amount in shown] + [1])
    bars = []
    for index, (month, amount) in enumerate(shown):
        height = max(0, round(plot_height * amount / maximum))
        bars.append(
            Bar(
                label=month[2:],
                amount=amount,
                x=gap + index * (bar_width + gap),
                y=20 + plot_height - height,
                height=height,
            )
        )
    # Always room for `last` months: one month is one bar, not a bar as wide as the phone.
    width = gap + max(last, len(shown)) * (bar_width + gap)
    return Chart(width, plot_height + 40, bar_width, bars, currency, maximum)


@router.get("/me/income", response_class=HTMLResponse)
def my_income(
    request: Request, farmer: FarmerPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    household, statement = payout_details.household_statement(
        session, actor=farmer.actor, household_id=farmer.household_id
    )
    _household, months = payout_details.household_monthly_income(
        session, actor=farmer.actor, household_id=farmer.household_id
    )
    chart = income_chart(months, statement.currency or settings.currency)
    return render(
        request,
        "staff/payouts/statement.html",
        {
            "household": household,
            "statement": statement,
            "chart": chart,
            "payout_changes": _changes(session, settings, farmer.household_id),
        },
    )


def install_payout_pages(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["income_chart", "install_payout_pages", "router"]
