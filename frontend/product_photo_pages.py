"""A product's photos after listing: its editor adds one or replaces one (the old one only with a
box ticked). Up to 20 MB from a phone camera, resized on the server (catalog.photos); a refused
photo shows the product page again with the reason next to the photo field.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from api.deps import SessionDep, SettingsDep, actor_of
from catalog import photos, products
from catalog.models import ProductPhoto
from core.actor import Actor
from core.errors import DomainError, Forbidden, NotFound
from frontend.catalog_pages import _page, photo_too_large, product_context
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import SignedInDep
from frontend.i18n import N_, translator
from frontend.problems import problem_message
from frontend.rendering import page_router

router = page_router()

# Adding or replacing a product's photo after listing

CONFIRM_REPLACE = N_("Tick the box to delete the old photo, or choose to add this one.")
CHOOSE_PHOTO = N_("Choose a photo.")


def _photo_page(
    request: Request,
    session: Session,
    actor: Actor,
    product_id: int,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int,
) -> HTMLResponse:
    context = product_context(request, session, actor, product_id)
    context.update(photo_values=values, photo_errors=errors)
    return _page(request, "catalog/product.html", context, status_code)


def _replaced(session: Session, product_id: int, replace: str) -> ProductPhoto | None:
    photo = session.get(ProductPhoto, int(replace)) if replace.isdigit() else None
    if photo is None or photo.product_id != product_id:
        return None
    return photo


def _store_photo(
    session: Session,
    actor: Actor,
    product_id: int,
    data: bytes,
    old: ProductPhoto | None,
    store: Any,
    max_pixels: int,
) -> None:
    """The new photo, in the old one's place when replacing (the old one's files go on commit)."""
    if old is not None:
        assert old.id is not None
        position = old.position
        photos.delete_photo(
            session, actor=actor, product_id=product_id, photo_id=old.id, media_dir=store
        )
    photo = photos.add_photo(
        session,
        actor=actor,
        product_id=product_id,
        data=data,
        media_dir=store,
        max_pixels=max_pixels,
    )
    if old is not None:
        photo.position = position
        session.add(photo)
        session.flush()


@router.post("/products/{product_id}/photos", response_class=HTMLResponse)
async def upload_photo(
    product_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Add a photo, or replace one (only with the box ticked: the old photo is deleted)."""
    actor = actor_of(user)
    await run_in_threadpool(products.product_for_edit, session, actor=actor, product_id=product_id)
    form = await request.form(max_files=1, max_fields=5)
    values = {
        "replace": str(form.get("replace") or "").strip()[:20],
        "replace_confirmed": "yes" if form.get("replace_confirmed") == "yes" else "",
    }
    gettext = translator(request).gettext
    errors: dict[str, str] = {}
    upload = form.get("photo")
    data = b""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(photos.MAX_UPLOAD_BYTES + 1)
    if not data:
        errors["photo"] = gettext(CHOOSE_PHOTO)
    elif len(data) > photos.MAX_UPLOAD_BYTES:
        errors["photo"] = photo_too_large(request)
    old = _replaced(session, product_id, values["replace"])
    if old is not None and not values["replace_confirmed"]:
        errors["replace_confirmed"] = gettext(CONFIRM_REPLACE)
    if not errors:
        try:
            await run_in_threadpool(
                _store_photo,
                session,
                actor,
                product_id,
                data,
                old,
                request.app.state.media_store,
                settings.max_image_pixels,
            )
            return RedirectResponse(f"/products/{product_id}?done=photo#photos", status_code=303)
        except DomainError as error:
            if isinstance(error, Forbidden | NotFound):
                raise
            refused = {"photo": problem_message(request, error)}
            refuse(lambda: _photo_page(request, session, actor, product_id, values, refused, 422))
    return _photo_page(request, session, actor, product_id, values, errors, 422)


def install_product_photo_pages(app: FastAPI) -> None:
    app.include_router(router)
