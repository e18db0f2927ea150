"""Photos in an S3-compatible store (moto in server mode, a real process on loopback): shared by
app instances, no longer served once deleted, and a store that is down refuses uploads cleanly."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.backup import backup, restore
from api.settings import Settings
from tests.catalog.images import image_bytes
from tests.catalog.test_photos import photo_count, upload
from tests.orders.stripe_harness import free_port, wait_until_up

KEYS = {"s3_access_key_id": "hezuo-test", "s3_secret_access_key": "hezuo-test-secret"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    port = free_port()
    moto = str(Path(sys.executable).with_name("moto_server"))
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, seconds=30, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def bucket(s3_server: str) -> str:
    name = f"hezuo-{uuid.uuid4().hex[:12]}"
    _s3(s3_server).create_bucket(Bucket=name)
    return name


def _s3(url: str):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEYS["s3_access_key_id"],
        aws_secret_access_key=KEYS["s3_secret_access_key"],
    )


def _keys(url: str, bucket: str) -> list[str]:
    return sorted(
        item["Key"] for item in _s3(url).list_objects_v2(Bucket=bucket).get("Contents", [])
    )


@pytest.fixture
def settings(database_url: str, tmp_path, s3_server: str, bucket: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media-a",
        media_backend="s3",
        s3_bucket=bucket,
        s3_endpoint_url=s3_server,
        **KEYS,
    )


@pytest.fixture
def other_instance(settings: Settings, tmp_path) -> Iterator[TestClient]:
    """A second app on the same database and bucket, with a media directory of its own."""
    app = create_app(settings.model_copy(update={"media_dir": tmp_path / "media-b"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def test_a_photo_uploaded_through_one_instance_is_served_by_another(
    client, other_instance, world, as_role, settings, s3_server, bucket, tmp_path
):
    response = upload(client, world, as_role("farmer_a"), image_bytes("JPEG", (1600, 900)))
    assert response.status_code == 201, response.text
    photo = response.json()

    served = other_instance.get(photo["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=86400"
    assert (
        served.content
        == _s3(s3_server).get_object(Bucket=bucket, Key=photo["url"][7:])["Body"].read()
    )
    assert other_instance.get(photo["thumbnail_url"]).status_code == 200
    for item in photo["srcset"].split(", "):  # every width of the srcset, from the bucket
        assert other_instance.get(item.split(" ")[0]).status_code == 200
    assert len(_keys(s3_server, bucket)) == 3  # 1200, 720 and 320 px
    assert not (tmp_path / "media-a").exists()  # nothing on the uploading instance's disk

    deleted = client.delete(
        f"/api/v1/products/{world.active.id}/photos/{photo['id']}", headers=as_role("farmer_a")
    )
    assert deleted.status_code == 204
    assert other_instance.get(photo["url"]).status_code == 404
    assert _keys(s3_server, bucket) == []


def test_signed_urls_lead_to_the_object_for_a_while(
    settings, world, as_role, client, s3_server, bucket
):
    response = upload(client, world, as_role("farmer_a"), image_bytes("PNG"))
    assert response.status_code == 201, response.text
    signing = create_app(settings.model_copy(update={"media_signed_url_seconds": 600}))
    with TestClient(signing) as other:
        redirect = other.get(response.json()["url"], follow_redirects=False)
    signing.state.engine.dispose()
    assert redirect.status_code == 302
    assert redirect.headers["cache-control"] == "private, max-age=300"
    target = redirect.headers["location"]
    assert target.startswith(f"{s3_server}/{bucket}/products/")
    assert "Signature=" in target or "X-Amz-Signature=" in target
    fetched = httpx.get(target)
    assert fetched.status_code == 200
    assert fetched.content[:4] == b"RIFF"  # WebP
    assert httpx.get(target.split("?")[0]).status_code == 403  # private bucket: unsigned refused


def test_a_store_that_is_down_refuses_the_upload_and_keeps_nothing(
    settings, world, as_role, session
):
    headers = as_role("farmer_a")
    down = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    app = create_app(down)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = upload(client, world, headers, image_bytes("JPEG"))
    app.state.engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "nothing was saved" in response.json()["detail"]
    assert photo_count(session) == 0


def test_deleted_photos_are_no_longer_served_from_local_disk(
    client, world, as_role, database_url, tmp_path
):
    local = Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "local",
    )
    app = create_app(local)
    with TestClient(app) as local_client:
        response = upload(local_client, world, as_role("farmer_a"), image_bytes("JPEG"))
        assert response.status_code == 201, response.text
        photo = response.json()
        assert local_client.get(photo["url"]).status_code == 200
        files = list((tmp_path / "local").rglob("*.webp"))
        assert len(files) == 3  # 1200, 720 and 320 px
        assert (
            local_client.delete(
                f"/api/v1/products/{world.active.id}/photos/{photo['id']}",
                headers=as_role("farmer_a"),
            ).status_code
            == 204
        )
        assert local_client.get(photo["url"]).status_code == 404
        assert local_client.get(photo["thumbnail_url"]).status_code == 404
    app.state.engine.dispose()
    assert list((tmp_path / "local").rglob("*.webp")) == []


def test_backup_and_restore_carry_the_bucket_s_photos(
    client, world, as_role, settings, s3_server, bucket, empty_database, tmp_path
):
    response = upload(client, world, as_role("farmer_a"), image_bytes("JPEG"))
    assert response.status_code == 201, response.text
    result = backup(settings, tmp_path / "backup")
    assert result.media_files == 3
    saved = sorted(
        p.relative_to(tmp_path / "backup" / "media").as_posix()
        for p in (tmp_path / "backup" / "media").rglob("*.webp")
    )
    assert saved == _keys(s3_server, bucket)

    new_bucket = f"hezuo-{uuid.uuid4().hex[:12]}"
    _s3(s3_server).create_bucket(Bucket=new_bucket)
    target = settings.model_copy(update={"database_url": empty_database, "s3_bucket": new_bucket})
    restore(target, tmp_path / "backup")
    assert _keys(s3_server, new_bucket) == saved
    app = create_app(target)
    with TestClient(app) as restored:
        assert restored.get(response.json()["url"]).status_code == 200
    app.state.engine.dispose()
