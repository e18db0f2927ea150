"""The media store the settings choose: the local directory (default) or an S3-compatible bucket."""

from api.settings import Settings
from catalog.media import LocalMediaStore, MediaStore


def media_store(settings: Settings) -> MediaStore:
    if settings.media_backend == "s3":
        from api.media_s3 import S3MediaStore

        return S3MediaStore(settings)
    return LocalMediaStore(settings.media_dir)
