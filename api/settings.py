"""One settings class, read from the environment with the prefix HEZUO_."""

import os
import secrets
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from catalog.bank_accounts import BankAccount
from ledger.share_rules import SHARE_PARTS, part_keys
from orders.payment_methods import METHODS

# The key earlier versions shipped as the development default: published, so refused everywhere.
DEVELOPMENT_SECRET = "dev-insecure-secret-change-me"
MIN_PRODUCTION_SECRET_LENGTH = 32
# Payment methods Hezuo can offer through Stripe (Stripe's payment_method_types values).
STRIPE_PAYMENT_METHODS = ("card", "alipay", "wechat_pay")
# Periodic jobs and their default schedules ("every N[s|m|h]", a crontab line in HEZUO_TIMEZONE,
# or "off"); HEZUO_JOB_SCHEDULES (JSON) overrides some or all of them.
DEFAULT_JOB_SCHEDULES = {
    "orders-expire": "every 1m",
    "orders-auto-deliver": "30 3 * * *",
    "ledger-seal": "5 * * * *",
    "stripe-sync": "15 * * * *",
    "governance-monitor": "0 4 1 * *",
    "notify-send": "every 15s",
}


class _ShareRuleSettingBase(BaseModel):
    """The default share rule in basis points (HEZUO_DEFAULT_SHARE_RULE as JSON): one field per
    part of `ledger.share_rules.SHARE_PARTS`, its default the part's `default_bp`."""

    @model_validator(mode="after")
    def _sums_to_10000(self) -> "_ShareRuleSettingBase":
        total = sum(getattr(self, key) for key in part_keys())
        if total != 10_000:
            raise ValueError(f"the default share rule's parts must sum to 10000, not {total}")
        return self


if TYPE_CHECKING:

    class ShareRuleSetting(_ShareRuleSettingBase):
        def __getattr__(self, name: str) -> int: ...

else:
    ShareRuleSetting = create_model(
        "ShareRuleSetting",
        __base__=_ShareRuleSettingBase,
        __module__=__name__,
        **{
            part.key: (int, Field(default=part.default_bp, ge=0, le=10_000)) for part in SHARE_PARTS
        },
    )


# Each payment method's reservation window (orders/payment_methods.py names the field and its
# default, e.g. HEZUO_RESERVATION_MINUTES_BANK_TRANSFER): minutes an unpaid order holds its stock.
_RESERVATION_FIELDS: dict[str, Any] = {
    method.reservation_setting: (int, Field(default=method.reservation_minutes, ge=1))
    for method in METHODS
}
if TYPE_CHECKING:

    class _ReservationWindows(BaseSettings):
        """For mypy: the fields are made from the registry below."""

else:
    _ReservationWindows = create_model(
        "_ReservationWindows", __base__=BaseSettings, **_RESERVATION_FIELDS
    )


