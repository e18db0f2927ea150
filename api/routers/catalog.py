"""Catalog HTTP routes (docs/api.md "Catalog"): thin — parse, name the actor, call a service."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.deps import (
    CurrentUserDep,
    OptionalUserDep,
    PageDep,
    SessionDep,
    SettingsDep,
    actor_of,
    encode_cursor,
)
from api.models import User
from catalog import imports, photos, products, provenance, service
from catalog.errors import CatalogInvalid, CatalogNotFound, UploadTooLarge
from catalog.media import LocalMediaStore
from catalog.models import Category, CertificationKind, ProductStatus
from catalog.schemas import (
    BrandCreate,
    BrandRead,
    CertificationCreate,
    CertificationRead,
    CoopCreate,
    CoopPage,
    CoopRead,
    CoopUpdate,
    HouseholdCreate,
    HouseholdPage,
    HouseholdRead,
    HouseholdUpdate,
    ImportResult,
    LotCreate,
    LotRead,
    PhotoRead,
    ProductCreate,
    ProductDetail,
    ProductPage,
    ProductRead,
    ProductUpdate,
    ProvenanceRead,
    SortOrder,
)
from catalog.search import ProductQuery, search_products

router = APIRouter(tags=["catalog"])
API = "/api/v1"
# Media files never change under one name, but a deleted photo must stop being served: a day.
MEDIA_CACHE = "public, max-age=86400"
QR_CACHE = "public, max-age=86400"
MULTIPART_OVERHEAD = 64 * 1024


def _multipart_body(description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": description,
                            }
                        },
                    }
                }
            },
        }
    }


async def _uploaded_file(request: Request, max_bytes: int, too_large: str) -> tuple[bytes, str]:
    """The multipart field `file`, refused by its declared length before the body is read."""
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and int(declared) > max_bytes + MULTIPART_OVERHEAD
    ):
        raise UploadTooLarge(too_large)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise CatalogInvalid(
            "Send the file as multipart/form-data field 'file'.", loc=["body", "file"]
        )
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise CatalogInvalid("The multipart field 'file' is missing.", loc=["body", "file"])
    data = await upload.read(max_bytes + 1)
    await upload.close()
    if len(data) > max_bytes:
        raise UploadTooLarge(too_large)
    return data, upload.filename or ""


# Cooperatives


@router.get(f"{API}/coops", response_model=CoopPage)
def list_coops(session: SessionDep, page: PageDep) -> CoopPage:
    coops = service.list_coops(session, after_id=page.after_int(), limit=page.limit + 1)
    items = [service.coop_read(c) for c in coops[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(coops) > page.limit else None
    return CoopPage(items=items, next_cursor=next_cursor)


@router.post(f"{API}/coops", response_model=CoopRead, status_code=status.HTTP_201_CREATED)
def create_coop(body: CoopCreate, user: CurrentUserDep, session: SessionDep) -> CoopRead:
    return service.coop_read(service.create_coop(session, actor=actor_of(user), data=body))


@router.get(f"{API}/coops/{{coop_id}}", response_model=CoopRead)
def get_coop(coop_id: int, session: SessionDep) -> CoopRead:
    return service.coop_read(service.get_coop(session, coop_id))


@router.patch(f"{API}/coops/{{coop_id}}", response_model=CoopRead)
def update_coop(
    coop_id: int, body: CoopUpdate, user: CurrentUserDep, session: SessionDep
) -> CoopRead:
    coop = service.update_coop(session, actor=actor_of(user), coop_id=coop_id, data=body)
    return service.coop_read(coop)


# Households (personal data: the household, its manager, staff)


@router.get(f"{API}/coops/{{coop_id}}/households", response_model=HouseholdPage)
def list_households(
    coop_id: int, user: CurrentUserDep, session: SessionDep, page: PageDep
) -> HouseholdPage:
    found = service.list_households(
        session,
        actor=actor_of(user),
        coop_id=coop_id,
        after_id=page.after_int(),
        limit=page.limit + 1,
    )
    items = [service.household_read(h) for h in found[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(found) > page.limit else None
    return HouseholdPage(items=items, next_cursor=next_cursor)


@router.post(
    f"{API}/coops/{{coop_id}}/households",
    response_model=HouseholdRead,
    status_code=status.HTTP_201_CREATED,
)
def create_household(
    coop_id: int,
    body: HouseholdCreate,
    user: CurrentUserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> HouseholdRead:
    household = service.create_household(
        session, actor=actor_of(user), coop_id=coop_id, data=body, currency=settings.currency
    )
    return service.household_read(household)


@router.get(f"{API}/households/{{household_id}}", response_model=HouseholdRead)
def get_household(household_id: int, user: CurrentUserDep, session: SessionDep) -> HouseholdRead:
    household = service.get_household(session, actor=actor_of(user), household_id=household_id)
    return service.household_read(household)


@router.patch(f"{API}/households/{{household_id}}", response_model=HouseholdRead)
def update_household(
    household_id: int, body: HouseholdUpdate, user: CurrentUserDep, session: SessionDep
) -> HouseholdRead:
    household = service.update_household(
        session, actor=actor_of(user), household_id=household_id, data=body
    )
    return service.household_read(household)


# Brands and certifications


@router.get(f"{API}/coops/{{coop_id}}/brands", response_model=list[BrandRead])
def list_brands(coop_id: int, session: SessionDep) -> list[BrandRead]:
    service.get_coop(session, coop_id)
    return [service.brand_read(session, b) for b in service.list_brands(session, coop_id=coop_id)]


@router.post(
    f"{API}/coops/{{coop_id}}/brands",
    response_model=BrandRead,
    status_code=status.HTTP_201_CREATED,
)
def create_brand(
    coop_id: int, body: BrandCreate, user: CurrentUserDep, session: SessionDep
) -> BrandRead:
    brand = service.create_brand(session, actor=actor_of(user), coop_id=coop_id, data=body)
    return service.brand_read(session, brand)


@router.get(f"{API}/brands/{{brand_id}}", response_model=BrandRead)
def get_brand(brand_id: int, session: SessionDep) -> BrandRead:
    return service.brand_read(session, service.get_brand(session, brand_id))


@router.post(
    f"{API}/brands/{{brand_id}}/certifications",
    response_model=CertificationRead,
    status_code=status.HTTP_201_CREATED,
)
def add_certification(
    brand_id: int, body: CertificationCreate, user: CurrentUserDep, session: SessionDep
) -> CertificationRead:
    certification = service.add_certification(
        session, actor=actor_of(user), brand_id=brand_id, data=body
    )
    return CertificationRead.model_validate(certification)


# Products


@router.get(f"{API}/products", response_model=ProductPage)
def list_products(
    user: OptionalUserDep,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    coop_id: int | None = None,
    category: Category | None = None,
    certification: CertificationKind | None = None,
    min_price: Annotated[int | None, Query(ge=0)] = None,
    max_price: Annotated[int | None, Query(ge=0)] = None,
    in_stock: bool | None = None,
    status: ProductStatus | None = None,
    mine: bool = False,
    sort: SortOrder = "newest",
) -> ProductPage:
    query = ProductQuery(
        q=q,
        coop_id=coop_id,
        category=category.value if category else None,
        certification=certification.value if certification else None,
        min_price=min_price,
        max_price=max_price,
        in_stock=in_stock,
        status=status.value if status else None,
        mine=mine,
        sort=sort,
        cursor=page.after(),
        limit=page.limit,
    )
    found, raw_next = search_products(session, actor=actor_of(user), query=query)
    items = products.product_reads(session, found)
    return ProductPage(items=items, next_cursor=encode_cursor(raw_next) if raw_next else None)


@router.post(f"{API}/products", response_model=ProductRead, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductCreate, user: CurrentUserDep, session: SessionDep) -> ProductRead:
    product = products.create_product(session, actor=actor_of(user), data=body)
    return products.product_reads(session, [product])[0]


@router.get(f"{API}/products/{{product_id}}", response_model=ProductDetail)
def get_product(product_id: int, user: OptionalUserDep, session: SessionDep) -> ProductDetail:
    product = products.product_for_view(session, actor=actor_of(user), product_id=product_id)
    return products.product_detail(session, product)


@router.patch(f"{API}/products/{{product_id}}", response_model=ProductRead)
def update_product(
    product_id: int, body: ProductUpdate, user: CurrentUserDep, session: SessionDep
) -> ProductRead:
    product = products.update_product(
        session, actor=actor_of(user), product_id=product_id, data=body
    )
    return products.product_reads(session, [product])[0]


@router.post(
    f"{API}/products/{{product_id}}/photos",
    response_model=PhotoRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_multipart_body("JPEG, PNG or WebP, at most 5 MB"),
)
async def add_photo(
    product_id: int,
    request: Request,
    user: CurrentUserDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PhotoRead:
    actor = actor_of(user)
    # Refuse before reading a large body when the caller could not add a photo anyway.
    await run_in_threadpool(products.product_for_edit, session, actor=actor, product_id=product_id)
    data, _name = await _uploaded_file(request, photos.MAX_UPLOAD_BYTES, photos.too_large_message())
    photo = await run_in_threadpool(
        photos.add_photo,
        session,
        actor=actor,
        product_id=product_id,
        data=data,
        media_dir=request.app.state.media_store,
        max_pixels=settings.max_image_pixels,
    )
    return photos.photo_read(photo)


@router.delete(
    f"{API}/products/{{product_id}}/photos/{{photo_id}}", status_code=status.HTTP_204_NO_CONTENT
)
def delete_photo(
    product_id: int, photo_id: int, request: Request, user: CurrentUserDep, session: SessionDep
) -> None:
    photos.delete_photo(
        session,
        actor=actor_of(user),
        product_id=product_id,
        photo_id=photo_id,
        media_dir=request.app.state.media_store,
    )


# Lots and provenance


@router.post(
    f"{API}/products/{{product_id}}/lots",
    response_model=LotRead,
    status_code=status.HTTP_201_CREATED,
)
def create_lot(
    product_id: int, body: LotCreate, user: CurrentUserDep, session: SessionDep
) -> LotRead:
    lot = products.create_lot(session, actor=actor_of(user), product_id=product_id, data=body)
    return products.lot_read(session, lot)


@router.get(f"{API}/lots/{{code}}", response_model=ProvenanceRead)
def get_lot(code: str, user: OptionalUserDep, session: SessionDep) -> ProvenanceRead:
    return provenance.provenance(session, actor=actor_of(user), code=code)


def _lot_url(settings: SettingsDep, session: SessionDep, user: User | None, code: str) -> str:
    """From HEZUO_PUBLIC_URL, never the request's Host (a cached or printed QR must not point
    wherever a request's Host header said)."""
    view = provenance.lot_view(session, actor=actor_of(user), code=code)
    return settings.public_url + provenance.page_path(view.lot.code)


