"""E-mail over SMTP with the standard library: multipart plain text + HTML, one connection a batch.

HEZUO_SMTP_URL: `smtp://user:pass@host:port` (plain, or `?starttls=true`), `smtps://` for TLS.
The Message-ID is derived from the row's idempotency key, so a message sent again after a crash
carries the same id and the receiving side can tell it is the same message.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from notify.channels import PermanentFailure, TemporaryFailure
from notify.content import Message


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    starttls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("HEZUO_SMTP_URL must look like smtp://user:pass@host:port or smtps://…")
    tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        starttls=starttls,
    )


def message_id(idempotency_key: str, public_url: str) -> str:
    domain = urlsplit(public_url).hostname or "hezuo.local"
    return f"<{idempotency_key}@{domain}>"


def build_email(
    message: Message,
    *,
    sender: str,
    to: str,
    msg_id: str,
    language: str,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = message.subject
    email["Message-ID"] = msg_id
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text())
    email.add_alternative(_html(message, language), subtype="html")
    email["Content-Language"] = language  # after the bodies: set_content clears Content-* headers
    return email


def _html(message: Message, language: str) -> str:
    lines = "".join(f"<p>{escape(line)}</p>" for line in message.lines)
    link = (
        f'<p><a href="{escape(message.link)}">{escape(message.link_label)}</a></p>'
        if message.link
        else ""
    )
    return (
        f'<!doctype html><html lang="{escape(language)}"><body>'
        f"<h1>{escape(message.subject)}</h1>{lines}{link}</body></html>"
    )


class SmtpSender:
    """One SMTP connection reused for a batch; reconnects once if the server dropped it."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.target = parse_smtp_url(url)
        self.timeout = timeout
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpSender":
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        client: smtplib.SMTP
        if t.tls:
            client = smtplib.SMTP_SSL(
                t.host, t.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
            if t.starttls:
                client.starttls(context=ssl.create_default_context())
        if t.username:
            client.login(t.username, t.password or "")
        return client

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._client = None

    def _still_open(self) -> bool:
        """A reused connection the server closed while idle is replaced before a message is sent."""
        if self._client is None:
            return False
        try:
            return self._client.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            self._client = None
            return False

    def send(self, email: EmailMessage) -> None:
        if not self._still_open():
            try:
                self._client = self._connect()
            except (smtplib.SMTPException, OSError) as error:  # a server or set-up problem
                raise TemporaryFailure(f"SMTP connect: {error!r}"[:500]) from error
        client = self._client
        assert client is not None
        try:
            client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _classified(min(codes), str(error.recipients)) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _classified(error.smtp_code, _text(error.smtp_error)) from error
        except (smtplib.SMTPException, OSError) as error:
            self._client = None  # dead connection: the next message connects afresh
            raise TemporaryFailure(f"SMTP: {error!r}"[:500]) from error


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def _classified(code: int, text: str) -> Exception:
    if 500 <= code < 600:
        return PermanentFailure(f"SMTP {code}: {text}"[:500])
    return TemporaryFailure(f"SMTP {code}: {text}"[:500])
