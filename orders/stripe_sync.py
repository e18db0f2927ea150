"""Stripe sync: page through balance transactions (and payouts) since the last sync, store each once,
post actual processing fees and Stripe payouts, and match charges and refunds to our payments.

Ledger effects: a fee → Dr `expenses:payments:processing-fees` / Cr `assets:clearing:stripe`; a
payout → Dr `assets:bank` / Cr `assets:clearing:stripe`. Each is idempotent by the Stripe id, so a
sync run twice (or a payout seen both as a balance transaction and as a payout) posts once.
Charges and refunds were already posted by the payment flow: they are matched to those entries by
PaymentIntent id. Stripe lists newest first; we stop at the first transaction older than the last
sync's newest (minus a second, as `created` has one-second resolution; ids dedupe the overlap).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from core.errors import DomainError
from ledger import service as ledger
from ledger.models import Account, AccountType, JournalEntry, Side
from ledger.payout_models import StripeTransaction, SyncState
from orders.models import Payment
from orders.postings import Owner, spread
from orders.stripe_gateway import StripeGateway

SOURCE = "stripe"
CLEARING = "assets:clearing:stripe"
FEES = "expenses:payments:processing-fees"
BANK = "assets:bank"
PAGE = 100


class StripeNotConfigured(DomainError):
    status_code = 409  # a state of this installation, not an outage: retrying will not help
    title = "Stripe not configured"
    type_slug = "stripe-not-configured"


class StripeSyncFailed(DomainError):
    status_code = 502
    title = "Stripe sync failed"
    type_slug = "stripe-sync-failed"


@dataclass
class SyncResult:
    fetched: int = 0
    new: int = 0
    fees_posted: int = 0
    payouts_posted: int = 0
    matched: int = 0
    unmatched: list[str] = field(default_factory=list)


def _list(gateway: StripeGateway, resource: str, starting_after: str | None) -> Any:
    params: dict[str, Any] = {"limit": PAGE}
    if starting_after:
        params["starting_after"] = starting_after
    api = getattr(gateway.client.v1, resource)
    try:
        return api.list(params=params)
    except stripe.StripeError as error:
        raise StripeSyncFailed(f"Stripe refused the list of {resource}: {error}") from error


def _fetch(gateway: StripeGateway, resource: str, since: int) -> list[dict[str, Any]]:
    """Objects created at or after `since`, newest first, across pages."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = _list(gateway, resource, after)
        items = [item.to_dict() for item in page.data]
        for item in items:
            if int(item["created"]) < since:
                return found
            found.append(item)
        if not page.has_more or not items:
            return found
        after = items[-1]["id"]


def _entry_of_intent(session: Session, intent_id: str, kind: str) -> int | None:
    payment = session.scalars(
        select(Payment).where(col(Payment.payment_intent_id) == intent_id)
    ).first()
    if payment is None:
        return None
    if kind == "charge":
        return payment.ledger_entry_id
    # A refund: the newest refund entry of that order not yet matched to a Stripe transaction.
    taken = set(
        session.scalars(
            select(col(StripeTransaction.matched_entry_id)).where(
                col(StripeTransaction.matched_entry_id).is_not(None)
            )
        )
    )
    for entry_id in session.scalars(
        select(col(JournalEntry.id))
        .where(
            col(JournalEntry.reference) == f"order:{payment.order_id}",
            col(JournalEntry.kind) == "refund",
        )
        .order_by(col(JournalEntry.id))
    ):
        if entry_id is not None and entry_id not in taken:
            return int(entry_id)
    return None


def _fee_already_posted(session: Session, intent_id: str) -> bool:
    """The payment flow posts a card payment's fee itself (`order-fee:{payment id}`, from the same
    balance transaction); the sync posts only fees nobody posted yet, never a second one."""
    if not intent_id:
        return False
    payment_id = session.scalars(
        select(col(Payment.id)).where(col(Payment.payment_intent_id) == intent_id)
    ).first()
    if payment_id is None:
        return False
    found = session.scalars(
        select(col(JournalEntry.id)).where(
            col(JournalEntry.idempotency_key) == f"order-fee:{payment_id}"
        )
    ).first()
    return found is not None


