"""Photos from the pages: a manager adds or replaces a product's photo after listing (replacing
only with the box ticked), a phone camera's large photo is accepted and turned upright, a too-large
or broken one keeps the form as typed, and pages offer every stored width (`srcset`)."""

import io
import os
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from catalog.models import ProductPhoto
from catalog.photos import MAX_UPLOAD_BYTES, process_image
from tests.catalog.images import image_bytes
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

JPEG = "image/jpeg"


def as_user(client, world, role: str) -> str:
    client.cookies.clear()
    assert sign_in(client, world.user(role).email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, f"/products/{world.active.id}")


def photos_of(session, product_id: int) -> list[ProductPhoto]:
    session.rollback()
    return list(
        session.scalars(
            select(ProductPhoto)
            .where(ProductPhoto.product_id == product_id)
            .order_by(ProductPhoto.position)
        ).all()
    )


def send(client, product_id: int, token: str, data: bytes, **fields: str):
    return client.post(
        f"/products/{product_id}/photos",
        data={"csrf_token": token, **fields},
        files={"photo": ("camera.jpg", data, JPEG)},
        headers=HTML,
        follow_redirects=False,
    )


def camera_photo(size=(4000, 3000), orientation: int = 1, noise: bool = False) -> bytes:
    """A JPEG as a phone takes it: large, with an EXIF orientation tag."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (90, 140, 60))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def test_a_manager_adds_then_replaces_a_photo_after_listing(client, world, session):
    product = world.active.id
    token = as_user(client, world, "manager_a")
    page = client.get(f"/products/{product}", headers=HTML).text
    assert f'action="/products/{product}/photos"' in page
    assert 'enctype="multipart/form-data"' in page

    added = send(client, product, token, image_bytes("JPEG", (1600, 1200)))
    assert added.status_code == 303, added.text
    (first,) = photos_of(session, product)
    old_display, old_position = first.display_path, first.position
    page = client.get(added.headers["location"], headers=HTML).text
    assert "照片已保存" in page
    # every stored width in srcset, with sizes, on the product page and the storefront card
    assert re.search(
        r'srcset="[^"]+-320\.webp 320w, [^"]+-720\.webp 720w, [^"]+-1200\.webp 1200w"', page
    )
    assert 'sizes="(min-width: 40rem) 50vw, 100vw"' in page
    listing = client.get("/products", headers=HTML).text
    assert f"/media/{first.thumbnail_path} 320w" in listing
    assert 'sizes="(min-width: 60rem) 25vw' in listing

    # replacing without ticking the box deletes nothing and says why; the choice is kept
    unticked = send(client, product, token, image_bytes("PNG"), replace=str(first.id))
    assert unticked.status_code == 422
    assert "请勾选以删除旧照片" in unticked.text
    assert f'value="{first.id}" checked' in unticked.text
    assert [p.id for p in photos_of(session, product)] == [first.id]

    replaced = send(
        client, product, token, image_bytes("PNG"), replace=str(first.id), replace_confirmed="yes"
    )
    assert replaced.status_code == 303, replaced.text
    (second,) = photos_of(session, product)
    assert second.display_path != old_display
    assert second.position == old_position
    assert client.get(f"/media/{old_display}").status_code == 404
    assert client.get(f"/media/{second.display_path}").status_code == 200


def test_a_phone_camera_photo_of_many_megabytes_is_accepted_upright_and_resized(
    client, world, session
):
    # portrait taken with the phone turned: stored 4000×3000 sideways, EXIF says rotate 90°
    data = camera_photo((4000, 3000), orientation=6, noise=True)
    assert 5 * 1024 * 1024 < len(data) < MAX_UPLOAD_BYTES  # refused before; a phone's usual size
    token = as_user(client, world, "farmer_a")
    sent = send(client, world.active.id, token, data)
    assert sent.status_code == 303, sent.text[:500]
    (photo,) = photos_of(session, world.active.id)
    assert (photo.width, photo.height) == (900, 1200)  # upright: taller than wide
    medium = Image.open(io.BytesIO(client.get(f"/media/{photo.medium_path}").content))
    assert medium.size == (540, 720)


def test_the_renditions_keep_orientation_and_widths():
    processed = process_image(camera_photo((1600, 1200), orientation=8))
    sizes = [
        Image.open(io.BytesIO(b)).size
        for b in (processed.display, processed.medium, processed.thumbnail)
    ]
    assert sizes == [(900, 1200), (540, 720), (240, 320)]


def test_a_too_large_or_broken_photo_keeps_the_form(client, world, session):
    token = as_user(client, world, "manager_a")
    product = world.active.id
    too_large = send(client, product, token, b"\xff\xd8\xff" + b"\0" * (MAX_UPLOAD_BYTES + 10))
    assert too_large.status_code == 422
    assert "照片超过 20 MB" in too_large.text
    assert "Edit this product" not in too_large.text  # the page in Chinese, not English
    broken = send(client, product, token, b"%PDF-1.4 not an image")
    assert broken.status_code == 422
    assert "这个文件不是 JPEG、PNG 或 WebP 格式的照片" in broken.text  # its own message id
    assert photos_of(session, product) == []

    # the /sell form keeps every field typed when the photo is too large
    token = as_user(client, world, "farmer_a")
    sold = client.post(
        "/sell",
        data={
            "csrf_token": token,
            "name_zh": "核桃王",
            "category": "nuts",
            "unit": "jin",
            "price": "25.50",
            "quantity": "40",
            "harvested_on": "2026-10-10",
        },
        files={"photo": ("big.jpg", b"\xff\xd8\xff" + b"\0" * (MAX_UPLOAD_BYTES + 10), JPEG)},
        headers=HTML,
    )
    assert sold.status_code == 422
    assert 'value="核桃王"' in sold.text
    assert 'value="25.50"' in sold.text
    assert "照片超过 20 MB" in sold.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ProductPhoto)) == 0


@pytest.mark.parametrize(
    ("role", "expected"), [("manager_b", 403), ("buyer", 403), ("farmer_a2", 403)]
)
def test_who_may_not_change_a_products_photos(client, world, session, role, expected):
    token = as_user(client, world, role)
    page = client.get(f"/products/{world.active.id}", headers=HTML).text
    assert f'action="/products/{world.active.id}/photos"' not in page
    refused = send(client, world.active.id, token, image_bytes("JPEG"))
    assert refused.status_code in (expected, 404)
    assert photos_of(session, world.active.id) == []


def test_a_sell_form_refused_for_another_field_asks_for_the_photo_again(client, world):
    token = as_user(client, world, "farmer_a")
    refused = client.post(
        "/sell",
        data={
            "csrf_token": token,
            "name_zh": "核桃王",
            "category": "nuts",
            "unit": "jin",
            "price": "二十五",
            "quantity": "40",
            "harvested_on": "2026-10-10",
        },
        files={"photo": ("walnut.jpg", image_bytes("JPEG"), JPEG)},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'value="核桃王"' in refused.text
    assert "提交前请重新选择照片" in refused.text
