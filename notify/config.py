"""What delivery needs from the settings (api/policies.py builds it), so notify never imports api."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Payee:
    """Where bank transfers go: shown in bank-transfer order messages."""

    name: str
    bank: str
    account: str


@dataclass(frozen=True)
class SmsConfig:
    provider: str = "none"  # none | log | aliyun
    sign_name: str = ""
    # Message kind → the provider's approved template code (Alibaba Cloud: "SMS_123456789").
    templates: dict[str, str] = field(default_factory=dict)
    access_key_id: str = ""
    access_key_secret: str = ""
    endpoint: str = "https://dysmsapi.aliyuncs.com"
    region: str = "cn-hangzhou"


@dataclass(frozen=True)
class DeliveryConfig:
    public_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Shanghai"
    secret_key: str = ""  # signs one-click unsubscribe links
    smtp_url: str | None = None
    mail_from: str = "Hezuo <noreply@localhost>"
    sms: SmsConfig = field(default_factory=SmsConfig)
    payee: Payee | None = None
    max_attempts: int = 8
    retry_base_seconds: int = 60
    retry_max_seconds: int = 6 * 3600
    lease_seconds: int = 300
    smtp_timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, s: Any) -> "DeliveryConfig":
        """From the HEZUO_ settings object (api.settings.Settings), read by attribute name."""
        payee = (
            Payee(
                name=s.bank_transfer_payee,
                bank=s.bank_transfer_bank,
                account=s.bank_transfer_account,
            )
            if s.bank_transfer_payee and s.bank_transfer_account
            else None
        )
        return cls(
            public_url=s.public_url,
            timezone=s.timezone,
            secret_key=s.secret_key,
            smtp_url=s.smtp_url,
            mail_from=s.mail_from,
            sms=SmsConfig(
                provider=s.sms_provider,
                sign_name=s.sms_sign_name,
                templates=dict(s.sms_templates),
                access_key_id=s.sms_access_key_id,
                access_key_secret=s.sms_access_key_secret,
                endpoint=s.sms_endpoint,
            ),
            payee=payee,
            max_attempts=s.notify_max_attempts,
            retry_base_seconds=s.notify_retry_base_seconds,
            lease_seconds=s.notify_lease_seconds,
        )
