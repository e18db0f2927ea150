"""Image bytes made on the spot for upload tests."""

import io

from PIL import Image


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (640, 480), mode: str = "RGB") -> bytes:
    image = Image.new(mode, size, (200, 150, 30) if mode == "RGB" else None)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()