def _intent_of(gateway: StripeGateway, source: str) -> str:
    try:
        obj: Any
        if source.startswith("ch_"):
            obj = gateway.client.v1.charges.retrieve(source)
        elif source.startswith(("re_", "pyr_")):
            obj = gateway.client.v1.refunds.retrieve(source)
        else:
            return ""
    except stripe.StripeError:
        return ""
    intent = getattr(obj, "payment_intent", None)
    return str(intent or "")


def _order_of_intent(session: Session, intent: str | None) -> int | None:
    if not intent:
        return None
    return session.scalars(
        select(col(Payment.order_id)).where(col(Payment.payment_intent_id) == intent)
    ).first()


def _post(
    session: Session,
    *,
    key: str,
    kind: str,
    on: date,
    debit: str,
    credit: str,
    amount: int,
    currency: str,
    memo: str,
    reference: str,
    created_by: str,
    order_id: int | None = None,
) -> int:
    """Post Dr `debit` / Cr `credit`; with the order a fee belongs to, spread over its lines
    (each line's cooperative, as the payment flow attributes its own fees)."""
    postings: list[ledger.PostingSpec] = []
    for side, account in ((Side.debit, debit), (Side.credit, credit)):
        # The clearing side stays one posting (what reconciliation matches); the fee is spread.
        lines = (
            spread(session, order_id=order_id, account=account, amount=amount)
            if order_id is not None and side == Side.debit
            else [(account, amount)]
        )
        for line in lines:
            owner = line[2] if len(line) == 3 else Owner()
            postings.append(
                ledger.PostingSpec(
                    line[0],
                    side,
                    line[1],
                    currency,
                    coop_id=owner.coop_id,
                    order_line_id=owner.order_line_id,
                )
            )
    result = ledger.post(
        session,
        ledger.EntrySpec(
            kind=kind,
            effective_date=on,
            postings=tuple(p for p in postings if p.amount),
            idempotency_key=key,
            memo=memo,
            reference=reference,
            metadata={"stripe": reference},
            created_by=created_by,
        ),
    )
    return result.entry_id


def _ledger_takes(session: Session, currency: str) -> bool:
    """Open the accounts in `currency`; False when the ledger keeps them in another currency
    (account keys are unique, one currency each: e.g. the emulator's payouts are EUR only)."""
    for key in (CLEARING, BANK, FEES):
        account = session.scalars(select(Account).where(col(Account.key) == key)).first()
        if account is not None and account.currency != currency:
            return False
    for key, kind in ((CLEARING, AccountType.asset), (BANK, AccountType.asset)):
        ledger.open_account(session, key=key, type=kind, currency=currency)
    ledger.open_account(session, key=FEES, type=AccountType.expense, currency=currency)
    return True


def _store(session: Session, row: StripeTransaction) -> bool:
    """Insert once by Stripe id; False when it was stored by an earlier sync."""
    existing = session.scalars(
        select(StripeTransaction).where(col(StripeTransaction.stripe_id) == row.stripe_id)
    ).first()
    if existing is not None:
        return False
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return False
    return True


def sync(session: Session, *, gateway: StripeGateway, created_by: str) -> SyncResult:
    """One sync run; safe to repeat and to run concurrently (rows and entries are keyed by id)."""
    state = session.get(SyncState, SOURCE) or SyncState(source=SOURCE, cursor_created=0)
    since = max(state.cursor_created - 1, 0)
    result = SyncResult()
    transactions = _fetch(gateway, "balance_transactions", since)
    payouts = [p for p in _fetch(gateway, "payouts", since) if p.get("status") != "failed"]
    newest = state.cursor_created
    for txn in transactions:
        result.fetched += 1
        newest = max(newest, int(txn["created"]))
        _sync_transaction(session, gateway, txn, result, created_by)
    for payout in payouts:
        result.fetched += 1
        newest = max(newest, int(payout["created"]))
        _sync_payout(session, payout, result, created_by)
    state.cursor_created = newest
    state.synced_at = datetime.now(UTC)
    session.add(state)
    session.flush()
    return result


