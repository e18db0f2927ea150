"""Staff pages for cooperatives' own settings: the bank account a cooperative receives transfers in."""

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from api.deps import SessionDep, SettingsDep, actor_of
from catalog.bank_accounts import set_coop_bank_account
from catalog.models import Cooperative
from catalog.service import get_coop
from core.errors import DomainError
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import StaffPageDep
from frontend.i18n import by_locale
from frontend.problems import problem_message
from frontend.rendering import page_router, render

router = page_router()


@router.get("/staff/coops", response_class=HTMLResponse)
def coops_page(
    request: Request, _staff: StaffPageDep, session: SessionDep, settings: SettingsDep
) -> Response:
    coops = session.scalars(select(Cooperative).order_by(col(Cooperative.id))).all()
    rows = [{"coop": c, "name": by_locale(request, c.name_zh, c.name_en)} for c in coops]
    return render(
        request, "staff/coops/list.html", {"rows": rows, "marketplace": settings.bank_transfer_to}
    )


def _bank_form(
    request: Request,
    coop: Cooperative,
    values: dict[str, str],
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "coop": coop,
        "name": by_locale(request, coop.name_zh, coop.name_en),
        "values": values,
        "problem": problem,
    }
    return render(request, "staff/coops/bank.html", context, status_code=status_code)


@router.get("/staff/coops/{coop_id}/bank", response_class=HTMLResponse)
def bank_form(
    coop_id: int, request: Request, _staff: StaffPageDep, session: SessionDep
) -> Response:
    coop = get_coop(session, coop_id)
    values = {"payee": coop.bank_payee, "bank": coop.bank_name, "account": coop.bank_account}
    return _bank_form(request, coop, values)


@router.post("/staff/coops/{coop_id}/bank", response_class=HTMLResponse)
def bank_submit(
    coop_id: int,
    request: Request,
    _csrf: CsrfDep,
    staff: StaffPageDep,
    session: SessionDep,
    payee: Annotated[str, Form(max_length=200)] = "",
    bank: Annotated[str, Form(max_length=200)] = "",
    account: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        set_coop_bank_account(
            session,
            actor=actor_of(staff),
            coop_id=coop_id,
            payee=payee,
            bank=bank,
            account=account,
        )
    except DomainError as error:
        values = {"payee": payee, "bank": bank, "account": account}
        message, status = problem_message(request, error), error.status_code
        refuse(lambda: _bank_form(request, get_coop(session, coop_id), values, message, status))
    return RedirectResponse("/staff/coops", status_code=303)


def install_coop_admin_pages(app: FastAPI) -> None:
    app.include_router(router)
