"""Product photos: accept JPEG, PNG or WebP by content, re-encode and resize, store under the media dir.

Re-encoding drops whatever else the upload carried (EXIF with GPS, scripts in metadata, trailing
bytes); files are written under random names, so they can be cached forever.
"""

import io
import logging
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event, func, or_, select
from sqlmodel import Session, col

from catalog.errors import BadImage, CatalogNotFound
from catalog.media import MediaStore, MediaUnavailable, as_store
from catalog.models import ProductPhoto
from catalog.schemas import PhotoRead
from core.actor import Actor
from core.text import N_

# A phone camera's photo as it was taken (many are 8-15 MB); resized on the server.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; larger is refused (HEZUO_MAX_IMAGE_PIXELS)
# A large image must also weigh something: a real photo is a few pixels per byte, a decompression
# bomb (a 130 KB PNG of 40 megapixels, ~300 pixels a byte) is not worth the memory to decode.
BOMB_MIN_PIXELS = 12_000_000
BOMB_PIXELS_PER_BYTE = 64
ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
DISPLAY_SIZE = 1200
MEDIUM_SIZE = 720  # a 360 px phone screen at twice its density
THUMBNAIL_SIZE = 320
MAX_PHOTOS = 12
MEDIA_URL = "/media/"
PHOTO_CONTENT_TYPE = "image/webp"
logger = logging.getLogger("hezuo.catalog")


@dataclass(frozen=True)
class ProcessedImage:
    display: bytes
    medium: bytes
    thumbnail: bytes
    width: int
    height: int


def too_large_message(size: int | None = None) -> str:
    got = f" (this one is {size / 1024 / 1024:.1f} MB)" if size else ""
    return f"The photo must be at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB{got}."


def _check_pixel_budget(width: int, height: int, size: int, max_pixels: int) -> None:
    """Refuse from the header's dimensions alone, before a pixel is decoded."""
    pixels = width * height
    if pixels > max_pixels:
        raise BadImage(
            f"The photo has too many pixels ({width}×{height}; at most {max_pixels:,} in all)."
        )
    if pixels > BOMB_MIN_PIXELS and pixels > BOMB_PIXELS_PER_BYTE * size:
        raise BadImage(
            f"The photo's {width}×{height} pixels are far too many for a {size:,}-byte file; "
            "send the photo as the camera took it."
        )


