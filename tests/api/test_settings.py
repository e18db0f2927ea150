"""Settings from the environment; production refuses default or short secrets."""

import pytest
from pydantic import ValidationError

from api.settings import DEVELOPMENT_SECRET, Settings


def test_defaults_are_the_embedded_development_set_up(monkeypatch):
    for name in ("HEZUO_ENV", "HEZUO_DATABASE_URL", "HEZUO_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url == "sqlite:///var/hezuo.db"
    assert settings.default_locale == "zh-CN"
    assert not settings.stripe_enabled


def test_postgresql_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("HEZUO_DATABASE_URL", "postgresql://root@127.0.0.1:5432/hezuo")
    assert Settings().database_url == "postgresql+psycopg://root@127.0.0.1:5432/hezuo"


@pytest.mark.parametrize("secret", [None, DEVELOPMENT_SECRET, "short"])
def test_production_refuses_a_missing_default_or_short_secret(monkeypatch, secret):
    monkeypatch.setenv("HEZUO_ENV", "production")
    monkeypatch.delenv("HEZUO_SECRET_KEY", raising=False)
    if secret is not None:
        monkeypatch.setenv("HEZUO_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match="HEZUO_SECRET_KEY"):
        Settings()


def test_production_accepts_a_real_secret(monkeypatch):
    monkeypatch.setenv("HEZUO_ENV", "production")
    monkeypatch.setenv("HEZUO_SECRET_KEY", "x" * 40)
    assert Settings().env == "production"


def test_training_and_payout_policies_come_from_the_one_settings_class(monkeypatch):
    from api.policies import training_config

    monkeypatch.setenv("HEZUO_TRAINING_WINDOW_MONTHS", "3")
    monkeypatch.setenv("HEZUO_PAYOUT_MINIMUM", "5000")
    settings = Settings()
    assert training_config(settings).window_months == 3
    assert settings.payout_minimum == 5000
