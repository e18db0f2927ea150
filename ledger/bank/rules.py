"""Matching rules as pure functions: bank lines and ledger items in, proposed matches out.

Each rule sees only what earlier rules left open, and leaves a tie for a person to decide. The
rules, in order: the same reference (any number of lines to any number of postings whose sums
agree); one transfer for a payout batch (a line equal to a batch's postings of a day); a buyer's
bank transfer or cash deposit recorded by staff (the order's reference code in the line's memo, the
same amount, a date near the recording); the same amount on the nearest date within a drift; and
then a deposit without a code (cash paid in at the counter) to the one recorded payment of that
amount within the drift; and last, one deposit that covers several recorded payments (a
cooperative banks three cash orders at once): the payments whose codes its memo names, or else the
one set of payments recorded within the drift whose sum is the deposit. That last proposal is for
staff to confirm on the page (`Proposal.confirm`), never matched automatically.
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.bank.values import LedgerItem

CODE_DRIFT_DAYS = (
    10  # a reference code is strong evidence: a transfer recorded a week late still matches
)
# A deposit of several payments: at most this many payments in it, searched among at most this
# many candidates (2^16 subsets at worst; beyond that a person matches by hand).
SET_MAX_PAYMENTS = 8
SET_MAX_CANDIDATES = 16


@dataclass(frozen=True)
class BankLine:
    """What the rules need of a statement line; `key` is its id (or its file line in a preview)."""

    key: int
    booked_on: date
    amount: int
    reference: str
    text: str  # reference, counterparty and description together, for finding codes


@dataclass(frozen=True)
class Proposal:
    rule: str
    line_keys: tuple[int, ...]
    posting_ids: tuple[int, ...]
    clearing: bool = False  # the postings are on the clearing account: a transfer is posted first
    confirm: bool = False  # staff confirm it on the page; never matched automatically


def bank_line(
    key: int, booked_on: date, amount: int, reference: str, counterparty: str, description: str
) -> BankLine:
    return BankLine(
        key, booked_on, amount, reference, " ".join((reference, counterparty, description))
    )


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def by_reference(lines: Sequence[BankLine], items: Sequence[LedgerItem]) -> list[Proposal]:
    lines_by_ref: dict[str, list[BankLine]] = defaultdict(list)
    items_by_ref: dict[str, list[LedgerItem]] = defaultdict(list)
    for line in lines:
        if line.reference:
            lines_by_ref[line.reference].append(line)
    for item in items:
        if item.reference:
            items_by_ref[item.reference].append(item)
    proposals = []
    for reference, group in lines_by_ref.items():
        candidates = items_by_ref.get(reference, [])
        if candidates and sum(x.amount for x in group) == sum(i.amount for i in candidates):
            proposals.append(
                Proposal(
                    "reference",
                    tuple(x.key for x in group),
                    tuple(i.posting_id for i in candidates),
                )
            )
    return proposals


def _batches(items: Iterable[LedgerItem]) -> list[list[LedgerItem]]:
    by_batch: dict[Any, list[LedgerItem]] = defaultdict(list)
    for item in items:
        if "payout_batch" in item.metadata:
            by_batch[(item.metadata["payout_batch"], item.effective_date)].append(item)
    return [group for group in by_batch.values() if len(group) > 1]


def by_batch(
    lines: Sequence[BankLine], items: Sequence[LedgerItem], drift_days: int
) -> list[Proposal]:
    proposals = []
    used: set[int] = set()
    for group in _batches(items):
        total = sum(i.amount for i in group)
        newest = max(i.effective_date for i in group)
        line = next(
            (
                x
                for x in lines
                if x.key not in used
                and x.amount == total
                and _days(x.booked_on, newest) <= drift_days
            ),
            None,
        )
        if line is not None:
            used.add(line.key)
            proposals.append(Proposal("batch", (line.key,), tuple(i.posting_id for i in group)))
    return proposals


def _normalised(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def by_code(
    lines: Sequence[BankLine], clearing: Sequence[LedgerItem], codes: Mapping[int, str]
) -> list[Proposal]:
    """A line whose memo names exactly one recorded payment's code, of the same amount."""
    proposals = []
    used: set[int] = set()
    for line in lines:
        text = _normalised(line.text)
        found = [
            item
            for item in clearing
            if item.posting_id not in used
            and item.posting_id in codes
            and _normalised(codes[item.posting_id]) in text
            and item.amount == line.amount
            and _days(item.effective_date, line.booked_on) <= CODE_DRIFT_DAYS
        ]
        if len(found) == 1:
            used.add(found[0].posting_id)
            proposals.append(Proposal("code", (line.key,), (found[0].posting_id,), clearing=True))
    return proposals