def process_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ProcessedImage:
    """Three WebP renditions (≤ 1200, 720 and 320 px on the long side) of an accepted image,
    turned upright by its EXIF orientation."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadImage(too_large_message(len(data)))
    if not data:
        raise BadImage("The file is empty; choose a JPEG, PNG or WebP photo.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
            _check_pixel_budget(image.width, image.height, len(data), max_pixels)
            # A JPEG decodes at a fraction of its size straight away (still ≥ the display size):
            # a 48-megapixel camera photo then takes a quarter of the time and memory.
            image.draft("RGB", (DISPLAY_SIZE, DISPLAY_SIZE))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"The photo has too many pixels (at most {max_pixels:,}).") from None
    except UnidentifiedImageError:
        raise BadImage(
            "This file is not a JPEG, PNG or WebP image (its content was checked, not its name).",
            msgid=N_("This file is not a JPEG, PNG or WebP photo."),
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise BadImage(
            "The image is damaged or cut short; take or choose the photo again."
        ) from None
    oriented: Image.Image = ImageOps.exif_transpose(image)
    image_rgb = _flatten(oriented)
    display = _rendition(image_rgb, DISPLAY_SIZE, quality=82)
    medium = _rendition(image_rgb, MEDIUM_SIZE, quality=80)
    thumbnail = _rendition(image_rgb, THUMBNAIL_SIZE, quality=75)
    width, height = _fitted_size(image_rgb.size, DISPLAY_SIZE)
    return ProcessedImage(
        display=display, medium=medium, thumbnail=thumbnail, width=width, height=height
    )


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparency and palettes do not survive into a product photo."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _fitted_size(size: tuple[int, int], limit: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, limit / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _rendition(image: Image.Image, limit: int, *, quality: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((limit, limit), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue()


def add_photo(
    session: Session,
    *,
    actor: Actor,
    product_id: int,
    data: bytes,
    media_dir: Path | MediaStore,
    max_pixels: int = MAX_PIXELS,
) -> ProductPhoto:
    """Store both renditions (in a directory or a media store), then the row.

    If the store fails part-way, what was stored is removed again and MediaUnavailable (503)
    is raised: the request's transaction rolls back, so no row points at a missing file.
    """
    from catalog.products import product_for_edit  # products imports photo_read from here

    product = product_for_edit(session, actor=actor, product_id=product_id)
    count = session.scalar(
        select(func.count())
        .select_from(ProductPhoto)
        .where(col(ProductPhoto.product_id) == product_id)
    )
    if (count or 0) >= MAX_PHOTOS:
        raise BadImage(f"A product has at most {MAX_PHOTOS} photos; remove one first.")
    processed = process_image(data, max_pixels=max_pixels)
    relative_dir = Path("products") / str(product.id)
    stem = uuid.uuid4().hex
    display_path = relative_dir / f"{stem}-{DISPLAY_SIZE}.webp"
    medium_path = relative_dir / f"{stem}-{MEDIUM_SIZE}.webp"
    thumbnail_path = relative_dir / f"{stem}-{THUMBNAIL_SIZE}.webp"
    _store_all(
        as_store(media_dir),
        [
            (display_path.as_posix(), processed.display),
            (medium_path.as_posix(), processed.medium),
            (thumbnail_path.as_posix(), processed.thumbnail),
        ],
    )
    photo = ProductPhoto(
        product_id=product_id,
        display_path=display_path.as_posix(),
        medium_path=medium_path.as_posix(),
        thumbnail_path=thumbnail_path.as_posix(),
        width=processed.width,
        height=processed.height,
        position=count or 0,
    )
    session.add(photo)
    session.flush()
    return photo


def _store_all(store: MediaStore, files: list[tuple[str, bytes]]) -> None:
    stored: list[str] = []
    try:
        for key, content in files:
            store.put(key, content, PHOTO_CONTENT_TYPE)
            stored.append(key)
    except MediaUnavailable:
        for key in stored:
            try:
                store.delete(key)
            except MediaUnavailable:
                pass  # unreferenced (no row) and under a random name: harmless
        raise


def delete_photo(
    session: Session,
    *,
    actor: Actor,
    product_id: int,
    photo_id: int,
    media_dir: Path | MediaStore | None = None,
) -> None:
    """Delete the row; its files go once the transaction commits (never before: a rollback
    would leave a row without its files). /media/ serves only files a photo row refers to."""
    from catalog.products import product_for_edit

    product_for_edit(session, actor=actor, product_id=product_id)
    photo = session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product_id:
        raise CatalogNotFound("photo", photo_id)
    keys = [photo.display_path, photo.thumbnail_path]
    if photo.medium_path:
        keys.append(photo.medium_path)
    session.delete(photo)
    session.flush()
    if media_dir is not None:
        store = as_store(media_dir)

        def remove_files(_session: Session) -> None:
            for key in keys:
                try:
                    store.delete(key)
                except MediaUnavailable:
                    logger.warning("photo file %s stays in the store (unreachable)", key)

        event.listen(session, "after_commit", remove_files, once=True)


def is_photo_file(session: Session, key: str) -> bool:
    """Whether a live photo refers to this media key (deleted photos are no longer served)."""
    return (
        session.scalar(
            select(col(ProductPhoto.id)).where(
                or_(
                    col(ProductPhoto.display_path) == key,
                    col(ProductPhoto.medium_path) == key,
                    col(ProductPhoto.thumbnail_path) == key,
                )
            )
        )
        is not None
    )


def photo_read(photo: ProductPhoto) -> PhotoRead:
    assert photo.id is not None
    return PhotoRead(
        id=photo.id,
        url=MEDIA_URL + photo.display_path,
        thumbnail_url=MEDIA_URL + photo.thumbnail_path,
        srcset=srcset(photo),
    )


def srcset(photo: ProductPhoto) -> str:
    """The stored widths for `<img srcset>`: the browser picks the one its screen needs.
    Photos stored before the 720 px rendition existed offer their two."""
    widths = [(photo.thumbnail_path, THUMBNAIL_SIZE)]
    if photo.medium_path:
        widths.append((photo.medium_path, MEDIUM_SIZE))
    widths.append((photo.display_path, DISPLAY_SIZE))
    long_side = max(photo.width, photo.height, 1)
    return ", ".join(
        f"{MEDIA_URL}{key} {min(photo.width, round(photo.width * size / long_side))}w"
        for key, size in widths
    )


def media_file(media_dir: Path, relative: str) -> Path | None:
    """The file under media_dir for a /media/ path, or None (never a path outside it)."""
    root = media_dir.resolve()
    try:
        path = (root / relative).resolve()
    except (OSError, ValueError):
        return None
    if root not in path.parents or not path.is_file():
        return None
    return path
