"""Demo orders for the Songjiang cooperative, driven through the real order services.

Each order is placed with a fixed Idempotency-Key (a rerun gets the same order back) and then taken
as far as its goal, one step at a time, each step only from the state that precedes it: a staff
member records the bank transfer, the cooperative's manager ships, the buyer confirms delivery
(which settles the order into the ledger), and staff refund part of one settled order. Nothing is
written to the order or ledger tables except by those services, so the postings, the state
machine, stock and share rules are the real ones.

Delivery and settlement happen in one step in the services (a delivered order is settled at once),
so no demo order stays `delivered`.
"""

from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from sqlmodel import Session, col, select

from catalog.demo import COOP_CODE
from catalog.models import Cooperative, Product
from core.actor import Actor
from orders import checkout, fulfilment, payments, refunds
from orders.config import OrderPolicy
from orders.errors import OrderInvalid, OutOfStock
from orders.lifecycle import get_order, lines_of, payments_of
from orders.models import Order, OrderStatus
from orders.schemas import OrderCreate


class Goal(IntEnum):
    """How far a demo order goes."""

    pending_payment = 0
    paid = 1
    shipped = 2
    settled = 3


@dataclass(frozen=True)
class DemoRefund:
    product: str  # the refunded line's product (name_zh)
    units: int  # how many of its units are refunded (at the line's price)
    reason: str
    reference: str


@dataclass(frozen=True)
class DemoOrder:
    key: str  # the Idempotency-Key it is placed with
    guest_email: str | None  # None: the demo buyer's account
    lines: tuple[tuple[str, int], ...]  # product name_zh, quantity
    shipping: dict[str, str]
    goal: Goal
    note: str = ""
    tracking_number: str = ""
    refund: DemoRefund | None = None


HONEY, TEA, RICE, SHIITAKE = "松江土蜂蜜", "高山云雾绿茶", "松江生态大米", "椴木香菇"

BUYER_ADDRESS = {
    "recipient": "周晓雯",
    "phone": "13812345678",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "street": "漕溪北路 88 号 12 楼 1203 室",
}

ORDERS = (
    DemoOrder(
        key="demo-order-1",
        guest_email=None,
        lines=((HONEY, 2), (TEA, 1), (RICE, 20)),
        shipping=BUYER_ADDRESS,
        goal=Goal.settled,
        note="请周末送货",
        tracking_number="SF1402260001",
    ),
    DemoOrder(
        key="demo-order-2",
        guest_email="zhao.min@example.com",
        lines=((TEA, 2), (SHIITAKE, 1)),
        shipping={
            "recipient": "赵敏",
            "phone": "13900001111",
            "province": "北京市",
            "city": "北京市",
            "district": "海淀区",
            "street": "中关村南大街 5 号 2 单元 301",
        },
        goal=Goal.settled,
        tracking_number="SF1402260002",
        refund=DemoRefund(
            product=TEA,
            units=1,
            reason="一盒茶叶在运输中压坏 (one box of tea was crushed in transit)",
            reference="ICBC refund 20261130-0002",
        ),
    ),
    DemoOrder(
        key="demo-order-3",
        guest_email=None,
        lines=((HONEY, 3), (SHIITAKE, 1)),
        shipping=BUYER_ADDRESS,
        goal=Goal.shipped,
        tracking_number="SF1402260003",
    ),
    DemoOrder(
        key="demo-order-4",
        guest_email="chen.jie@example.com",
        lines=((RICE, 20), (TEA, 1)),
        shipping={
            "recipient": "陈杰",
            "phone": "13700002222",
            "province": "广东省",
            "city": "广州市",
            "district": "天河区",
            "street": "体育西路 101 号 18 楼",
        },
        goal=Goal.paid,
    ),
    DemoOrder(
        key="demo-order-5",
        guest_email=None,
        lines=((HONEY, 1), (RICE, 5)),
        shipping=BUYER_ADDRESS,
        goal=Goal.pending_payment,
        note="银行转账，下周付款",
    ),
)

CARRIER = "顺丰速运"


@dataclass(frozen=True)
class DemoActors:
    buyer: Actor  # the demo buyer's account
    manager: Actor  # the Songjiang cooperative's manager
    staff: Actor


