"""Real servers on loopback for the notification tests: an SMTP server (aiosmtpd) that records
what arrives, and an Alibaba Cloud SMS endpoint (http.server) that checks each request's
signature as Alibaba documents it before it answers OK."""

import base64
import email
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    """What the SMTP server accepted: each message parsed, counted by Message-ID."""

    def __init__(self, *, delay: float = 0.0, refuse: tuple[str, ...] = ()) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.delay = delay
        self.refuse = refuse
        self.stop_after: int | None = None
        self.limit_reached = threading.Event()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stop_after is not None and len(self.messages) >= self.stop_after:
            return "421 4.3.0 Shutting down"
        if self.delay:
            time.sleep(self.delay)
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        parsed = email.message_from_bytes(raw, policy=default_policy)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            if self.stop_after is not None and len(self.messages) >= self.stop_after:
                self.limit_reached.set()
        return "250 Message accepted for delivery"

    def by_message_id(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if str(m["To"]) == address]


class SmtpServer:
    def __init__(self, port: int, mailbox: Mailbox) -> None:
        self.port = port
        self.mailbox = mailbox
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# Alibaba Cloud RPC signature, written here from the documentation
# (https://help.aliyun.com/document_detail/315526.html), independently of notify/channels/sms.py.


def _encode(text: str) -> str:
    return quote(text, safe="~").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(params: dict[str, str], secret: str, method: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    string_to_sign = method + "&" + _encode("/") + "&" + _encode(canonical)
    mac = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class SmsEndpoint:
    """Records SendSms calls; answers OK only to a correctly signed one from the known key."""

    def __init__(self, access_key_id: str, secret: str) -> None:
        self.access_key_id = access_key_id
        self.secret = secret
        self.calls: list[dict[str, str]] = []
        self.refused: list[dict[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                status, body = endpoint.answer(params, "POST")
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, params: dict[str, str], method: str) -> tuple[int, dict[str, str]]:
        required = {"AccessKeyId", "Action", "SignatureMethod", "SignatureNonce", "Timestamp"}
        if not required <= params.keys() or params.get("Action") != "SendSms":
            self.refused.append(params)
            return 400, {"Code": "MissingParameter", "Message": "missing"}
        if params["AccessKeyId"] != self.access_key_id:
            self.refused.append(params)
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "unknown key"}
        if params.get("Signature") != expected_signature(params, self.secret, method):
            self.refused.append(params)
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        if not params.get("PhoneNumbers", "").isdigit():
            self.refused.append(params)
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "illegal number"}
        self.calls.append(params)
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"biz{len(self.calls)}"}

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
