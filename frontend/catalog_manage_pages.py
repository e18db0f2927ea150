"""Catalog editing forms without JavaScript: the manager's catalog page (spreadsheet import, new
household), a lot with its contributions, and a product's name/price/status.

Every form calls the same catalog service as the API, so permissions are the API's (a manager
their own cooperative, staff and admin any, a farmer their household's products). An error
re-renders the form with a message per field and rolls the request's transaction back.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.deps import SessionDep, SettingsDep, actor_of
from api.models import User
from catalog import imports, products, service
from catalog.errors import RowErrors
from catalog.models import Cooperative, Household, HouseholdStatus, ProductStatus
from catalog.permissions import manages_coop
from catalog.schemas import HouseholdCreate, LotCreate, ProductUpdate
from catalog.search import ProductQuery, search_products
from core.actor import Actor
from core.errors import DomainError, Forbidden, NotFound
from frontend.catalog_pages import _page, price_in_fen, product_context
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import ManagerOrStaffPageDep, SignedInDep
from frontend.i18n import N_, translator
from frontend.problems import field_message, problem_message, validation_message
from frontend.rendering import page_router

router = page_router()

CONTRIBUTION_ROWS = 5
MULTIPART_OVERHEAD = 64 * 1024
DONE_MESSAGES = {
    "household": N_("Household %(code)s added."),
    "import": N_("Imported %(products)s products, %(lots)s lots."),
}
WHOLE_NUMBER = N_("Enter a whole number above 0")
CHOOSE_HOUSEHOLD = N_("Choose a household")
PRICE_IN_YUAN = N_("Enter a price in yuan, e.g. 68 or 68.50")


def _manager_coop(session: Session, user: User, coop_id: int | None) -> Cooperative | None:
    """The cooperative this manager page is about; None when staff still have to choose one.
    (The page's guard, ManagerOrStaffPageDep, has let only managers and staff in.)"""
    actor = actor_of(user)
    if actor.role == "manager" and actor.coop_id is not None:
        coop_id = actor.coop_id if coop_id is None else coop_id
    if coop_id is None:
        return None
    return service.require_coop_manager_of(session, actor, coop_id)


def _loc_field(loc: list[Any], names: dict[str, str] | None = None) -> str:
    """The form field a service or schema error names (`["body", "member_code"]` → member_code)."""
    parts = [str(p) for p in loc if p != "body"]
    if not parts:
        return "form"
    return (names or {}).get(parts[0], parts[0])


def _schema_errors(
    request: Request, error: ValidationError, names: dict[str, str] | None = None
) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        found.setdefault(_loc_field(list(item["loc"]), names), validation_message(request, item))
    return found


def _domain_errors(
    request: Request, error: DomainError, names: dict[str, str] | None = None
) -> dict[str, str]:
    """Per-field messages of a refused request; Forbidden and NotFound go to the error page.
    Each field named by the error shows the error's message in the reader's language."""
    if isinstance(error, Forbidden | NotFound):
        raise error
    found: dict[str, str] = {}
    for item in error.errors or []:
        message = field_message(request, error, item)
        found.setdefault(_loc_field(list(item.get("loc") or []), names), message)
    return found or {"form": problem_message(request, error)}


# The manager's catalog page


def _manage_page(
    request: Request,
    session: Session,
    coop: Cooperative | None,
    *,
    household_values: dict[str, str] | None = None,
    household_errors: dict[str, str] | None = None,
    import_errors: list[dict[str, Any]] | None = None,
    import_message: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    actor = actor_of(request.state.web_user)
    context: dict[str, Any] = {
        "coop": None,
        "coops": [],
        "items": [],
        "households": [],
        "household_values": household_values or {"household_size": "1"},
        "household_errors": household_errors or {},
        "import_errors": import_errors or [],
        "import_message": import_message,
        "done": None,
        "statuses": [s.value for s in ProductStatus],
    }
    if actor.reads_all:
        context["coops"] = [
            service.coop_read(c) for c in service.list_coops(session, after_id=None, limit=500)
        ]
    if coop is not None:
        assert coop.id is not None
        found, _next = search_products(
            session, actor=actor, query=ProductQuery(coop_id=coop.id, mine=True, limit=200)
        )
        households = service.list_households(
            session, actor=actor, coop_id=coop.id, after_id=None, limit=500
        )
        context.update(
            coop=service.coop_read(coop),
            items=products.product_reads(session, found),
            households=[service.household_read(h) for h in households],
            done=_done_message(request),
        )
    return _page(request, "catalog/manage.html", context, status_code)


def _done_message(request: Request) -> str | None:
    """The success note after a redirect: fixed texts, only numbers and codes filled in."""
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    if done is None:
        return None
    code = request.query_params.get("code", "")
    fields = {
        "code": "".join(c for c in code if c.isalnum() or c == "-")[:20],
        "products": str(_int(request.query_params.get("products")) or 0),
        "lots": str(_int(request.query_params.get("lots")) or 0),
    }
    return translator(request).gettext(done, **fields)


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _back(coop_id: int, **params: str | int) -> RedirectResponse:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return RedirectResponse(f"/manage/catalog?coop_id={coop_id}&{query}", status_code=303)


@router.get("/manage/catalog", response_class=HTMLResponse)
def manage_catalog(
    request: Request, user: ManagerOrStaffPageDep, session: SessionDep, coop_id: int | None = None
) -> Response:
    coop = _manager_coop(session, user, coop_id)
    return _manage_page(request, session, coop)


@router.post("/manage/catalog/import", response_class=HTMLResponse)
async def import_spreadsheet(
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    coop_id: int | None = None,
) -> Response:
    coop = await run_in_threadpool(_manager_coop, session, user, coop_id)
    if coop is None or coop.id is None:
        return RedirectResponse("/manage/catalog", status_code=303)
    declared = request.headers.get("content-length", "")
    problem = ""
    data, filename = b"", ""
    confirm_prices = False
    if declared.isdigit() and int(declared) > imports.MAX_IMPORT_BYTES + MULTIPART_OVERHEAD:
        problem = imports.too_large_message()
    else:
        form = await request.form(max_files=1, max_fields=5)
        confirm_prices = form.get("confirm_prices") == "yes"
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(imports.MAX_IMPORT_BYTES + 1)
            filename = upload.filename
            if len(data) > imports.MAX_IMPORT_BYTES:
                problem = imports.too_large_message()
        else:
            problem = translator(request).gettext(N_("Choose a CSV or XLSX file."))
    if problem:
        return _manage_page(request, session, coop, import_message=problem, status_code=422)
    actor = actor_of(user)
    try:
        result = await run_in_threadpool(
            imports.import_file,
            session,
            actor=actor,
            coop_id=coop.id,
            data=data,
            filename=filename,
            confirm_prices=confirm_prices,
        )
    except RowErrors as error:  # nothing of the file is kept
        rows, message = list(error.errors or []), problem_message(request, error)
        refuse(
            lambda: _manage_page(
                request, session, coop, import_errors=rows, import_message=message, status_code=422
            )
        )
    assert coop.id is not None
    return _back(coop.id, done="import", products=result.products, lots=result.lots)


HOUSEHOLD_FIELDS = ("member_code", "name", "household_size", "village", "phone")


@router.post("/manage/catalog/households", response_class=HTMLResponse)
async def add_household(
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    coop_id: int | None = None,
) -> Response:
    form = await request.form()
    coop = _manager_coop(session, user, coop_id)
    if coop is None or coop.id is None:
        return RedirectResponse("/manage/catalog", status_code=303)
    values = {name: str(form.get(name) or "").strip() for name in HOUSEHOLD_FIELDS}
    values["member_code"] = values["member_code"].upper()
    consent = form.get("public_name_consent") == "yes"
    values["public_name_consent"] = "yes" if consent else ""
    errors: dict[str, str] = {}
    size = _int(values["household_size"])
    if size is None:
        errors["household_size"] = translator(request).gettext(N_("Enter the number of people"))
    household: Household | None = None
    if not errors:
        try:
            data = HouseholdCreate.model_validate(
                {
                    "member_code": values["member_code"] or None,
                    "name": values["name"],
                    "household_size": size,
                    "village": values["village"],
                    "phone": values["phone"],
                    "public_name_consent": consent,
                }
            )
            household = service.create_household(
                session,
                actor=actor_of(user),
                coop_id=coop.id,
                data=data,
                currency=settings.currency,
            )
        except ValidationError as error:
            errors = _schema_errors(request, error)
        except DomainError as error:
            errors = _domain_errors(request, error)
    if household is None:
        refuse(
            lambda: _manage_page(
                request,
                session,
                coop,
                household_values=values,
                household_errors=errors,
                status_code=422,
            )
        )
    assert coop.id is not None
    return _back(coop.id, done="household", code=household.member_code)


# A lot with its contributions


def _lot_households(session: Session, actor: Actor, coop_id: int) -> list[Household]:
    """Whose contributions this actor may record: the coop's members, or the farmer's own."""
    if manages_coop(actor, coop_id):
        found = service.list_households(
            session, actor=actor, coop_id=coop_id, after_id=None, limit=500
        )
    elif actor.household_id is not None:
        found = [service.get_household(session, actor=actor, household_id=actor.household_id)]
    else:
        found = []
    return [h for h in found if h.status == HouseholdStatus.active]


def _lot_form(
    request: Request,
    session: Session,
    actor: Actor,
    product_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    product = products.product_for_edit(session, actor=actor, product_id=product_id)
    (read,) = products.product_reads(session, [product])
    return _page(
        request,
        "catalog/lot_form.html",
        {
            "product": read,
            "households": [
                service.household_read(h) for h in _lot_households(session, actor, product.coop_id)
            ],
            "rows": range(CONTRIBUTION_ROWS),
            "values": values,
            "errors": errors,
        },
        status_code,
    )


@router.get("/products/{product_id}/lots/new", response_class=HTMLResponse)
def new_lot(product_id: int, request: Request, user: SignedInDep, session: SessionDep) -> Response:
    return _lot_form(request, session, actor_of(user), product_id, {}, {})


def _lot_values(form: FormData) -> dict[str, str]:
    names = ["harvested_on", "quantity", "expires_on", "code", "notes"]
    for row in range(CONTRIBUTION_ROWS):
        names += [f"household_{row}", f"quantity_{row}"]
    return {name: str(form.get(name) or "").strip() for name in names}


def _lot_data(values: dict[str, str]) -> tuple[dict[str, Any], list[int], dict[str, str]]:
    """The LotCreate fields, which form row each contribution came from, and typing errors
    (msgids: translate them for the page)."""
    errors: dict[str, str] = {}
    quantity = _int(values["quantity"])
    if quantity is None:
        errors["quantity"] = WHOLE_NUMBER
    contributions: list[dict[str, int]] = []
    rows: list[int] = []
    for row in range(CONTRIBUTION_ROWS):
        household, amount = values[f"household_{row}"], values[f"quantity_{row}"]
        if not household and not amount:
            continue
        household_id, amount_int = _int(household), _int(amount)
        if household_id is None:
            errors[f"contribution_{row}"] = CHOOSE_HOUSEHOLD
        elif amount_int is None:
            errors[f"contribution_{row}"] = WHOLE_NUMBER
        else:
            contributions.append({"household_id": household_id, "quantity": amount_int})
            rows.append(row)
    data: dict[str, Any] = {
        "harvested_on": values["harvested_on"] or None,
        "quantity": quantity,
        "expires_on": values["expires_on"] or None,
        "code": values["code"] or None,
        "notes": values["notes"],
        "contributions": contributions or None,
    }
    return data, rows, errors


def _lot_error_fields(items: list[tuple[list[Any], str]], rows: list[int]) -> dict[str, str]:
    """Messages by form field; a contribution's own error goes to its form row."""
    found: dict[str, str] = {}
    for loc, msg in items:
        parts = [p for p in loc if p != "body"]
        if len(parts) >= 2 and parts[0] == "contributions" and isinstance(parts[1], int):
            index = parts[1]
            key = f"contribution_{rows[index]}" if index < len(rows) else "contributions"
        else:
            key = str(parts[0]) if parts else "form"
        found.setdefault(key, msg)
    return found


@router.post("/products/{product_id}/lots", response_class=HTMLResponse)
async def add_lot(
    product_id: int, request: Request, _csrf: CsrfDep, user: SignedInDep, session: SessionDep
) -> Response:
    actor = actor_of(user)
    products.product_for_edit(session, actor=actor, product_id=product_id)
    values = _lot_values(await request.form())
    data, rows, typing_errors = _lot_data(values)
    gettext = translator(request).gettext
    errors = {field: gettext(msgid) for field, msgid in typing_errors.items()}
    if not errors:
        try:
            lot = products.create_lot(
                session,
                actor=actor,
                product_id=product_id,
                data=LotCreate.model_validate(data),
            )
            return RedirectResponse(f"/products/{product_id}?done=lot&code={lot.code}", 303)
        except ValidationError as error:
            items = [(list(e["loc"]), validation_message(request, e)) for e in error.errors()]
            errors = _lot_error_fields(items, rows)
        except DomainError as error:
            if isinstance(error, Forbidden | NotFound):
                raise
            items = [
                (list(e.get("loc") or []), field_message(request, error, e))
                for e in error.errors or []
            ]
            errors = _lot_error_fields(items, rows) or {"form": problem_message(request, error)}
    refuse(lambda: _lot_form(request, session, actor, product_id, values, errors, 422))


# A product's name, price and status

PRODUCT_NAMES = {"name": "name_zh"}


@router.post("/products/{product_id}/edit", response_class=HTMLResponse)
async def edit_product(
    product_id: int, request: Request, _csrf: CsrfDep, user: SignedInDep, session: SessionDep
) -> Response:
    actor = actor_of(user)
    product = products.product_for_edit(session, actor=actor, product_id=product_id)
    form = await request.form()
    names = ("name_zh", "name_en", "price", "status")
    values = {name: str(form.get(name) or "").strip() for name in names}
    errors: dict[str, str] = {}
    fen = price_in_fen(values["price"])
    if fen is None:
        errors["price"] = translator(request).gettext(PRICE_IN_YUAN)
    if not errors:
        try:
            data = ProductUpdate.model_validate(
                {
                    "name": {"zh": values["name_zh"], "en": values["name_en"]},
                    "price": {"amount": fen, "currency": product.currency},
                    "status": values["status"],
                }
            )
            products.update_product(session, actor=actor, product_id=product_id, data=data)
            return RedirectResponse(f"/products/{product_id}?done=saved", status_code=303)
        except ValidationError as error:
            errors = {}
            for item in error.errors():
                loc = [str(p) for p in item["loc"]]
                field = "name_en" if loc[:2] == ["name", "en"] else _loc_field(loc, PRODUCT_NAMES)
                errors.setdefault(field, validation_message(request, item))
        except DomainError as error:
            errors = _domain_errors(request, error, PRODUCT_NAMES)
    refuse(lambda: _product_again(request, session, actor, product_id, values, errors))


def _product_again(
    request: Request,
    session: Session,
    actor: Actor,
    product_id: int,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    context = product_context(request, session, actor, product_id)
    context.update(edit_values=values, edit_errors=errors)
    return _page(request, "catalog/product.html", context, 422)


def install_catalog_manage_pages(app: FastAPI) -> None:
    app.include_router(router)
