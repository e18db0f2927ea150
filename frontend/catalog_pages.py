"""Catalog pages: storefront, product, cooperative, lot provenance, a farmer's one-screen listing
form; the manager's catalog page and the editing forms are in catalog_manage_pages.py.

Labels go through gettext (`_()` in the templates, `N_()` tables here); stored bilingual text
(names, stories) through `T(value)` (see frontend/rendering.py and core/text.py).
"""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, NoReturn

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.deps import SessionDep, SettingsDep, actor_of
from api.models import User
from api.policies import order_policy
from catalog import photos, products, provenance, service
from catalog.models import Category, CertificationKind, ProductStatus, Unit
from catalog.permissions import may_edit_product
from catalog.prices import parse_major, price_doubt
from catalog.schemas import LotCreate, ProductCreate
from catalog.search import ProductQuery, search_products
from core.actor import Actor
from core.errors import DomainError, Forbidden
from core.time import to_reader_zone
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import FarmerPageDep
from frontend.i18n import N_, translator
from frontend.price_checks import doubt_message
from frontend.problems import problem_message, validation_message
from frontend.rendering import WebUserDep, money_formatter, page_router, render
from governance import consultations, feedback
from ledger.base import utcnow
from ledger.share_rules import SHARE_PARTS
from orders import share_rules

router = page_router()

CATEGORY_NAMES = {
    "honey": N_("Honey"),
    "tea": N_("Tea"),
    "rice": N_("Rice"),
    "grain": N_("Grains"),
    "mushrooms": N_("Mushrooms"),
    "fruit": N_("Fruit"),
    "vegetables": N_("Vegetables"),
    "nuts": N_("Nuts"),
    "oil": N_("Oil"),
    "eggs": N_("Eggs"),
    "meat": N_("Meat"),
    "handicraft": N_("Handicrafts"),
    "other": N_("Other"),
}
UNIT_NAMES = {
    "kg": N_("kg"),
    "jin": N_("jin (500 g)"),
    "box": N_("box"),
    "bottle": N_("bottle"),
    "piece": N_("piece"),
}
CERTIFICATION_NAMES = {
    "organic": N_("Organic"),
    "green_food": N_("Green Food"),
    "geographical_indication": N_("Geographical indication"),
}
PRODUCT_STATUS_NAMES = {
    "draft": N_("Draft"),
    "active": N_("Active"),
    "archived": N_("Archived"),
}


def named(request: Request, table: dict[str, str]) -> Callable[[str], str]:
    """A key's translated name from a table of msgids (the key itself when it is not listed)."""
    gettext = translator(request).gettext
    return lambda key: gettext(table[key]) if key in table else key


def _helpers(request: Request) -> dict[str, Any]:
    """Names of the catalog's enumerations in the reader's language, and the enumerations."""
    return {
        "category_name": named(request, CATEGORY_NAMES),
        "unit_name": named(request, UNIT_NAMES),
        "certification_name": named(request, CERTIFICATION_NAMES),
        "product_status_name": named(request, PRODUCT_STATUS_NAMES),
        "categories": [c.value for c in Category],
        "units": [u.value for u in Unit],
        "certification_kinds": [c.value for c in CertificationKind],
    }


def _locale(request: Request) -> str:
    return translator(request).locale


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(request, template, {**_helpers(request), **context}, status_code=status_code)


# Storefront


def featured_products(request: Request, session: Session, user: User | None) -> dict[str, Any]:
    """The newest products in stock, with the bilingual helpers their cards need (home page)."""
    query = ProductQuery(in_stock=True, sort="newest", limit=6)
    found, _next = search_products(session, actor=actor_of(user), query=query)
    return {**_helpers(request), "featured": products.product_reads(session, found)}


@router.get("/products", response_class=HTMLResponse)
def storefront(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=100)] = "",
    category: Annotated[str, Query(max_length=32)] = "",
    certification: Annotated[str, Query(max_length=32)] = "",
    in_stock: bool = False,
    sort: Annotated[str, Query(pattern="^(newest|price_asc|price_desc)$")] = "newest",
    after: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    # Empty selects ("all") and unknown values from an old link both mean "no filter".
    category = category if category in CATEGORY_NAMES else ""
    certification = certification if certification in CERTIFICATION_NAMES else ""
    query = ProductQuery(
        q=q or None,
        category=category or None,
        certification=certification or None,
        in_stock=True if in_stock else None,
        sort=sort,
        cursor=after,
        limit=24,
    )
    found, next_cursor = search_products(session, actor=actor_of(user), query=query)
    items = products.product_reads(session, found)
    params = {
        "q": q,
        "category": category,
        "certification": certification,
        "in_stock": in_stock,
        "sort": sort,
    }
    return _page(
        request,
        "catalog/storefront.html",
        {"items": items, "params": params, "next_cursor": next_cursor},
    )


# Product, cooperative, provenance


