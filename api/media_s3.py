"""Media in an S3-compatible object store (AWS S3, MinIO, ...) through boto3.

Every replica reads and writes the same bucket, so a photo uploaded through one app process is
served by any other. A store that cannot be reached is MediaUnavailable (503), quickly: short
timeouts and few retries, so an upload never hangs a worker.
"""

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api.settings import Settings
from catalog.media import MediaUnavailable

MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class S3MediaStore:
    def __init__(self, settings: Settings) -> None:
        assert settings.s3_bucket is not None
        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
            config=Config(
                connect_timeout=3,
                read_timeout=10,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},  # MinIO and most self-hosted stores
            ),
        )

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl="public, max-age=86400",
            )
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable() from error

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(answer["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_CODES:
                return None
            raise MediaUnavailable() from error
        except BotoCoreError as error:
            raise MediaUnavailable() from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable() from error

    def keys(self) -> list[str]:
        """Every object's key (for backups)."""
        found: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                found.extend(item["Key"] for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable() from error
        return found

    def signed_url(self, key: str, seconds: int) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
            )
        )
