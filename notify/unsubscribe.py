"""One-click unsubscribe links for updates (never for messages about the reader's own money)."""

import hashlib
import hmac
from urllib.parse import urlencode


def unsubscribe_signature(secret_key: str, address: str, kind: str) -> str:
    message = f"unsubscribe:{address.lower()}:{kind}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def unsubscribe_url(public_url: str, secret_key: str, address: str, kind: str) -> str:
    query = urlencode(
        {"e": address, "k": kind, "s": unsubscribe_signature(secret_key, address, kind)}
    )
    return f"{public_url.rstrip('/')}/notifications/unsubscribe?{query}"


def signature_ok(secret_key: str, address: str, kind: str, signature: str) -> bool:
    expected = unsubscribe_signature(secret_key, address, kind)
    return hmac.compare_digest(expected, signature)
