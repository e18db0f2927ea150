"""Where the buyer of an order paid by bank transfer sends the money."""

from sqlmodel import Session

from catalog.bank_accounts import BankAccount, coop_bank_account
from catalog.models import Cooperative
from orders.lifecycle import lines_of
from orders.models import Order


def transfer_account(
    session: Session, order: Order, *, marketplace: BankAccount | None
) -> BankAccount | None:
    """The order's single cooperative's own account when it has one (it receives directly),
    else the marketplace's; None when neither is configured."""
    coop_ids = {line.coop_id for line in lines_of(session, order.id or 0)}
    if len(coop_ids) == 1:
        coop = session.get(Cooperative, next(iter(coop_ids)))
        own = coop_bank_account(coop) if coop is not None else None
        if own is not None:
            return own
    return marketplace