def product_context(
    request: Request, session: Session, actor: Actor, product_id: int
) -> dict[str, Any]:
    """What the product page shows; editors also get its edit form (prefilled, no errors)."""
    product, coop, brand = products.product_with_owner(session, actor=actor, product_id=product_id)
    detail = products.product_detail(session, product)
    # One read of the brand's certifications serves the brand and the ones in force today.
    certifications = service.brand_certifications(session, brand.id) if brand and brand.id else []
    done = {
        "saved": N_("Saved."),
        "lot": N_("Lot added."),
        "photo": N_("Photo saved."),
    }.get(request.query_params.get("done", ""))
    return {
        "product": detail,
        "coop": service.coop_read(coop),
        "brand": service.brand_read(session, brand, certifications) if brand else None,
        "certifications": provenance.in_force(certifications),
        "can_edit": may_edit_product(actor, product),
        "ratings": feedback.product_ratings(session, product_id),
        "statuses": [s.value for s in ProductStatus],
        "edit_values": {
            "name_zh": product.name_zh,
            "name_en": product.name_en,
            "price": f"{product.price_amount // 100}.{product.price_amount % 100:02d}",
            "status": product.status,
        },
        "edit_errors": {},
        "photo_values": {},
        "photo_errors": {},
        "done": translator(request).gettext(done) if done else None,
    }


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(
    product_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    context = product_context(request, session, actor_of(user), product_id)
    return _page(request, "catalog/product.html", context)


@router.get("/coops/{coop_id}", response_class=HTMLResponse)
def coop_page(
    coop_id: int, request: Request, user: WebUserDep, session: SessionDep, settings: SettingsDep
) -> Response:
    coop = service.get_coop(session, coop_id)
    found, _next = search_products(
        session, actor=actor_of(user), query=ProductQuery(coop_id=coop_id, limit=100)
    )
    brands = [service.brand_read(session, b) for b in service.list_brands(session, coop_id=coop_id)]
    return _page(
        request,
        "catalog/coop.html",
        {
            "coop": service.coop_read(coop),
            "items": products.product_reads(session, found),
            "brands": brands,
            # Share rules are public: buyers and members see how every sale is split.
            "rule_in_force": share_rules.rule_in_force(
                session, coop_id=coop_id, on=date.today(), policy=order_policy(settings)
            ),
            "rule_versions": share_rules.list_share_rules(session, coop_id=coop_id),
            "consultations": consultations.closed_results(
                session, coop_id, to_reader_zone(utcnow(), settings.timezone).date()
            ),
            "share_parts": SHARE_PARTS,
        },
    )


@router.get("/l/{code}", response_class=HTMLResponse)
def provenance_page(code: str, request: Request, user: WebUserDep, session: SessionDep) -> Response:
    lot = provenance.provenance(session, actor=actor_of(user), code=code)
    ratings = feedback.lot_ratings(session, code)
    return _page(request, "catalog/provenance.html", {"lot": lot, "ratings": ratings})


# A farmer lists a product: one screen, one photo from the camera, one lot


PHOTO_TOO_LARGE = N_(
    "The photo is larger than %(limit)s MB: choose it again from the phone's pictures, or take "
    "it again; everything else you typed is kept."
)


def photo_too_large(request: Request) -> str:
    limit = str(photos.MAX_UPLOAD_BYTES // 1024 // 1024)
    return translator(request).gettext(PHOTO_TOO_LARGE, limit=limit)


def _sell_form(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    confirm: dict[str, Any] | None = None,
) -> HTMLResponse:
    return _page(
        request,
        "catalog/sell.html",
        {
            "values": values,
            "errors": errors,
            "today": date.today().isoformat(),
            "confirm": confirm,
        },
        status_code,
    )


@router.get("/sell", response_class=HTMLResponse)
def sell_form(request: Request, _farmer: FarmerPageDep) -> Response:
    # No category or unit chosen in advance: walnuts must not go live as honey by default.
    return _sell_form(request, {"harvested_on": date.today().isoformat()}, {})


def price_in_fen(text: str) -> int | None:
    """'68', '68.5', '¥1,280' or full-width digits, in yuan → fen; None unless a positive amount."""
    return parse_major(text, "CNY")


def _form_values(form: FormData) -> dict[str, str]:
    names = (
        "name_zh",
        "name_en",
        "category",
        "unit",
        "price",
        "quantity",
        "harvested_on",
        "description_zh",
    )
    return {name: str(form.get(name) or "").strip() for name in names}


def _field_errors(
    request: Request, error: ValidationError, fields: dict[str, str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        key = next((fields[p] for p in loc if p in fields), loc[0] if loc else "form")
        found.setdefault(key, validation_message(request, item))
    return found


def _create_listing(
    session: Session,
    actor: Actor,
    values: dict[str, str],
    fen: int,
    photo: bytes | None,
    media_dir: Any,
    currency: str,
    max_pixels: int = photos.MAX_PIXELS,
) -> int:
    """Product (active), its lot, and its photo in the request's one transaction."""
    product = products.create_product(
        session,
        actor=actor,
        data=ProductCreate.model_validate(
            {
                "name": {"zh": values["name_zh"], "en": values["name_en"]},
                "description": {"zh": values["description_zh"], "en": ""},
                "category": values["category"],
                "unit": values["unit"],
                "price": {"amount": fen, "currency": currency},
                "status": "active",
            }
        ),
    )
    assert product.id is not None
    products.create_lot(
        session,
        actor=actor,
        product_id=product.id,
        data=LotCreate.model_validate(
            {"harvested_on": values["harvested_on"], "quantity": int(values["quantity"])}
        ),
    )
    if photo:
        photos.add_photo(
            session,
            actor=actor,
            product_id=product.id,
            data=photo,
            media_dir=media_dir,
            max_pixels=max_pixels,
        )
    return product.id


SELL_FIELDS = {
    "name": "name_zh",
    "category": "category",
    "unit": "unit",
    "harvested_on": "harvested_on",
    "quantity": "quantity",
    "description": "description_zh",
}


def _typing_errors(request: Request, values: dict[str, str], fen: int | None) -> dict[str, str]:
    """What the farmer typed that cannot be a listing, per field, before anything is stored."""
    gettext = translator(request).gettext
    errors: dict[str, str] = {}
    if fen is None:
        errors["price"] = gettext(N_("Enter a price in yuan, e.g. 68 or 68.50"))
    if not values["quantity"].isdigit() or int(values["quantity"]) <= 0:
        errors["quantity"] = gettext(N_("Enter a whole number"))
    if values["category"] not in CATEGORY_NAMES:
        errors["category"] = gettext("Choose what kind of product this is.")
    if values["unit"] not in UNIT_NAMES:
        errors["unit"] = gettext("Choose the unit it is sold by.")
    return errors


async def _photo_of(form: FormData) -> bytes | None:
    upload = form.get("photo")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(photos.MAX_UPLOAD_BYTES + 1)
    return None


def _price_to_confirm(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, str],
    fen: int,
    *,
    currency: str,
    had_photo: bool,
) -> dict[str, Any] | None:
    """The question "is this price right?" when it is far from the usual, else None."""
    doubt = price_doubt(
        session,
        coop_id=actor.coop_id or 0,
        category=values["category"],
        unit=values["unit"],
        amount=fen,
    )
    if doubt is None:
        return None
    unit = translator(request).gettext(UNIT_NAMES[values["unit"]])
    return {
        "message": doubt_message(request, doubt, amount=fen, currency=currency, unit=unit),
        "fen": fen,
        "price": money_formatter(translator(request))(fen, currency),
        "unit": unit,
        "had_photo": had_photo,
    }


def _refuse_listing(request: Request, values: dict[str, str], error: Exception) -> NoReturn:
    """The form again with what was typed and why; nothing of the listing is stored."""
    if isinstance(error, ValidationError):
        field_errors = _field_errors(request, error, SELL_FIELDS)
        refuse(lambda: _sell_form(request, values, field_errors, 422))
    assert isinstance(error, DomainError)
    on_file = any(e.get("loc", [None, None])[1:2] == ["file"] for e in error.errors or [])
    problem = {"photo" if on_file else "form": problem_message(request, error)}
    status = error.status_code
    refuse(lambda: _sell_form(request, values, problem, status))


@router.post("/sell", response_class=HTMLResponse)
async def sell_submit(
    request: Request,
    _csrf: CsrfDep,
    farmer: FarmerPageDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    # The whole body is capped at the edge (HEZUO_MAX_UPLOAD_BYTES, above the photo's limit), so
    # a too-large photo is read (spooled to disk) and refused here with what was typed kept.
    form = await request.form(max_files=1)
    values = _form_values(form)
    fen = price_in_fen(values["price"])
    errors = _typing_errors(request, values, fen)
    photo = await _photo_of(form)
    if photo is not None and len(photo) > photos.MAX_UPLOAD_BYTES:
        errors["photo"] = photo_too_large(request)
    elif errors and photo is not None:
        # a browser never fills a file field again: say so next to it
        errors["photo"] = translator(request).gettext(N_("Choose the photo again before sending."))
    if errors or fen is None:
        return _sell_form(request, values, errors, 422)
    confirm = _price_to_confirm(
        request,
        session,
        farmer.actor,
        values,
        fen,
        currency=settings.currency,
        had_photo=photo is not None,
    )
    if confirm is not None and str(form.get("price_confirmed") or "") != str(fen):
        return _sell_form(request, values, {}, 200, confirm=confirm)
    try:
        product_id = await run_in_threadpool(
            _create_listing,
            session,
            farmer.actor,
            values,
            fen,
            photo,
            request.app.state.media_store,
            settings.currency,
            settings.max_image_pixels,
        )
    except (ValidationError, DomainError) as error:
        if isinstance(error, Forbidden):
            raise
        _refuse_listing(request, values, error)
    return RedirectResponse(f"/products/{product_id}", status_code=303)


def install_catalog_pages(app: FastAPI) -> None:
    from frontend.catalog_manage_pages import install_catalog_manage_pages

    app.include_router(router)
    install_catalog_manage_pages(app)
