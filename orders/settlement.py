"""Settlement: a delivered order's deposits go to its households, funds and the enterprise, by the
snapshotted share rule and the lot contributions; refunds after settlement reverse it in proportion.

Each line's amount is split over the lots it was sold from (by units, `allocate`), then each lot's
part by `ledger.share_rules.sale_shares` over that lot's household contributions. A reversal of
`r` after `before` was already reversed is credits(before + r) − credits(before) per account, so the
reversals of a fully refunded line sum exactly to its settlement.

Processing fees (the provider keeps them, even on a refund): the order's fees are spread over its
lines by their totals; an `enterprise` line's share is the enterprise's expense; a `pro_rata` line's
parts pay its share back at settlement in proportion to what of the line is kept, out of every part
(so a refund before settlement lowers what they bear). A reversal after settlement reverses the
line's settled credits in proportion, the fee paid back included: the parts get their share of the
fee back with what they give back, it becomes the enterprise's expense again, and a line refunded in
full bears no fee and leaves no payable below zero. Fees posted after settlement are the
enterprise's.

Other domains join in through hooks the composition root registers (orders may not import them):
`on_settled` steps run after the settlement is posted (training deducts tuition from the shares),
`on_unsettling` steps run before a refund's reversal is posted (training gives back the tuition it
deducted from the shares being taken back, so the payables hold what the reversal takes). A payable
that still holds too little (the household was paid out) refuses the refund with `RefundRefused`.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from sqlmodel import Session, col, select

from catalog.models import LotContribution, Product
from ledger.allocation import allocate
from ledger.errors import LimitExceeded
from ledger.service import balance
from ledger.share_rules import (
    BUYER_DEPOSITS,
    ShareParts,
    household_of,
    sale_shares,
    unclaimed_shares,
)
from orders import notices
from orders.errors import IllegalTransition, RefundRefused
from orders.lifecycle import lines_of, reservations_of, transition
from orders.models import LotReservation, Order, OrderLine, OrderStatus
from orders.postings import PROCESSING_FEES, Line, fees_of_order, owned, post_entry


def line_parts(line: OrderLine) -> ShareParts:
    return ShareParts.of_row(line, prefix="rule_")


def line_credits(session: Session, line: OrderLine, amount: int) -> dict[str, int]:
    """Account → credit for `amount` of this line, by the split rule (module doc)."""
    credits: dict[str, int] = defaultdict(int)
    if amount <= 0:
        return credits
    lots = _lot_units(reservations_of(session, [line.id or 0]))
    lot_ids = list(lots)
    chunks = allocate(amount, list(lots.values())) if lot_ids else [amount]
    keys: list[int | None] = list(lot_ids) if lot_ids else [None]
    for lot_id, chunk in zip(keys, chunks, strict=True):
        if chunk == 0:
            continue
        contributions = _contributions(session, lot_id, line.product_id)
        if contributions:
            shares = sale_shares(
                chunk, line_parts(line), contributions, coop_id=line.coop_id, producers_floor=0
            )
            for share in shares:
                credits[share.account_key] += share.amount
        else:  # no known producer: the producers' part stays with the cooperative
            for share in unclaimed_shares(chunk, line_parts(line), coop_id=line.coop_id):
                credits[share.account_key] += share.amount
    return credits


def _lot_units(reservations: list[LotReservation]) -> dict[int, int]:
    units: dict[int, int] = defaultdict(int)
    for r in sorted(reservations, key=lambda r: r.id or 0):
        units[r.lot_id] += r.quantity
    return dict(units)


def _contributions(session: Session, lot_id: int | None, product_id: int) -> dict[int, int]:
    if lot_id is not None:
        rows = session.scalars(
            select(LotContribution)
            .where(col(LotContribution.lot_id) == lot_id)
            .order_by(col(LotContribution.household_id))
        ).all()
        if rows:
            return {row.household_id: row.quantity for row in rows}
    product = session.get(Product, product_id)
    if product is not None and product.household_id is not None:
        return {product.household_id: 1}
    return {}


# Steps other domains run inside the settlement's transaction, given the settlement entry id
# (training deducts tuition from the shares). Registered by the composition root, since orders
# may not import training.
SettlementHook = Callable[[Session, int], object]
_after_settlement: list[SettlementHook] = []


def on_settled(hook: SettlementHook) -> None:
    if hook not in _after_settlement:
        _after_settlement.append(hook)


@dataclass(frozen=True)
class TakeBack:
    """A refund about to reverse part of a settlement: what hooks of `on_unsettling` are told.

    `taken` is, per account, how much of the settlement's credits will have been reversed once
    this refund's reversal is posted (earlier refunds' reversals included), so a hook can work
    cumulatively and a full refund reaches exactly what was settled.
    """

    settlement_entry_id: int
    refund_id: int
    currency: str
    taken: Mapping[str, int]


UnsettleHook = Callable[[Session, TakeBack], object]
_before_unsettling: list[UnsettleHook] = []


def on_unsettling(hook: UnsettleHook) -> None:
    if hook not in _before_unsettling:
        _before_unsettling.append(hook)


def settle_order(session: Session, order: Order, *, actor: str, on: date | None = None) -> None:
    """Post the settlement (idempotent by the order id) and mark the order settled.

    Every posting carries its order line and cooperative (and the household for a member's
    share): the buyer's deposit is debited line by line, so a cooperative's sales and each of its
    parts are sums of its own postings.
    """
    if order.delivered_at is None:
        raise IllegalTransition(order.id or 0, order.status, "settled")
    debits: list[Line] = []
    credits: list[Line] = []
    lines = lines_of(session, order.id or 0)
    fee = fees_of_order(session, order_id=order.id or 0, currency=order.currency)
    for line in lines:
        amount = line.line_total - line.refunded_amount
        recover = fee_borne_by_parts(lines, line, fee, amount)
        parts = dict(line_credits(session, line, amount - recover))
        if recover:  # the parts pay their share of the fee back
            parts[PROCESSING_FEES] = parts.get(PROCESSING_FEES, 0) + recover
        owner = {"coop_id": line.coop_id, "line_id": line.id}
        credits += [owned(account, part, **owner) for account, part in sorted(parts.items())]
        debits.append(owned(BUYER_DEPOSITS, sum(parts.values()), **owner))
    total = sum(amount for _account, amount, *_ in debits)
    if total > 0:
        order.settlement_entry_id = post_entry(
            session,
            kind="sale",
            key=f"order-settlement:{order.id}",
            order_id=order.id or 0,
            currency=order.currency,
            debits=debits,
            credits=credits,
            memo=f"Settlement of order {order.id}",
            created_by=actor,
            on=on or date.today(),
        )
        per_account: dict[str, int] = defaultdict(int)
        for account, amount, *_owner in credits:
            per_account[account] += amount
        notices.shares_credited(session, order, per_account, order.settlement_entry_id)
        for hook in _after_settlement:
            hook(session, order.settlement_entry_id)
    transition(session, order, OrderStatus.settled, actor=actor)


def fee_borne_by_parts(lines: list[OrderLine], line: OrderLine, fee: int, kept: int) -> int:
    """What the parts of `line` bear of the order's processing `fee` when `kept` of it is kept.

    The rule (module doc): the fee is spread over the order's lines by their totals (largest
    remainder); a `pro_rata` line's parts bear its share in proportion to what of the line is kept
    (not refunded), the rest — and every `enterprise` line's share — is the enterprise's expense.
    """
    if fee <= 0 or kept <= 0 or line.rule_fee_bearer != "pro_rata":
        return 0
    totals = [max(each.line_total, 0) for each in lines]
    if sum(totals) == 0 or line.line_total <= 0:
        return 0
    share = allocate(fee, totals)[[each.id for each in lines].index(line.id)]
    if share == 0:
        return 0
    kept = min(kept, line.line_total)
    borne = allocate(share, [kept, line.line_total - kept])[0]
    return min(borne, kept)


def unsettle_for_refund(
    session: Session, *, order: Order, refund_id: int, per_line: dict[int, int], actor: str
) -> None:
    """Reverse the settlement in proportion for a refund of `per_line` (line id → amount)."""
    debits: list[Line] = []
    credits: list[Line] = []
    taken: dict[str, int] = defaultdict(int)  # cumulative, earlier refunds included
    all_lines = lines_of(session, order.id or 0)
    # The fee as the settlement saw it: fee entries posted before it (a later one is not in it).
    fee = fees_of_order(
        session,
        order_id=order.id or 0,
        currency=order.currency,
        before_entry=order.settlement_entry_id,
    )
    for line in all_lines:
        amount = per_line.get(line.id or 0, 0)
        done = line.refunded_settled_amount
        if amount == 0 and done == 0:
            continue
        settled = settled_credits(session, all_lines, line, fee)
        after = _cumulative(settled, done + amount)
        prior = _cumulative(settled, done)
        owner = {"coop_id": line.coop_id, "line_id": line.id}
        debits.extend(_taken_back(after, prior, taken, owner))
        if amount:
            line.refunded_settled_amount = done + amount
            session.add(line)
            credits.append(owned(BUYER_DEPOSITS, amount, **owner))
    total = sum(amount for _account, amount, *_ in credits)
    if not total:
        return
    assert order.settlement_entry_id is not None
    take_back = TakeBack(
        settlement_entry_id=order.settlement_entry_id,
        refund_id=refund_id,
        currency=order.currency,
        taken=dict(taken),
    )
    for hook in _before_unsettling:
        hook(session, take_back)
    try:
        post_entry(
            session,
            kind="refund",
            key=f"order-refund:{refund_id}:settlement",
            order_id=order.id or 0,
            currency=order.currency,
            debits=debits,
            credits=credits,
            memo=f"Settlement of order {order.id} reversed in proportion for refund {refund_id}",
            created_by=actor,
            on=date.today(),
        )
    except LimitExceeded as error:
        refusal = _paid_out(session, order, _per_account(debits))
        if refusal is None:
            raise
        raise refusal from error


def _taken_back(
    after: Mapping[str, int],
    prior: Mapping[str, int],
    taken: dict[str, int],
    owner: dict[str, int | None],
) -> list[Line]:
    """A line's debits: what the refunds so far take back beyond the earlier ones (`taken` adds
    up the cumulative amounts per account)."""
    lines = []
    for account in sorted(set(after) | set(prior)):
        lines.append(owned(account, after.get(account, 0) - prior.get(account, 0), **owner))
        taken[account] += after.get(account, 0)
    return lines


def _per_account(debits: list[Line]) -> dict[str, int]:
    per_account: dict[str, int] = defaultdict(int)
    for account, amount, *_ in debits:
        per_account[account] += amount
    return per_account


def _paid_out(session: Session, order: Order, debits: Mapping[str, int]) -> RefundRefused | None:
    """The refusal when member payables hold less than the reversal takes back from them."""
    short = []
    for key in sorted(debits):
        if household_of(key) is None or debits[key] <= 0:
            continue
        held = balance(session, key).amount
        if held < debits[key]:
            short.append((key, held, debits[key]))
    if not short:
        return None
    currency = order.currency
    detail = " ".join(
        f"Household account {key} holds {_format_money(held, currency)} and this refund needs "
        f"{_format_money(needed, currency)} back from it."
        for key, held, needed in short
    )
    return RefundRefused(
        f"Order {order.id} was settled and its households' money has been paid out (or held for "
        f"a payout) since, so this refund cannot take their shares back: {detail} (Tuition "
        "deducted from these shares is counted as given back.) Nothing was refunded; recover "
        "the money from the household first, or refund less.",
        errors=[
            {
                "loc": ["ledger", key],
                "msg": "holds less than the refund takes back",
                "balance": {"amount": held, "currency": currency},
                "needed": {"amount": needed, "currency": currency},
            }
            for key, held, needed in short
        ],
    )


def _format_money(amount: int, currency: str) -> str:
    value = Decimal(amount).scaleb(-get_currency_precision(currency))
    return f"{format_currency(value, currency, locale='zh_CN')} ({amount} {currency})"


def settled_credits(
    session: Session, lines: list[OrderLine], line: OrderLine, fee: int
) -> dict[str, int]:
    """What the settlement credited for `line`: its parts and what they paid back of the fee."""
    settled_amount = line.line_total - line.refunded_amount + line.refunded_settled_amount
    recover = fee_borne_by_parts(lines, line, fee, settled_amount)
    credits = dict(line_credits(session, line, settled_amount - recover))
    if recover:
        credits[PROCESSING_FEES] = credits.get(PROCESSING_FEES, 0) + recover
    return credits


def _cumulative(settled: dict[str, int], reversed_amount: int) -> dict[str, int]:
    """The reversal of the first `reversed_amount` of the line's settled credits, per account.

    The settled credits (parts and fee paid back) are allocated by account in proportion to
    `reversed_amount / settled`, so the full reversal equals the settlement, fee included.
    """
    if reversed_amount <= 0 or not any(settled.values()):
        return {}
    accounts = sorted(settled)
    scaled = allocate(reversed_amount, [settled[a] for a in accounts])
    return dict(zip(accounts, scaled, strict=True))
