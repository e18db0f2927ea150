"""Notification fixtures: the orders world, a real SMTP server and an SMS endpoint on loopback."""

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.database import create_db_engine, create_session_factory
from api.settings import Settings
from api.wiring import send_notifications
from notify.delivery import Counts
from tests.notify.servers import Mailbox, SmsEndpoint, SmtpServer
from tests.orders.conftest import as_role, place, world  # noqa: F401 — shared fixtures
from tests.orders.stripe_harness import free_port

SMS_KEY_ID = "LTAI-test-key"
SMS_SECRET = "test-sms-secret"
PAYEE = {
    "name": "松江合作社服务中心",
    "bank": "中国农业银行松江支行",
    "account": "6228 4800 1234 5678",
}


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp(mailbox: Mailbox) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port(), mailbox)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sms_endpoint() -> Iterator[SmsEndpoint]:
    endpoint = SmsEndpoint(SMS_KEY_ID, SMS_SECRET)
    endpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def settings(database_url: str, tmp_path, smtp: SmtpServer, sms_endpoint: SmsEndpoint) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
        public_url="https://hezuo.example.org",
        smtp_url=smtp.url,
        mail_from="Hezuo 合作 <noreply@hezuo.example.org>",
        sms_provider="aliyun",
        sms_endpoint=sms_endpoint.url,
        sms_access_key_id=SMS_KEY_ID,
        sms_access_key_secret=SMS_SECRET,
        sms_sign_name="合作社",
        sms_templates={"share_credited": "SMS_100001", "payout_paid": "SMS_100002"},
        bank_transfer_payee=PAYEE["name"],
        bank_transfer_bank=PAYEE["bank"],
        bank_transfer_account=PAYEE["account"],
        notify_retry_base_seconds=1,
    )


@pytest.fixture
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = create_db_engine(settings.database_url)
    yield create_session_factory(engine)
    engine.dispose()


@pytest.fixture
def deliver(factory, settings: Settings) -> Callable[..., Counts]:
    """Run the delivery job as a scheduler would."""

    def run(limit: int = 500, **changes: object) -> Counts:
        return send_notifications(factory, settings.model_copy(update=changes), limit=limit)

    return run
