"""Which order a recorded payment was for, by the reference code the buyer writes on a transfer.

The bank matching rules (ledger/bank/rules.py) look for this code in a bank line's memo to match a
bank transfer or cash deposit that staff recorded (posted to assets:clearing:manual).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import Session, col

from orders.models import Order


class ClearingPosting(Protocol):
    """What the resolver reads of a ledger posting (ledger.bank's LedgerItem has it)."""

    @property
    def posting_id(self) -> int: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


def payment_codes(session: Session) -> Callable[[Sequence[ClearingPosting]], Mapping[int, str]]:
    """A resolver giving each clearing posting of an order payment its order's reference code."""

    def resolve(items: Sequence[ClearingPosting]) -> Mapping[int, str]:
        order_ids = {
            int(item.metadata["order_id"])
            for item in items
            if isinstance(item.metadata.get("order_id"), int)
        }
        if not order_ids:
            return {}
        rows = session.execute(
            select(col(Order.id), col(Order.reference_code)).where(col(Order.id).in_(order_ids))
        ).all()
        codes = {order_id: code for order_id, code in rows}
        return {
            item.posting_id: codes[item.metadata["order_id"]]
            for item in items
            if item.metadata.get("order_id") in codes
        }

    return resolve
