"""Placing an order: idempotent by key, prices and share rules snapshotted, stock reserved atomically."""

import hashlib
import json
import secrets
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog import stock
from catalog.models import Product, ProductStatus
from core.actor import Actor
from ledger.base import utcnow
from orders import hoarding, notices
from orders.access import new_nonce
from orders.config import OrderPolicy
from orders.errors import IdempotencyKeyReused, OrderInvalid, OutOfStock, StripeDisabled
from orders.models import LotReservation, Order, OrderEvent, OrderLine, OrderStatus
from orders.payment_methods import is_online
from orders.schemas import OrderCreate
from orders.share_rules import RuleInForce, rule_in_force

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def check_idempotency_key(key: str | None) -> str:
    if key is None or not 1 <= len(key) <= 255 or not key.isprintable() or key != key.strip():
        raise OrderInvalid(
            "An Idempotency-Key header of 1–255 printable characters is required.",
            loc=["header", "Idempotency-Key"],
        )
    return key


def request_hash(data: OrderCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def actor_label(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else "guest"


def place_order(
    session: Session,
    *,
    data: OrderCreate,
    actor: Actor,
    idempotency_key: str | None,
    policy: OrderPolicy,
    stripe_enabled: bool,
    language: str | None = None,
    client_address: str | None = None,
) -> tuple[Order, bool]:
    """The order (new, or the original for a replayed key) and whether it was created now.

    `client_address` (the request's) counts towards the cap on unpaid orders per client."""
    key = check_idempotency_key(idempotency_key)
    _check_buyer_and_method(data, actor, stripe_enabled=stripe_enabled)
    scope = _idempotency_scope(data, actor)
    digest = request_hash(data)
    existing = _existing(session, scope, key)
    if existing is not None:
        return _replay(existing, digest), False

    hoarding.check_line_quantities(data, policy)
    now = utcnow()
    # Products and share rules are read before the unpaid-cap locks, which are held until commit.
    quantities = _merge_lines(data)
    products = _products(session, quantities)
    currency = _one_currency(products)
    rules = _rules_in_force(session, products, policy)
    hoarding.check_unpaid_caps(
        session,
        data=data,
        buyer_user_id=actor.user_id,
        client_address=client_address,
        policy=policy,
        now=now,
    )
    order = _new_order(
        data,
        actor,
        total=sum(p.price_amount * quantities[p.id or 0] for p in products),
        currency=currency,
        idempotency=(scope, key, digest),
        reserved_until=now + policy.reservation_for(data.payment_method),
        client_address=client_address,
    )
    # The order row first, in a savepoint: a concurrent request with the same key loses here,
    # before it reserves any stock, and answers with the winner's order.
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        winner = _existing(session, scope, key)
        if winner is None:
            raise
        return _replay(winner, digest), False

    for product in products:  # sorted by id: every checkout locks lots in the same order
        rule = rules[product.coop_id]
        _add_line(session, order, product, quantities[product.id or 0], rule, now=now)
    session.add(
        OrderEvent(
            order_id=order.id or 0,
            to_status=OrderStatus.pending_payment.value,
            actor=actor_label(actor),
        )
    )
    session.flush()
    notices.order_placed(session, order, language=language, link_secret=policy.link_secret)
    return order, True


def _check_buyer_and_method(data: OrderCreate, actor: Actor, *, stripe_enabled: bool) -> None:
    if actor.user_id is None and data.email is None:
        raise OrderInvalid("A guest order needs an email address.", loc=["body", "email"])
    if is_online(data.payment_method) and not stripe_enabled:
        raise StripeDisabled()


def _idempotency_scope(data: OrderCreate, actor: Actor) -> str:
    if actor.user_id is not None:
        return f"user:{actor.user_id}"
    return f"guest:{str(data.email).lower()}"


def _new_order(
    data: OrderCreate,
    actor: Actor,
    *,
    total: int,
    currency: str,
    idempotency: tuple[str, str, str],  # scope, key, request hash
    reserved_until: datetime,
    client_address: str | None,
) -> Order:
    scope, key, digest = idempotency
    return Order(
        buyer_user_id=actor.user_id,
        guest_email=str(data.email).lower() if data.email else None,
        access_nonce=new_nonce(),
        recipient=data.shipping.recipient,
        phone=data.shipping.phone,
        province=data.shipping.province,
        city=data.shipping.city,
        district=data.shipping.district,
        street=data.shipping.street,
        note=data.note,
        payment_method=data.payment_method,
        reference_code=_reference_code(),
        currency=currency,
        total_amount=total,
        idempotency_scope=scope,
        idempotency_key=key,
        request_hash=digest,
        reserved_until=reserved_until,
        client_address=client_address[:64] if client_address else None,
    )


def _existing(session: Session, scope: str, key: str) -> Order | None:
    return session.scalars(
        select(Order).where(
            col(Order.idempotency_scope) == scope, col(Order.idempotency_key) == key
        )
    ).first()


def _replay(order: Order, digest: str) -> Order:
    if order.request_hash != digest:
        raise IdempotencyKeyReused()
    return order


def _merge_lines(data: OrderCreate) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for line in data.lines:
        quantities[line.product_id] = quantities.get(line.product_id, 0) + line.quantity
    return dict(sorted(quantities.items()))


def _products(session: Session, quantities: dict[int, int]) -> list[Product]:
    found = {
        p.id: p
        for p in session.scalars(select(Product).where(col(Product.id).in_(list(quantities))))
    }
    products = []
    for index, product_id in enumerate(quantities):
        product = found.get(product_id)
        if product is None or product.status != ProductStatus.active:
            raise OrderInvalid(
                f"Product {product_id} is not for sale.", loc=["body", "lines", index, "product_id"]
            )
        products.append(product)
    return products


def _rules_in_force(
    session: Session, products: list[Product], policy: OrderPolicy
) -> dict[int, RuleInForce]:
    """The share rule in force today for each cooperative of the order."""
    rules: dict[int, RuleInForce] = {}
    for product in products:
        if product.coop_id not in rules:
            rules[product.coop_id] = rule_in_force(
                session, coop_id=product.coop_id, on=date.today(), policy=policy
            )
    return rules


def _one_currency(products: list[Product]) -> str:
    currencies = {p.currency for p in products}
    if len(currencies) != 1:
        raise OrderInvalid(
            "One order is paid in one currency; these products are priced in "
            + ", ".join(sorted(currencies))
            + ".",
            loc=["body", "lines"],
        )
    return currencies.pop()


def _add_line(
    session: Session,
    order: Order,
    product: Product,
    quantity: int,
    rule: RuleInForce,
    *,
    now: datetime,
) -> None:
    taken = stock.reserve_up_to(session, product_id=product.id or 0, quantity=quantity)
    held = sum(reservation.quantity for reservation in taken)
    if held < quantity and hoarding.expire_lapsed_holding(
        session, product_id=product.id or 0, now=now
    ):
        # Stock held past its reservation is free to sell, whether or not a job expired it.
        more = stock.reserve_up_to(session, product_id=product.id or 0, quantity=quantity - held)
        taken = _merged(taken + more)
        held = sum(reservation.quantity for reservation in taken)
    if held < quantity:  # the partial holds go with the request's rollback
        raise OutOfStock(
            product.name_zh + (f" ({product.name_en})" if product.name_en else ""),
            product_id=product.id or 0,
            wanted=quantity,
            available=held,
        )
    line = OrderLine(
        order_id=order.id or 0,
        product_id=product.id or 0,
        coop_id=product.coop_id,
        product_name_zh=product.name_zh,
        product_name_en=product.name_en,
        unit=product.unit,
        quantity=quantity,
        unit_price=product.price_amount,
        line_total=product.price_amount * quantity,
        share_rule_id=rule.rule_id,
        **rule.parts.as_columns(prefix="rule_"),
        rule_fee_bearer=rule.fee_bearer,
    )
    session.add(line)
    session.flush()
    for reservation in taken:
        session.add(
            LotReservation(
                line_id=line.id or 0, lot_id=reservation.lot_id, quantity=reservation.quantity
            )
        )


def _merged(reservations: list[stock.Reservation]) -> list[stock.Reservation]:
    """One reservation per lot, in the order the lots were first taken."""
    by_lot: dict[int, int] = {}
    for reservation in reservations:
        by_lot[reservation.lot_id] = by_lot.get(reservation.lot_id, 0) + reservation.quantity
    return [stock.Reservation(lot_id=lot, quantity=units) for lot, units in by_lot.items()]


def _reference_code() -> str:
    return "HZ" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
