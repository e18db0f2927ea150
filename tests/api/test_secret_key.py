"""No usable secret is ever shipped: development makes its own key once; the old public default
is refused, and a token forged with it does not sign anybody in."""

import stat

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.models import Role
from api.security import JWT_ALGORITHM
from api.settings import DEVELOPMENT_SECRET, Settings
from ledger.base import utcnow


def test_development_makes_a_private_key_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("HEZUO_SECRET_KEY", raising=False)
    monkeypatch.setenv("HEZUO_SECRET_KEY_FILE", str(tmp_path / "var" / "secret_key"))
    first = Settings(env="development")
    key_file = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 48
    assert first.secret_key != DEVELOPMENT_SECRET
    assert Settings(env="development").secret_key == first.secret_key  # reused after a restart
    other = tmp_path / "elsewhere" / "secret_key"
    assert Settings(env="development", secret_key_file=other).secret_key != first.secret_key


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_the_old_public_default_is_refused_everywhere(monkeypatch, env):
    monkeypatch.setenv("HEZUO_SECRET_KEY", DEVELOPMENT_SECRET)
    with pytest.raises(ValidationError, match="HEZUO_SECRET_KEY"):
        Settings(env=env)


def test_a_token_forged_with_the_old_default_is_refused(
    monkeypatch, tmp_path, database_url, make_user
):
    admin = make_user(Role.admin)
    monkeypatch.delenv("HEZUO_SECRET_KEY", raising=False)
    settings = Settings(
        env="development", database_url=database_url, secret_key_file=tmp_path / "key"
    )
    now = utcnow()
    claims = {"sub": str(admin.id), "iat": now, "exp": now.replace(year=now.year + 1)}
    forged = jwt.encode(claims, DEVELOPMENT_SECRET, algorithm=JWT_ALGORITHM)
    app = create_app(settings)
    with TestClient(app) as client:
        answer = client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"})
    app.state.engine.dispose()
    assert answer.status_code == 401