def load_orders_demo(
    session: Session, *, actors: DemoActors, policy: OrderPolicy, settled_on: date | None = None
) -> list[str]:
    """Place and advance the demo orders; a line per order placed or moved on.

    `settled_on` dates the settlements (the demo settles its sales last month, so that month can
    be closed and disclosed for good); today by default.
    """
    coop = session.scalars(select(Cooperative).where(col(Cooperative.code) == COOP_CODE)).first()
    if coop is None:
        return []
    products = {
        p.name_zh: p
        for p in session.scalars(select(Product).where(col(Product.coop_id) == coop.id)).all()
    }
    created: list[str] = []
    for demo in ORDERS:
        if any(name not in products for name, _ in demo.lines):
            continue
        placed = _place(session, demo, products, actors, policy)
        if placed is None:
            continue
        order, is_new = placed
        steps = _advance(session, order, demo, actors, settled_on)
        if is_new or steps:
            who = demo.guest_email or "buyer@hezuo.demo"
            created.append(
                f"order {order.reference_code} ({demo.key}, {who}): "
                + " → ".join((["placed"] if is_new else []) + steps)
            )
    return created


def _place(
    session: Session,
    demo: DemoOrder,
    products: dict[str, Product],
    actors: DemoActors,
    policy: OrderPolicy,
) -> tuple[Order, bool] | None:
    data = OrderCreate.model_validate(
        {
            "lines": [
                {"product_id": products[name].id, "quantity": quantity}
                for name, quantity in demo.lines
            ],
            "shipping": demo.shipping,
            "payment_method": "bank_transfer",
            "email": demo.guest_email,
            "note": demo.note,
        }
    )
    actor = Actor.anonymous() if demo.guest_email else actors.buyer
    try:
        with session.begin_nested():
            return checkout.place_order(
                session,
                data=data,
                actor=actor,
                idempotency_key=demo.key,
                policy=policy,
                stripe_enabled=False,
            )
    except (OutOfStock, OrderInvalid):  # sold out, or a product taken off sale since
        return None


def _advance(
    session: Session, order: Order, demo: DemoOrder, actors: DemoActors, settled_on: date | None
) -> list[str]:
    """Take the order towards its goal; each step only from the state just before it."""
    order_id = order.id or 0
    steps: list[str] = []
    if demo.goal >= Goal.paid and order.status == OrderStatus.pending_payment:
        due = payments.outstanding(order, payments_of(session, order_id))
        payments.record_manual_payment(
            session,
            order_id=order_id,
            amount=due,
            currency=order.currency,
            reference=f"bank transfer {order.reference_code}",
            actor=actors.staff,
            idempotency_key=f"{demo.key}-payment",
        )
        steps.append("paid by bank transfer (recorded by staff)")
    order = get_order(session, order_id)
    if demo.goal >= Goal.shipped and order.status == OrderStatus.paid:
        fulfilment.ship_lines(
            session,
            order_id=order_id,
            actor=actors.manager,
            carrier=CARRIER,
            tracking_number=demo.tracking_number,
            coop_id=actors.manager.coop_id,
        )
        steps.append(f"shipped ({CARRIER} {demo.tracking_number})")
    order = get_order(session, order_id)
    if demo.goal >= Goal.settled and order.status == OrderStatus.shipped:
        fulfilment.deliver(
            session,
            order_id=order_id,
            # The buyer confirms; a guest does it through the signed link in their email.
            actor=Actor.anonymous() if demo.guest_email else actors.buyer,
            token_ok=demo.guest_email is not None,
            on=settled_on,
        )
        steps.append("delivered and settled")
    order = get_order(session, order_id)
    if demo.refund is not None and order.status == OrderStatus.settled:
        line = next(
            line
            for line in lines_of(session, order_id)
            if line.product_name_zh == demo.refund.product
        )
        amount = line.unit_price * demo.refund.units
        refunds.refund_order(
            session,
            order_id=order_id,
            amount=amount,
            currency=order.currency,
            reason=demo.refund.reason,
            reference=demo.refund.reference,
            lines=[(line.id or 0, amount)],
            idempotency_key=f"{demo.key}-refund",
            actor=actors.staff,
            gateway=None,
        )
        steps.append(f"partly refunded after settlement ({amount} {order.currency})")
    return steps