@router.get("/l/{code}/qr.svg", include_in_schema=True, response_class=Response)
def lot_qr_svg(
    code: str, settings: SettingsDep, user: OptionalUserDep, session: SessionDep
) -> Response:
    svg = provenance.qr_svg(_lot_url(settings, session, user, code))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": QR_CACHE})


@router.get("/l/{code}/qr.png", include_in_schema=True, response_class=Response)
def lot_qr_png(
    code: str, settings: SettingsDep, user: OptionalUserDep, session: SessionDep
) -> Response:
    png = provenance.qr_png(_lot_url(settings, session, user, code))
    return Response(png, media_type="image/png", headers={"Cache-Control": QR_CACHE})


# Spreadsheet import


@router.get(f"{API}/imports/products-template.{{fmt}}", response_class=Response)
def import_template(fmt: str) -> Response:
    if fmt == "csv":
        return Response(
            imports.template_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="hezuo-products.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            imports.template_xlsx(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="hezuo-products.xlsx"'},
        )
    raise CatalogNotFound("template format", fmt)


@router.post(
    f"{API}/coops/{{coop_id}}/imports",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_multipart_body("CSV (UTF-8) or XLSX in the template's columns"),
)
async def import_products(
    coop_id: int,
    request: Request,
    user: CurrentUserDep,
    session: SessionDep,
    confirm_prices: Annotated[
        bool, Query(description="import prices that look doubtful (above ¥10,000 or far off)")
    ] = False,
) -> ImportResult:
    actor = actor_of(user)
    await run_in_threadpool(service.require_coop_manager_of, session, actor, coop_id)
    data, filename = await _uploaded_file(
        request, imports.MAX_IMPORT_BYTES, imports.too_large_message()
    )
    return await run_in_threadpool(
        imports.import_file,
        session,
        actor=actor,
        coop_id=coop_id,
        data=data,
        filename=filename,
        confirm_prices=confirm_prices,
    )


# Media


@router.get("/media/{path:path}", include_in_schema=False)
def media(path: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """A live photo's file: from the local directory, streamed from S3, or a signed S3 URL."""
    if not photos.is_photo_file(session, path):
        raise CatalogNotFound("media file", path)
    session.commit()  # nothing more to read; do not hold a transaction while sending the file
    store = request.app.state.media_store
    if isinstance(store, LocalMediaStore):
        found = photos.media_file(settings.media_dir, path)
        if found is None:
            raise CatalogNotFound("media file", path)
        return FileResponse(found, headers={"Cache-Control": MEDIA_CACHE})
    if settings.media_signed_url_seconds:
        seconds = settings.media_signed_url_seconds
        return RedirectResponse(
            store.signed_url(path, seconds),
            status_code=302,
            headers={"Cache-Control": f"private, max-age={max(seconds // 2, 1)}"},
        )
    content = store.get(path)
    if content is None:
        raise CatalogNotFound("media file", path)
    return Response(
        content, media_type=photos.PHOTO_CONTENT_TYPE, headers={"Cache-Control": MEDIA_CACHE}
    )
