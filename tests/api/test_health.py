"""Liveness and readiness."""

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.settings import Settings


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["migrations"]["current"] == body["migrations"]["head"]


def test_readyz_is_503_when_migrations_are_behind(client, engine):
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"]["current"] == ["0000"]


def test_readyz_is_503_when_the_database_is_unreachable(settings):
    unreachable = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"}
    )
    with TestClient(create_app(unreachable)) as client:
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_readyz_is_503_on_an_empty_database(tmp_path):
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path}/empty.db")
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 503
