"""Limits on unpaid reservations: nobody may hold the stock others want to buy.

An unpaid order holds its stock until `reserved_until`. Three rules keep that from being abused:
- at most `max_unpaid_orders_per_client` open unpaid orders from one client address, and at most
  `max_unpaid_orders_per_contact` for one e-mail address, phone number or account (429);
- at most `max_line_quantity` units of one product per order (422);
- a reservation past its `reserved_until` holds nothing: when a checkout finds a product short,
  it first expires the lapsed unpaid orders holding that product's lots (no job needs to have run).
"""

from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select, text
from sqlmodel import Session, col

from orders import stock
from orders.config import OrderPolicy
from orders.errors import LineQuantityTooLarge, TooManyUnpaidOrders
from orders.lifecycle import lines_of, reservations_of, transition
from orders.models import Order, OrderLine, OrderStatus
from orders.schemas import OrderCreate


def check_line_quantities(data: OrderCreate, policy: OrderPolicy) -> None:
    """Refuse a line (or the same product over several lines) above the per-line cap."""
    totals: dict[int, int] = {}
    for index, line in enumerate(data.lines):
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
        if totals[line.product_id] > policy.max_line_quantity:
            raise LineQuantityTooLarge(limit=policy.max_line_quantity, index=index)


def check_unpaid_caps(
    session: Session,
    *,
    data: OrderCreate,
    buyer_user_id: int | None,
    client_address: str | None,
    policy: OrderPolicy,
    now: datetime,
) -> None:
    """Refuse (429) a new order while this client or contact already holds the most unpaid ones."""
    contact = _contact_clause(data, buyer_user_id)
    _serialise(session, client_address, contact_keys=_contact_keys(data, buyer_user_id))
    by_client = (
        col(Order.client_address) == client_address if client_address is not None else false()
    )
    # One statement for both caps: each open unpaid order says which of them it counts towards.
    rows = _open_unpaid(session, by_client, contact, now)
    if client_address is not None:
        held = [until for until, client, _contact in rows if client]
        if len(held) >= policy.max_unpaid_orders_per_client:
            raise _refusal(policy.max_unpaid_orders_per_client, "client address", held, now)
    held = [until for until, _client, same_contact in rows if same_contact]
    if len(held) >= policy.max_unpaid_orders_per_contact:
        raise _refusal(policy.max_unpaid_orders_per_contact, "e-mail, phone or account", held, now)


def _contact_keys(data: OrderCreate, buyer_user_id: int | None) -> list[str]:
    keys = [f"phone:{data.shipping.phone}"]
    if data.email is not None:
        keys.append(f"email:{str(data.email).lower()}")
    if buyer_user_id is not None:
        keys.append(f"user:{buyer_user_id}")
    return keys


def _contact_clause(data: OrderCreate, buyer_user_id: int | None) -> ColumnElement[bool]:
    clauses = [col(Order.phone) == data.shipping.phone]
    if data.email is not None:
        clauses.append(func.lower(col(Order.guest_email)) == str(data.email).lower())
    if buyer_user_id is not None:
        clauses.append(col(Order.buyer_user_id) == buyer_user_id)
    return or_(*clauses)


def _serialise(session: Session, client_address: str | None, *, contact_keys: list[str]) -> None:
    """PostgreSQL: one checkout per client and contact at a time counts and inserts, so two
    concurrent orders cannot both slip under a cap (SQLite's write lock already does this)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    keys = sorted({*contact_keys, *([f"client:{client_address}"] if client_address else [])})
    # One round trip: the locks are taken row by row in the sorted order of the keys (always the
    # same order: no deadlock between two checkouts).
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 15))) FROM ("
            "SELECT key FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS k(key, n)"
            " ORDER BY n) AS sorted_keys"
        ),
        {"keys": ["hezuo-unpaid:" + key for key in keys]},
    )


def _open_unpaid(
    session: Session,
    by_client: ColumnElement[bool],
    by_contact: ColumnElement[bool],
    now: datetime,
) -> list[tuple[datetime, bool, bool]]:
    """The open unpaid orders of this client or contact, soonest reservation end first: the end,
    and whether the order counts towards the client's cap and towards the contact's."""
    rows = session.execute(
        select(col(Order.reserved_until), by_client, by_contact)
        .where(
            col(Order.status) == OrderStatus.pending_payment.value,
            col(Order.reserved_until) > now,
            or_(by_client, by_contact),
        )
        .order_by(col(Order.reserved_until))
    ).all()
    return [(until, bool(client), bool(contact)) for until, client, contact in rows if until]


def _refusal(limit: int, by: str, held: list[datetime], now: datetime) -> TooManyUnpaidOrders:
    retry_after = max(1, int((held[0] - now).total_seconds()))
    return TooManyUnpaidOrders(limit=limit, by=by, retry_after=retry_after)


def expire_lapsed_holding(session: Session, *, product_id: int, now: datetime) -> int:
    """Expire the unpaid orders past their reservation that hold lots of this product; the
    number expired. Orders another transaction is handling right now are skipped, not waited on."""
    holders = select(col(OrderLine.order_id)).where(col(OrderLine.product_id) == product_id)
    lapsed = session.scalars(
        select(Order)
        .where(
            col(Order.id).in_(holders),
            col(Order.status) == OrderStatus.pending_payment.value,
            col(Order.reserved_until) < now,
        )
        .order_by(col(Order.id))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    for order in lapsed:
        lines = lines_of(session, order.id or 0)
        for reservation in sorted(
            reservations_of(session, [line.id or 0 for line in lines]), key=lambda r: r.lot_id
        ):
            stock.release(session, reservation)
        transition(session, order, OrderStatus.expired, actor="system", note="not paid in time")
    return len(lapsed)
