"""Who may see or act on an order: the buyer, a guest holding the signed link, its cooperatives' managers, staff."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from core.actor import Actor
from core.time import utcnow
from orders.errors import OrderAccessRefused, OrderNeedsSignIn
from orders.models import Order


def new_nonce() -> str:
    return secrets.token_hex(16)


def access_token(order: Order, secret_key: str) -> str:
    """The guest link's token: an HMAC of the order id and its nonce (revocable by a new nonce)."""
    message = f"order:{order.id}:{order.access_nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def token_matches(order: Order, token: str | None, secret_key: str, *, days: int) -> bool:
    """The guest link's token, still valid: it lapses `days` after the order was placed."""
    if not token or utcnow() > order.created_at + timedelta(days=days):
        return False
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError).
    expected = access_token(order, secret_key).encode()
    return hmac.compare_digest(expected, str(token).encode())


def is_buyer(actor: Actor, order: Order, *, token_ok: bool) -> bool:
    if token_ok:
        return True
    return actor.user_id is not None and order.buyer_user_id == actor.user_id


def manages_any(actor: Actor, coop_ids: set[int]) -> bool:
    return actor.role == "manager" and actor.coop_id is not None and actor.coop_id in coop_ids


def require_viewer(actor: Actor, order: Order, coop_ids: set[int], *, token_ok: bool) -> None:
    if is_buyer(actor, order, token_ok=token_ok) or actor.reads_all or manages_any(actor, coop_ids):
        return
    refuse(actor, "see this order")


def require_buyer(actor: Actor, order: Order, *, token_ok: bool, allow_staff: bool) -> None:
    if is_buyer(actor, order, token_ok=token_ok) or (allow_staff and actor.is_staff):
        return
    refuse(actor, "do this: only the buyer" + (" or staff" if allow_staff else ""))


def require_staff_or_manager(actor: Actor, coop_ids: set[int], what: str) -> None:
    if actor.is_staff or manages_any(actor, coop_ids):
        return
    refuse(actor, what + ": only staff or the manager of a cooperative in this order")


def require_reader(actor: Actor, what: str) -> None:
    """Staff and the auditor read across cooperatives."""
    if not actor.reads_all:
        refuse(actor, what + ": only staff")


def require_staff(actor: Actor, what: str) -> None:
    if not actor.is_staff:
        refuse(actor, what + ": only staff")


def refuse(actor: Actor, what: str) -> None:
    if not actor.signed_in:
        raise OrderNeedsSignIn()
    raise OrderAccessRefused(f"You may not {what} (you are signed in as {actor.role}).")
