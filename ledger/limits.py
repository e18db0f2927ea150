"""Non-negative accounts: an entry that lowers one locks it and checks its balance first.

Accounts are locked in ascending id order (one global order, so never a deadlock); ledger/posting.py
calls ``check_limits`` on the careful path, before inserting.
"""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, func, select
from sqlmodel import Session, col

from ledger.errors import LimitExceeded
from ledger.models import Account, AccountLimit, Posting, normal_sign
from ledger.specs import EntrySpec, signed_amount


def _lowered_limited(spec: EntrySpec, accounts: Mapping[str, Any]) -> dict[str, int]:
    """The non-negative accounts this entry lowers, with how much it takes from each."""
    deltas: dict[str, int] = defaultdict(int)
    for posting in spec.postings:
        account = accounts[posting.account]
        if account.limit == AccountLimit.non_negative.value:
            deltas[posting.account] += signed_amount(posting) * normal_sign(account.type)
    return {key: delta for key, delta in deltas.items() if delta < 0}


def check_limits(session: Session, spec: EntrySpec, accounts: Mapping[str, Row[Any]]) -> None:
    """Lock and check every non-negative account this entry lowers."""
    lowered = _lowered_limited(spec, accounts)
    if not lowered:
        return
    ids = sorted(accounts[key].id for key in lowered)
    # One global order (ascending id) for every writer: no lock cycles, so no deadlocks here.
    # FOR NO KEY UPDATE serializes the writers that lower the account, but not the inserts that
    # merely reference it (their foreign-key checks take KEY SHARE), so sales crediting a member
    # never wait for that member's payout.
    session.execute(
        select(col(Account.id))
        .where(col(Account.id).in_(ids))
        .order_by(col(Account.id))
        .with_for_update(key_share=True)
    ).all()
    sums = dict(
        session.execute(
            select(col(Posting.account_id), func.sum(Posting.amount))
            .where(col(Posting.account_id).in_(ids))
            .group_by(col(Posting.account_id))
        )
        .tuples()
        .all()
    )
    for key, delta in sorted(lowered.items()):
        account = accounts[key]
        current = int(sums.get(account.id) or 0) * normal_sign(account.type)
        if current + delta < 0:
            raise LimitExceeded(
                f"Account {key!r} may not go below zero: it holds {current} "
                f"{account.currency} and this entry would take {-delta}.",
                errors=[{"loc": ["postings"], "msg": f"{key} would go below zero"}],
            )