def _sync_transaction(
    session: Session,
    gateway: StripeGateway,
    txn: dict[str, Any],
    result: SyncResult,
    created_by: str,
) -> None:
    """One balance transaction: stored once, matched to our charge or refund, its fee posted."""
    kind = str(txn.get("type", ""))
    currency = str(txn["currency"]).upper()
    source = str(txn.get("source") or "")
    on = datetime.fromtimestamp(int(txn["created"]), UTC).date()
    row = StripeTransaction(
        stripe_id=str(txn["id"]),
        type=kind,
        amount=int(txn["amount"]),
        fee=int(txn.get("fee") or 0),
        net=int(txn.get("net") or 0),
        currency=currency,
        created=int(txn["created"]),
        source_id=source,
    )
    if not _store(session, row):
        return
    result.new += 1
    if not _ledger_takes(session, currency):
        result.unmatched.append(f"{row.stripe_id}: {currency} is not the ledger's currency")
        return
    if kind in ("charge", "payment", "refund", "payment_refund"):
        _match(session, gateway, row, source, result)
    if row.fee > 0 and not _fee_already_posted(session, row.payment_intent_id):
        row.posted_entry_id = _post(
            session,
            key=f"stripe:fee:{row.stripe_id}",
            kind="fee",
            on=on,
            debit=FEES,
            credit=CLEARING,
            amount=row.fee,
            currency=currency,
            memo=f"Stripe fee on {source or row.stripe_id}",
            reference=row.stripe_id,
            created_by=created_by,
            order_id=_order_of_intent(session, row.payment_intent_id),
        )
        result.fees_posted += 1
    # A payout's own balance transaction is posted from the payout list (one entry).
    session.add(row)


def _match(
    session: Session,
    gateway: StripeGateway,
    row: StripeTransaction,
    source: str,
    result: SyncResult,
) -> None:
    """A charge or refund matched to the ledger entry of our payment with that PaymentIntent."""
    row.payment_intent_id = _intent_of(gateway, source)
    entry = _entry_of_intent(
        session, row.payment_intent_id, "charge" if "refund" not in row.type else "refund"
    )
    if entry is not None:
        row.matched_entry_id = entry
        result.matched += 1
    else:
        result.unmatched.append(row.stripe_id)


def _sync_payout(
    session: Session, payout: dict[str, Any], result: SyncResult, created_by: str
) -> None:
    """One Stripe payout: stored once and posted as money arriving in the bank."""
    currency = str(payout["currency"]).upper()
    row = StripeTransaction(
        stripe_id=str(payout["id"]),
        type="payout",
        amount=-int(payout["amount"]),
        fee=0,
        net=-int(payout["amount"]),
        currency=currency,
        created=int(payout["created"]),
        source_id=str(payout["id"]),
    )
    if not _store(session, row):
        return
    result.new += 1
    if not _ledger_takes(session, currency):
        result.unmatched.append(f"{row.stripe_id}: {currency} is not the ledger's currency")
        return
    on = datetime.fromtimestamp(int(payout["created"]), UTC).date()
    row.posted_entry_id = _post_payout(
        session, row.stripe_id, int(payout["amount"]), currency, on, created_by
    )
    result.payouts_posted += 1
    session.add(row)


def _post_payout(
    session: Session, payout_id: str, amount: int, currency: str, on: date, created_by: str
) -> int:
    return _post(
        session,
        key=f"stripe:payout:{payout_id}",
        kind="payout",
        on=on,
        debit=BANK,
        credit=CLEARING,
        amount=amount,
        currency=currency,
        memo=f"Stripe payout {payout_id}",
        reference=payout_id,
        created_by=created_by,
    )


__all__ = ["StripeNotConfigured", "StripeSyncFailed", "SyncResult", "sync"]
