"""A member household's page for its cooperative's manager and staff: edit its status, phone and
consent (the API's PATCH /households/{id}), and, for staff, record income it earned outside the
platform (the API's off-platform income, used by household monitoring).

Permissions are the services' own: the cooperative's manager or staff edit a household; only staff
see and record off-platform income. A refused form re-renders with what was typed and the problem
in the reader's language; recording income cannot be undone, so it asks for confirmation first.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep, actor_of
from api.models import User
from catalog import service
from catalog.models import Household, HouseholdStatus
from catalog.permissions import require_coop_reader
from catalog.schemas import HouseholdUpdate
from core.actor import Actor
from core.errors import DomainError, Forbidden, NotFound
from frontend.confirmations import confirm_page, confirmed
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import ManagerOrStaffPageDep
from frontend.i18n import N_, translator
from frontend.problems import problem_message
from frontend.rendering import money_formatter, page_router, render, to_minor
from governance import monitoring

router = page_router()

EDIT_FIELDS = ("status", "phone")
INCOME_FIELDS = ("amount", "received_on", "source", "note")
ENTER_PHONE = N_("Enter a phone number: digits, spaces, + ( ) and - only")
ENTER_YUAN = N_("Enter an amount in yuan above 0, e.g. 800 or 1,280.50")
ENTER_DATE = N_("Enter a date")
ENTER_SOURCE = N_("Say where the income came from")
DONE = {
    "saved": N_("The household's details are saved."),
    "income": N_("The income is recorded."),
}


def _manageable(session: Session, user: User, household_id: int) -> tuple[Actor, Household]:
    """This household's cooperative's manager or staff (an auditor only reads); others are
    refused (the guard, ManagerOrStaffPageDep, has let only managers and staff in)."""
    actor = actor_of(user)
    household = service.get_household(session, actor=actor, household_id=household_id)
    require_coop_reader(actor, household.coop_id)  # writes: the auditor is refused at the edge
    return actor, household


def _income_rows(session: Session, actor: Actor, household_id: int) -> list[Any]:
    if not actor.reads_all:
        return []
    return monitoring.list_income(session, actor=actor, household_id=household_id)


def _page(
    request: Request,
    session: Session,
    user: User,
    household_id: int,
    *,
    edit_values: dict[str, str] | None = None,
    edit_errors: dict[str, str] | None = None,
    income_values: dict[str, str] | None = None,
    income_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor, household = _manageable(session, user, household_id)
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "catalog/household.html",
        {
            "household": household,
            "statuses": [s.value for s in HouseholdStatus],
            "edit_values": edit_values
            or {
                "status": household.status,
                "phone": household.phone or "",
                "public_name_consent": "yes" if household.public_name_consent else "",
            },
            "edit_errors": edit_errors or {},
            "may_write": user.role != "auditor",
            "staff": actor.is_staff,
            "income": _income_rows(session, actor, household_id),
            "income_values": income_values or {},
            "income_errors": income_errors or {},
            "done": translator(request).gettext(done) if done else "",
        },
        status_code=status_code,
    )


@router.get("/manage/households/{household_id}", response_class=HTMLResponse)
def household_page(
    household_id: int, request: Request, user: ManagerOrStaffPageDep, session: SessionDep
) -> Response:
    return _page(request, session, user, household_id)


@router.post("/manage/households/{household_id}", response_class=HTMLResponse)
async def edit_household(
    household_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
) -> Response:
    actor, _household = _manageable(session, user, household_id)
    form = await request.form(max_files=0, max_fields=10)
    values = {name: str(form.get(name) or "").strip()[:100] for name in EDIT_FIELDS}
    consent = form.get("public_name_consent") == "yes"
    values["public_name_consent"] = "yes" if consent else ""
    errors: dict[str, str] = {}
    try:
        data = HouseholdUpdate.model_validate(
            {"status": values["status"], "phone": values["phone"], "public_name_consent": consent}
        )
        service.update_household(session, actor=actor, household_id=household_id, data=data)
    except ValidationError as error:
        errors = _schema_errors(request, error)
    except DomainError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        errors = {"form": problem_message(request, error)}
    if errors:
        refuse(
            lambda: _page(
                request,
                session,
                user,
                household_id,
                edit_values=values,
                edit_errors=errors,
                status_code=422,
            )
        )
    return RedirectResponse(f"/manage/households/{household_id}?done=saved", status_code=303)


def _schema_errors(request: Request, error: ValidationError) -> dict[str, str]:
    gettext = translator(request).gettext
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        if name == "phone":
            errors["phone"] = gettext(ENTER_PHONE)
        else:
            errors.setdefault("form", gettext(N_("Some details are not right.")))
    return errors


# Off-platform income (staff)


def _income_values(form: Any) -> dict[str, str]:
    return {name: str(form.get(name) or "").strip()[:500] for name in INCOME_FIELDS}


def _parse_income(
    request: Request, values: dict[str, str], currency: str, today: date
) -> tuple[int | None, date | None, dict[str, str]]:
    gettext = translator(request).gettext
    errors: dict[str, str] = {}
    amount = to_minor(values["amount"], currency)
    if amount is None or amount <= 0:
        errors["amount"] = gettext(ENTER_YUAN)
    received_on: date | None = None
    try:
        received_on = date.fromisoformat(values["received_on"])
    except ValueError:
        errors["received_on"] = gettext(ENTER_DATE)
    if received_on is not None and received_on > today:
        errors["received_on"] = gettext(N_("The date cannot be in the future."))
    if not values["source"]:
        errors["source"] = gettext(ENTER_SOURCE)
    return amount, received_on, errors


@router.post("/manage/households/{household_id}/income", response_class=HTMLResponse)
async def record_income(
    household_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actor, household = _manageable(session, user, household_id)
    monitoring.require_staff(actor)
    form = await request.form(max_files=0, max_fields=10)
    values = _income_values(form)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    amount, received_on, errors = _parse_income(request, values, settings.currency, today)
    if errors or amount is None or received_on is None:
        return _page(
            request,
            session,
            user,
            household_id,
            income_values=values,
            income_errors=errors,
            status_code=422,
        )
    if not confirmed(str(form.get("confirmed") or "")):
        gettext = translator(request).gettext
        return confirm_page(
            request,
            title=gettext("Record this income?"),
            consequences=[
                gettext(
                    "%(amount)s received on %(day)s from %(source)s is added to household %(code)s's income."
                )
                % {
                    "amount": money_formatter(translator(request))(amount, settings.currency),
                    "day": received_on.isoformat(),
                    "source": values["source"],
                    "code": household.member_code,
                },
                gettext(
                    "Household monitoring counts it towards the income line; no money moves on "
                    "the platform, and a recorded income cannot be removed."
                ),
            ],
            action=f"/manage/households/{household_id}/income",
            fields=values,
            button=gettext("Record the income"),
            back=f"/manage/households/{household_id}",
            danger=False,
        )
    try:
        monitoring.record_income(
            session,
            actor=actor,
            household_id=household_id,
            amount=amount,
            currency=settings.currency,
            received_on=received_on,
            source=values["source"],
            note=values["note"],
        )
    except DomainError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        refused = {"form": problem_message(request, error)}
        status = error.status_code
        refuse(
            lambda: _page(
                request,
                session,
                user,
                household_id,
                income_values=values,
                income_errors=refused,
                status_code=status,
            )
        )
    return RedirectResponse(f"/manage/households/{household_id}?done=income", status_code=303)


def install_household_pages(app: FastAPI) -> None:
    app.include_router(router)
