"""Reports over HTTP as JSON, CSV or XLSX: a household's income statement (the farmer sees their
own), a cooperative's report (its manager, staff), the enterprise report, trial balance and payout
history (staff; a manager their cooperative's, a farmer their own)."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUserDep, SessionDep, SettingsDep, StaffDep, actor_of
from catalog import payee_history, payout_details
from ledger import reports
from ledger import service as ledger

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as JSON, or as a file with format=csv or format=xlsx",
        "content": {"application/json": {}, **{media: {} for media in FILE_TYPES.values()}},
    },
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed to see this report"},
    404: {"description": "No such household or cooperative (or not yours)"},
}
Format = Annotated[Literal["json", "csv", "xlsx"], Query()]
Since = Annotated[date | None, Query()]
Until = Annotated[date | None, Query()]


def table_response(
    name: str, file_format: str, header: list[str], rows: list[list[Any]]
) -> Response:
    content = (
        reports.table_csv(header, rows)
        if file_format == "csv"
        else reports.table_xlsx(name, header, rows)
    )
    return Response(
        content=content,
        media_type=FILE_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{file_format}"'},
    )


@router.get("/households/{household_id}/statement", responses=PROBLEMS, response_model=None)
def household_statement(
    household_id: int,
    user: CurrentUserDep,
    session: SessionDep,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    """Shares earned, deductions, payouts and balance, line by line (integer minor units)."""
    household, statement = payout_details.household_statement(
        session, actor=actor_of(user), household_id=household_id, since=since, until=until
    )
    header, rows = reports.statement_table(statement)
    if format != "json":
        return table_response(f"statement-{household.member_code}", format, header, rows)
    return {
        "household_id": household_id,
        "member_code": household.member_code,
        "currency": statement.currency,
        "since": since,
        "until": until,
        "opening": statement.opening,
        "earned": statement.earned,
        "deducted": statement.deducted,
        "paid_out": statement.paid_out,
        "closing": statement.closing,
        "lines": [dict(zip(header, row, strict=True)) for row in rows],
        # Changes of the household's payout account (who, when, old, new), newest first.
        "payout_changes": [
            payee_history.change_read(c).model_dump(mode="json")
            for c in payee_history.changes_of(session, household_id)
        ],
    }


@router.get("/households/{household_id}/income", responses=PROBLEMS)
def household_income(
    household_id: int, user: CurrentUserDep, session: SessionDep
) -> dict[str, Any]:
    """Net income per month (shares minus deductions), for the chart."""
    household, months = payout_details.household_monthly_income(
        session, actor=actor_of(user), household_id=household_id
    )
    return {
        "household_id": household_id,
        "months": [{"month": month, "amount": amount} for month, amount in months],
    }


@router.get("/coops/{coop_id}", responses=PROBLEMS, response_model=None)
def coop_report(
    coop_id: int,
    user: CurrentUserDep,
    session: SessionDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    _coop, report = payout_details.coop_report(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        currency=settings.currency,
        since=since,
        until=until,
    )
    parts = report.parts  # every share part's key, then "other"
    if format != "json":
        rows: list[list[Any]] = [["sales", report.sales, report.currency]]
        rows += [[f"part:{k}", v, report.currency] for k, v in parts.items()]
        rows += [[f"{k}_balance", v, report.currency] for k, v in report.fund_balances.items()]
        rows += [
            ["payouts", report.payouts, report.currency],
            ["households_paid", report.households_paid, ""],
            ["payouts_failed", report.payouts_failed, report.currency],
            ["payout_lines_failed", report.payout_lines_failed, ""],
        ]
        return table_response(f"coop-{coop_id}", format, ["figure", "amount", "currency"], rows)
    return {
        "coop_id": coop_id,
        "currency": report.currency,
        "since": since,
        "until": until,
        "sales": report.sales,
        "parts": parts,
        "funds": {
            **report.fund_balances,
            "movements": [
                {"date": d, "fund": fund, "memo": memo, "amount": amount}
                for d, fund, memo, amount in report.fund_movements
            ],
        },
        "payouts": report.payouts,
        "households_paid": report.households_paid,
        "payouts_failed": {"amount": report.payouts_failed, "lines": report.payout_lines_failed},
    }


@router.get("/enterprise", responses=PROBLEMS, response_model=None)
def enterprise_report(
    _staff: StaffDep,
    session: SessionDep,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    report = reports.enterprise_report(
        session, currency=settings.currency, since=since, until=until
    )
    if format != "json":
        rows: list[list[Any]] = [[k, v, report.currency] for k, v in report.by_prefix.items()]
        return table_response("enterprise", format, ["accounts", "movement", "currency"], rows)
    return {
        "currency": report.currency,
        "since": since,
        "until": until,
        "service_fees": report.service_fees,
        "processing_fees": report.processing_fees,
        "movements": report.by_prefix,
        "service_fees_by_coop": [
            {"coop_id": coop_id, "amount": amount}
            for coop_id, amount in report.service_fees_by_coop.items()
        ],
    }


@router.get("/trial-balance", responses=PROBLEMS, response_model=None)
def trial_balance(
    _staff: StaffDep,
    session: SessionDep,
    as_of: Annotated[date | None, Query()] = None,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    """The trial balance as a file (its JSON is GET /api/v1/ledger/trial-balance)."""
    balance = ledger.trial_balance(session, as_of=as_of)
    rows: list[list[Any]] = [
        [a.key, a.type, a.currency, a.debits, a.credits, a.balance] for a in balance.accounts
    ]
    header = ["account", "type", "currency", "debits", "credits", "balance"]
    return table_response("trial-balance", format, header, rows)


@router.get("/payouts", responses=PROBLEMS, response_model=None)
def payout_history(
    user: CurrentUserDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query()] = None,
    household_id: Annotated[int | None, Query()] = None,
    format: Format = "json",
) -> Response | dict[str, Any]:
    rows = payout_details.payout_history(
        session, actor=actor_of(user), coop_id=coop_id, household_id=household_id
    )
    header = ["line_id", "batch_id", "coop_id", "period", "member_code", "name", "amount"]
    header += ["currency", "status", "bank_reference", "paid_on"]
    table: list[list[Any]] = [
        [
            r.line_id,
            r.batch_id,
            r.coop_id,
            r.period,
            r.member_code,
            r.name,
            r.amount,
            r.currency,
            r.status,
            r.bank_reference,
            r.paid_on.isoformat() if r.paid_on else "",
        ]
        for r in rows
    ]
    if format != "json":
        return table_response("payout-history", format, header, table)
    return {"items": [dict(zip(header, row, strict=True)) for row in table], "next_cursor": None}