class Settings(_ReservationWindows):
    model_config = SettingsConfigDict(env_prefix="HEZUO_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/hezuo.db"
    # Unset outside production: a random key is made once in secret_key_file and reused.
    secret_key: str = ""
    secret_key_file: Path = Path("var/secret_key")
    media_dir: Path = Path("var/media")
    # Request bodies: JSON and forms, and multipart uploads (refused 413 before being read).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Images with more pixels than this are refused before decoding (decompression bombs).
    max_image_pixels: int = Field(default=50_000_000, ge=1_000_000, le=89_000_000)
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    currency: str = "CNY"
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    web_session_days: int = Field(default=14, ge=1, le=90)
    # A guest's order link (its token) works this many days after the order was placed.
    guest_token_days: int = Field(default=90, ge=1, le=3650)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=60, ge=1)
    login_max_failures_per_client: int = Field(default=30, ge=1)
    login_max_failures_per_account: int = Field(default=50, ge=1)
    # A printed one-time sign-in card (QR) works this long; a reset code sent by SMS this long.
    sign_in_card_minutes: int = Field(default=24 * 60, ge=5, le=14 * 24 * 60)
    password_reset_minutes: int = Field(default=10, ge=2, le=60)
    password_reset_max_guesses: int = Field(default=5, ge=1, le=20)
    password_reset_max_per_phone: int = Field(default=3, ge=1)
    password_reset_max_per_client: int = Field(default=10, ge=1)
    register_max_per_client: int = Field(default=10, ge=1)
    cookie_secure: bool = False
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    # The Stripe payment methods offered on the online-payment page, in this order: card, alipay,
    # wechat_pay (comma-separated in HEZUO_STRIPE_PAYMENT_METHODS). Offer Alipay and WeChat Pay
    # only when the Stripe account has them activated, or every PaymentIntent will be refused.
    stripe_payment_methods: Annotated[tuple[str, ...], NoDecode] = ("card",)
    training_window_months: int = Field(default=6, ge=1, le=36)
    training_need_line_per_capita: int = Field(default=600_000, ge=0)
    training_need_lookback_months: int = Field(default=12, ge=1, le=36)
    training_public_min_group: int = Field(default=3, ge=1)
    payout_minimum: int = Field(default=1000, ge=1)
    # A public disclosure shows quantiles and extremes of households' income only for at least this
    # many households, and never a figure equal to one household's income in a smaller group.
    disclosure_min_group: int = Field(default=5, ge=2, le=1000)
    # Orders (api/policies.py builds orders.config.OrderPolicy from these and from the
    # reservation windows of _ReservationWindows, one per payment method).
    auto_deliver_days: int = Field(default=14, ge=1)
    # Hoarding limits: open unpaid orders per client address and per e-mail/phone/account, and
    # units of one product per order (a large value turns a cap off).
    max_unpaid_orders_per_client: int = Field(default=3, ge=1)
    max_unpaid_orders_per_contact: int = Field(default=3, ge=1)
    max_line_quantity: int = Field(default=50, ge=1)
    producers_floor_bp: int = Field(default=6000, ge=0, le=10_000)
    default_share_rule: ShareRuleSetting = Field(default_factory=ShareRuleSetting)
    default_fee_bearer: Literal["enterprise", "pro_rata"] = "enterprise"
    # The address people reach Hezuo at (e.g. https://hezuo.example.org): links in e-mails, SMS
    # and printed QR codes are built from it, never from a request's Host header.
    public_url: str = "http://127.0.0.1:8000"
    # The zone times are shown in on pages and in messages (stored times are UTC).
    timezone: str = "Asia/Shanghai"
    # PostgreSQL connections each app process keeps open (no overflow connections are opened, so
    # a burst waits for one instead of churning sessions); keep workers × this < max_connections.
    db_pool_size: int = Field(default=20, ge=1, le=200)
    # Periodic jobs (api/jobs): schedules by job name, merged over DEFAULT_JOB_SCHEDULES.
    job_schedules: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_JOB_SCHEDULES))
    # Run the jobs' scheduler inside `hezuo serve`? Unset: yes with SQLite (outside tests), no
    # with PostgreSQL, where a `hezuo worker` process runs them.
    jobs_in_process: bool | None = None
    jobs_max_attempts: int = Field(default=3, ge=1, le=10)
    jobs_retry_seconds: float = Field(default=5.0, ge=0, le=3600)
    # /metrics answers only with `Authorization: Bearer <token>`; without a token, 404.
    metrics_token: str | None = None
    log_format: Literal["plain", "json"] = "plain"
    # Addresses whose X-Forwarded-For/-Proto `hezuo serve` believes (the reverse proxy's only).
    forwarded_allow_ips: str = "127.0.0.1"
    # Media (product photos): the local directory HEZUO_MEDIA_DIR, or an S3-compatible bucket.
    media_backend: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. http://minio:9000; unset for AWS itself
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_region: str = "us-east-1"
    # With S3: 0 streams photos through the app; N > 0 redirects to a URL signed for N seconds.
    media_signed_url_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)
    # Notifications (notify/): e-mail over SMTP, SMS through a provider (the payee in bank-transfer
    # e-mails is HEZUO_BANK_TRANSFER_*, below).
    smtp_url: str | None = None
    mail_from: str = "Hezuo <noreply@localhost>"
    sms_provider: Literal["none", "log", "aliyun"] = "none"
    sms_sign_name: str = ""
    sms_templates: dict[str, str] = Field(default_factory=dict)
    sms_access_key_id: str = ""
    sms_access_key_secret: str = ""
    sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_retry_base_seconds: int = Field(default=60, ge=1)
    notify_lease_seconds: int = Field(default=300, ge=1)
    # Where buyers send a bank transfer (a cooperative's own account, set by staff, wins).
    bank_transfer_payee: str = Field(default="", max_length=100)
    bank_transfer_bank: str = Field(default="", max_length=100)
    bank_transfer_account: str = Field(default="", max_length=50)

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, url: str) -> str:
        """Accept plain postgresql:// URLs and route them through psycopg 3."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @field_validator("stripe_payment_methods", mode="before")
    @classmethod
    def _split_payment_methods(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("stripe_payment_methods")
    @classmethod
    def _known_payment_methods(cls, methods: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in methods if m not in STRIPE_PAYMENT_METHODS]
        if unknown or not methods:
            raise ValueError(
                "HEZUO_STRIPE_PAYMENT_METHODS must list one or more of "
                f"{', '.join(STRIPE_PAYMENT_METHODS)}; got {', '.join(methods) or 'nothing'}"
            )
        return tuple(dict.fromkeys(methods))

    @model_validator(mode="after")
    def _a_secret_nobody_else_knows(self) -> "Settings":
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "HEZUO_SECRET_KEY is the development default earlier versions published; "
                "unset it (development makes its own) or set a random value"
            )
        if self.env == "production":
            if len(self.secret_key) < MIN_PRODUCTION_SECRET_LENGTH:
                raise ValueError(
                    "HEZUO_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_PRODUCTION_SECRET_LENGTH} characters when HEZUO_ENV=production"
                )
        elif not self.secret_key:
            self.secret_key = local_secret_key(self.secret_key_file)
        return self

    @field_validator("public_url")
    @classmethod
    def _absolute_public_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("HEZUO_PUBLIC_URL must start with http:// or https://")
        return url.rstrip("/")

    @field_validator("job_schedules")
    @classmethod
    def _known_job_schedules(cls, schedules: dict[str, str]) -> dict[str, str]:
        from api.jobs.schedule import ScheduleInvalid, parse_schedule

        unknown = sorted(set(schedules) - set(DEFAULT_JOB_SCHEDULES))
        if unknown:
            raise ValueError(
                f"HEZUO_JOB_SCHEDULES names unknown jobs: {', '.join(unknown)}; "
                f"known: {', '.join(DEFAULT_JOB_SCHEDULES)}"
            )
        for name, text in schedules.items():
            try:
                parse_schedule(text, timezone="UTC")
            except ScheduleInvalid as error:
                raise ValueError(f"HEZUO_JOB_SCHEDULES[{name!r}]: {error}") from error
        return {**DEFAULT_JOB_SCHEDULES, **schedules}

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("smtp://", "smtps://")):
            raise ValueError("HEZUO_SMTP_URL must start with smtp:// or smtps://")
        return url or None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"HEZUO_TIMEZONE {name!r} is not a known time zone") from error
        return name

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "Settings":
        if self.media_backend == "s3" and not self.s3_bucket:
            raise ValueError("HEZUO_MEDIA_BACKEND=s3 needs HEZUO_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _default_rule_above_floor(self) -> "Settings":
        if self.default_share_rule.producers < self.producers_floor_bp:
            raise ValueError(
                f"HEZUO_DEFAULT_SHARE_RULE gives producers {self.default_share_rule.producers} "
                f"basis points, below HEZUO_PRODUCERS_FLOOR_BP ({self.producers_floor_bp})"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_jobs_in_process(self) -> bool:
        if self.jobs_in_process is not None:
            return self.jobs_in_process
        return self.is_sqlite and self.env != "test"

    @property
    def bank_transfer_to(self) -> BankAccount | None:
        """The marketplace's account for bank transfers, when configured."""
        if not (self.bank_transfer_payee and self.bank_transfer_account):
            return None
        return BankAccount(
            payee=self.bank_transfer_payee,
            bank=self.bank_transfer_bank,
            account=self.bank_transfer_account,
        )

    def reservation_minutes(self) -> dict[str, int]:
        """Each payment method's reservation window in minutes, by method key."""
        return {method.key: getattr(self, method.reservation_setting) for method in METHODS}

    @property
    def stripe_enabled(self) -> bool:
        return bool(self.stripe_secret_key)

    def local_today(self) -> date:
        """Today's date where the people are (HEZUO_TIMEZONE), e.g. for "has this month ended"."""
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.timezone)).date()


def local_secret_key(path: Path) -> str:
    """The key in `path`, made (random, mode 0600) on first use. Written to a temporary file
    and linked into place, so two processes starting at once agree on one key."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)  # fails if another process made it first: theirs wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < MIN_PRODUCTION_SECRET_LENGTH:
        raise ValueError(f"{path} holds no usable secret key; delete it to make a new one")
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
