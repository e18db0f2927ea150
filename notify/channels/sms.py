"""SMS providers: `log` for development and Alibaba Cloud SMS (dysmsapi SendSms).

Alibaba Cloud's SendSms is an RPC-style API: every parameter, sorted and percent-encoded
(RFC 3986), is signed with HMAC-SHA1 under the AccessKey secret followed by "&"
(https://help.aliyun.com/document_detail/315526.html). The text of an SMS is the provider's
approved template (one per message kind, HEZUO_SMS_TEMPLATES) filled with TemplateParam; OutId
carries our idempotency key.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import httpx

from notify.channels import PermanentFailure, TemporaryFailure
from notify.config import SmsConfig

logger = logging.getLogger("hezuo.notify.sms")


class SmsProvider(Protocol):
    def send(
        self, *, phone: str, kind: str, text: str, params: Mapping[str, str], out_id: str
    ) -> None: ...


class LogProvider:
    """Development: writes the text to the log instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def send(
        self, *, phone: str, kind: str, text: str, params: Mapping[str, str], out_id: str
    ) -> None:
        self.sent.append({"phone": phone, "kind": kind, "text": text, "out_id": out_id})
        logger.info("SMS to %s (%s): %s", phone, out_id, text)


def percent_encode(value: str) -> str:
    """RFC 3986 as Alibaba Cloud signs it: only A-Z a-z 0-9 - _ . ~ left as they are."""
    return quote(value, safe="-_.~")


def rpc_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Alibaba answer codes that mean the number or template will never work: not retried.
PERMANENT_CODES = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.INVALID_PARAMETERS",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.BLACK_KEY_CONTROL_LIMIT",
        "isv.MOBILE_COUNT_OVER_LIMIT",
        "isv.TEMPLATE_MISSING_PARAMETERS",
    }
)


class AliyunProvider:
    def __init__(self, config: SmsConfig, *, client: httpx.Client | None = None) -> None:
        self.config = config
        self.client = client or httpx.Client(timeout=10.0)

    def signed_params(
        self, *, phone: str, template: str, params: Mapping[str, str], out_id: str
    ) -> dict[str, str]:
        c = self.config
        query = {
            "AccessKeyId": c.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": phone,
            "RegionId": c.region,
            "SignName": c.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        query["Signature"] = rpc_signature(query, c.access_key_secret)
        return query

    def send(
        self, *, phone: str, kind: str, text: str, params: Mapping[str, str], out_id: str
    ) -> None:
        template = self.config.templates.get(kind)
        if not template:
            raise PermanentFailure(f"no SMS template configured for {kind}")
        body = self.signed_params(phone=phone, template=template, params=params, out_id=out_id)
        try:
            response = self.client.post(self.config.endpoint.rstrip("/") + "/", data=body)
        except httpx.HTTPError as error:
            raise TemporaryFailure(f"SMS provider unreachable: {error!r}"[:500]) from error
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = str(answer.get("Code", ""))
        if response.status_code == 200 and code == "OK":
            return
        message = f"Alibaba SMS {response.status_code} {code}: {answer.get('Message', '')}"[:500]
        if code in PERMANENT_CODES:
            raise PermanentFailure(message)
        raise TemporaryFailure(message)


def provider_for(config: SmsConfig) -> SmsProvider | None:
    if config.provider == "log":
        return LogProvider()
    if config.provider == "aliyun":
        return AliyunProvider(config)
    return None
