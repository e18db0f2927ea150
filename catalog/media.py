"""Where media files (product photos) are kept: a local directory by default, or an S3-compatible
object store (the app's api.media_s3) so that every replica sees every photo.

Keys are relative POSIX paths (``products/12/<random>-1200.webp``): random names, never reused, so
a file under one key never changes.
"""

from pathlib import Path
from typing import Protocol

from core.errors import DomainError


class MediaUnavailable(DomainError):
    """The media store cannot be reached: nothing was stored, try again later."""

    status_code = 503
    title = "Media storage unavailable"
    type_slug = "media-unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            detail
            or "The photo store cannot be reached right now, so nothing was saved. "
            "Try again in a few minutes."
        )


class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


class LocalMediaStore:
    """Files under one directory (HEZUO_MEDIA_DIR); the app serves them from /media/."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path | None:
        """The file for a key, or None (never a path outside the root)."""
        root = self.root.resolve()
        try:
            path = (root / key).resolve()
        except (OSError, ValueError):
            return None
        if root not in path.parents:
            return None
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        if path is None:
            raise ValueError(f"media key {key!r} leaves the media directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        return path.read_bytes() if path is not None and path.is_file() else None

    def delete(self, key: str) -> None:
        path = self.path(key)
        if path is not None:
            path.unlink(missing_ok=True)


def as_store(media: "Path | MediaStore") -> MediaStore:
    return LocalMediaStore(media) if isinstance(media, Path) else media