def by_payment_amount(
    lines: Sequence[BankLine],
    clearing: Sequence[LedgerItem],
    codes: Mapping[int, str],
    drift_days: int,
) -> list[Proposal]:
    """A deposit without a code (cash paid in at the counter): the one recorded payment of that
    amount within the drift, when no other line could be it either."""
    candidates = {
        x.key: [
            i.posting_id
            for i in clearing
            if i.posting_id in codes
            and i.amount == x.amount
            and _days(i.effective_date, x.booked_on) <= drift_days
        ]
        for x in lines
        if x.amount > 0
    }
    claims: dict[int, int] = defaultdict(int)
    for found in candidates.values():
        for posting_id in found:
            claims[posting_id] += 1
    return [
        Proposal("payment", (key,), (found[0],), clearing=True)
        for key, found in candidates.items()
        if len(found) == 1 and claims[found[0]] == 1
    ]


def _sets_summing(pool: Sequence[LedgerItem], total: int, limit: int = 2) -> list[list[LedgerItem]]:
    """Up to `limit` sets of 2 to SET_MAX_PAYMENTS items whose amounts (all > 0) sum to `total`."""
    ordered = sorted(pool, key=lambda i: (-i.amount, i.posting_id))
    found: list[list[LedgerItem]] = []

    def search(start: int, left: int, chosen: list[LedgerItem]) -> None:
        if len(found) >= limit:
            return
        if left == 0:
            if len(chosen) >= 2:
                found.append(list(chosen))
            return
        if len(chosen) >= SET_MAX_PAYMENTS:
            return
        for index in range(start, len(ordered)):
            candidate = ordered[index]
            if candidate.amount <= left:
                chosen.append(candidate)
                search(index + 1, left - candidate.amount, chosen)
                chosen.pop()

    search(0, total, [])
    return found


def _deposit_set(
    line: BankLine, pool: Sequence[LedgerItem], codes: Mapping[int, str]
) -> list[LedgerItem] | None:
    text = _normalised(line.text)
    named = [i for i in pool if _normalised(codes[i.posting_id]) in text]
    if len(named) >= 2:
        return named if sum(i.amount for i in named) == line.amount else None
    if len(pool) > SET_MAX_CANDIDATES:
        return None
    sets = _sets_summing(pool, line.amount)
    return sets[0] if len(sets) == 1 else None  # two sets fit: a person decides


def by_deposit_set(
    lines: Sequence[BankLine],
    clearing: Sequence[LedgerItem],
    codes: Mapping[int, str],
    drift_days: int,
) -> list[Proposal]:
    """One deposit covering several recorded payments: the payments whose codes its memo names
    (when they add up to it), or else the one set of payments recorded within the drift of its
    date whose sum it is. For staff to confirm (`confirm=True`)."""
    proposals = []
    used: set[int] = set()
    for line in lines:
        if line.amount <= 0:
            continue
        pool = [
            i
            for i in clearing
            if i.posting_id in codes
            and i.posting_id not in used
            and 0 < i.amount < line.amount
            and _days(i.effective_date, line.booked_on) <= drift_days
        ]
        chosen = _deposit_set(line, pool, codes)
        if chosen:
            used.update(i.posting_id for i in chosen)
            ids = tuple(sorted(i.posting_id for i in chosen))
            proposals.append(Proposal("deposit_set", (line.key,), ids, clearing=True, confirm=True))
    return proposals


def by_amount_and_date(
    lines: Sequence[BankLine], items: Sequence[LedgerItem], drift_days: int
) -> list[Proposal]:
    proposals = []
    used: set[int] = set()
    for line in lines:
        near = sorted(
            (
                item
                for item in items
                if item.posting_id not in used
                and item.amount == line.amount
                and _days(item.effective_date, line.booked_on) <= drift_days
            ),
            key=lambda i: _days(i.effective_date, line.booked_on),
        )
        if not near:
            continue
        if len(near) > 1 and _days(near[1].effective_date, line.booked_on) == _days(
            near[0].effective_date, line.booked_on
        ):
            continue  # a tie: a person decides
        used.add(near[0].posting_id)
        proposals.append(Proposal("amount_date", (line.key,), (near[0].posting_id,)))
    return proposals


def propose(
    lines: Sequence[BankLine],
    items: Sequence[LedgerItem],
    *,
    drift_days: int,
    clearing: Sequence[LedgerItem] = (),
    codes: Mapping[int, str] | None = None,
) -> list[Proposal]:
    """All the rules in order, each over what the earlier ones left open."""
    made: list[Proposal] = []

    def still_open() -> tuple[list[BankLine], list[LedgerItem]]:
        used_lines = {k for p in made for k in p.line_keys}
        used_postings = {i for p in made for i in p.posting_ids}
        return (
            [x for x in lines if x.key not in used_lines],
            [i for i in items if i.posting_id not in used_postings],
        )

    made += by_reference(lines, items)
    made += by_batch(*still_open(), drift_days)
    if codes:
        made += by_code(still_open()[0], clearing, codes)
    made += by_amount_and_date(*still_open(), drift_days)
    if codes:  # last: the account's own postings of that amount come first
        taken = {i for p in made for i in p.posting_ids}
        left = [i for i in clearing if i.posting_id not in taken]
        made += by_payment_amount(still_open()[0], left, codes, drift_days)
        taken = {i for p in made for i in p.posting_ids}
        left = [i for i in clearing if i.posting_id not in taken]
        made += by_deposit_set(still_open()[0], left, codes, drift_days)
    return made
