"""Where the buyer of an order paid by bank transfer sends the money."""

from sqlmodel import Session, col, select

from catalog.bank_accounts import BankAccount, coop_bank_account
from catalog.models import Cooperative
from orders.models import Order, OrderLine


def coop_transfer_account(session: Session, order: Order) -> BankAccount | None:
    """The account of the order's single cooperative when it receives directly (its own account,
    set by staff); None for an order of several cooperatives or a cooperative without one."""
    coop_ids = set(
        session.scalars(
            select(col(OrderLine.coop_id)).where(col(OrderLine.order_id) == order.id)
        ).all()
    )
    if len(coop_ids) != 1:
        return None
    coop = session.get(Cooperative, next(iter(coop_ids)))
    return coop_bank_account(coop) if coop is not None else None


def transfer_account(
    session: Session, order: Order, *, marketplace: BankAccount | None
) -> BankAccount | None:
    """The order's single cooperative's own account when it has one (it receives directly),
    else the marketplace's; None when neither is configured."""
    return coop_transfer_account(session, order) or marketplace
