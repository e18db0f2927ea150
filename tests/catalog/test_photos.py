"""Photo uploads: content-checked, re-encoded, resized, stored under the media dir, cached."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from catalog.models import ProductPhoto
from tests.catalog.images import image_bytes


def upload(client, world, headers, data, name="photo.jpg", mime="image/jpeg"):
    return client.post(
        f"/api/v1/products/{world.active.id}/photos",
        files={"file": (name, data, mime)},
        headers=headers,
    )


def photo_count(session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(ProductPhoto)) or 0)


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")])
def test_accepted_images_are_resized_and_served_with_cache_headers(
    client, world, as_role, settings, fmt, mode
):
    response = upload(
        client, world, as_role("farmer_a"), image_bytes(fmt, (3000, 2000), mode), name="x.bin"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"].startswith("/media/products/")
    display = client.get(body["url"])
    assert display.status_code == 200
    assert display.headers["cache-control"] == "public, max-age=86400"  # a day: deletions take
    image = Image.open(io.BytesIO(display.content))
    assert image.format == "WEBP"
    assert max(image.size) == 1200
    thumbnail = Image.open(io.BytesIO(client.get(body["thumbnail_url"]).content))
    assert max(thumbnail.size) == 320
    # every stored width is offered to <img srcset>, each served and as wide as it says
    offered = [item.split(" ") for item in body["srcset"].split(", ")]
    assert [w for _url, w in offered] == ["320w", "720w", "1200w"]
    for url, width in offered:
        served = Image.open(io.BytesIO(client.get(url).content))
        assert f"{served.size[0]}w" == width, url
    assert (settings.media_dir / body["url"].removeprefix("/media/")).is_file()
    product = client.get(f"/api/v1/products/{world.active.id}").json()
    assert product["photos"] == [body]


def test_a_pdf_named_jpg_is_refused(client, world, as_role, session):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF\n"
    response = upload(client, world, as_role("farmer_a"), pdf, name="photo.jpg")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "not a JPEG, PNG or WebP" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "file"]
    assert photo_count(session) == 0


def test_a_gif_is_refused(client, world, as_role):
    response = upload(client, world, as_role("farmer_a"), image_bytes("GIF"), name="a.gif")
    assert response.status_code == 422


def test_a_truncated_image_is_refused(client, world, as_role):
    data = image_bytes("PNG", (800, 800))
    response = upload(client, world, as_role("farmer_a"), data[: len(data) // 2])
    assert response.status_code == 422


def test_a_50_mb_upload_is_refused_with_a_clear_message(client, world, as_role, session):
    big = b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024)
    response = upload(client, world, as_role("farmer_a"), big)
    assert response.status_code == 413  # above every upload (HEZUO_MAX_UPLOAD_BYTES), unread
    assert "33,554,432 bytes at most" in response.json()["detail"]
    assert photo_count(session) == 0
    big_photo = b"\xff\xd8\xff" + b"\0" * (21 * 1024 * 1024)
    response = upload(client, world, as_role("farmer_a"), big_photo)
    assert response.status_code == 422  # a body the app accepts, but no photo is this large
    assert "at most 20 MB" in response.json()["detail"]


def test_just_over_20_mb_without_declared_length_is_refused(client, world, as_role):
    body = image_bytes("PNG") + b"\0" * (20 * 1024 * 1024)

    def chunks():
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n" + body + b"\r\n" + boundary + b"--\r\n"

    headers = {**as_role("farmer_a"), "content-type": "multipart/form-data; boundary=b0undary"}
    response = client.post(
        f"/api/v1/products/{world.active.id}/photos", content=chunks(), headers=headers
    )
    assert response.status_code == 422
    assert "at most 20 MB" in response.json()["detail"]


def test_missing_file_field(client, world, as_role):
    response = client.post(
        f"/api/v1/products/{world.active.id}/photos",
        files={"photo": ("a.png", image_bytes(), "image/png")},
        headers=as_role("farmer_a"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file"]


def test_delete_photo_by_an_editor_only(client, world, as_role, session):
    photo = upload(client, world, as_role("farmer_a"), image_bytes()).json()
    path = f"/api/v1/products/{world.active.id}/photos/{photo['id']}"
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=as_role("farmer_a2")).status_code == 403
    assert client.delete(path, headers=as_role("manager_b")).status_code == 403
    assert client.delete(path, headers=as_role("farmer_a")).status_code == 204
    assert client.delete(path, headers=as_role("farmer_a")).status_code == 404
    assert photo_count(session) == 0


def test_media_paths_cannot_escape_the_media_dir(client, settings):
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    assert client.get("/media/nothing.webp").status_code == 404
