"""Image decoding stays within a pixel budget (HEZUO_MAX_IMAGE_PIXELS), checked from the header."""

import io

import pytest
from PIL import Image

from api.settings import Settings
from catalog import photos
from catalog.errors import BadImage
from tests.catalog.images import image_bytes
from tests.catalog.test_photos import photo_count, upload


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings(**{**settings.model_dump(), "max_image_pixels": 5_000_000})


def _bomb() -> bytes:
    """A 39.9-megapixel PNG of one colour: under 40 KB on the wire, 120 MB and more decoded."""
    out = io.BytesIO()
    Image.new("L", (7000, 5700)).save(out, format="PNG")
    return out.getvalue()


def test_a_decompression_bomb_is_refused_from_its_header(monkeypatch):
    data = _bomb()
    assert len(data) < 64 * 1024

    def never(*_args: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(Image.Image, "load", never)  # refused before any pixel is decoded
    with pytest.raises(BadImage, match="far too many for a"):
        photos.process_image(data)


def test_above_the_budget_is_refused_and_a_real_phone_photo_passes():
    with pytest.raises(BadImage, match="too many pixels"):
        photos.process_image(image_bytes("PNG", (2500, 2100)), max_pixels=5_000_000)
    noise = Image.effect_noise((4000, 3000), 12).convert("RGB")  # a 12 MP photo, grainy
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=70)
    processed = photos.process_image(out.getvalue())
    assert (processed.width, processed.height) == (1200, 900)


def test_the_upload_route_answers_422_within_the_setting(client, world, as_role, session):
    over = upload(client, world, as_role("farmer_a"), image_bytes("PNG", (3000, 2000)), "x.png")
    assert over.status_code == 422, over.text
    assert over.headers["content-type"].startswith("application/problem+json")
    assert "5,000,000" in over.json()["detail"]
    assert photo_count(session) == 0
    under = upload(client, world, as_role("farmer_a"), image_bytes("PNG", (2000, 2000)), "y.png")
    assert under.status_code == 201, under.text
