"""What delivery needs from the settings (api/policies.py builds it), so notify never imports api."""

from dataclasses import dataclass, field


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
