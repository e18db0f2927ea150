"""What an entry says, before it touches the database: specs, their validation and content hash.

The content hash is what idempotency compares (same key, same content → the same entry) and what
`verify` recomputes from stored rows; it covers what the entry says, not who sent it, and does
not depend on the order of the postings.
"""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from core.errors import Invalid
from ledger.accounts import validate_currency
from ledger.errors import InvalidPosting, UnbalancedEntry
from ledger.models import Side

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")


@dataclass(frozen=True)
class PostingSpec:
    """One line of an entry; the optional keys say whom it belongs to (see `Posting`)."""

    account: str
    side: Side
    amount: int
    currency: str
    coop_id: int | None = None
    household_id: int | None = None
    order_line_id: int | None = None

    @property
    def attribution(self) -> tuple[int | None, int | None, int | None]:
        return (self.coop_id, self.household_id, self.order_line_id)


@dataclass(frozen=True)
class EntrySpec:
    kind: str
    effective_date: date
    postings: tuple[PostingSpec, ...]
    idempotency_key: str
    memo: str = ""
    reference: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_by: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(
    *,
    kind: str,
    effective_date: date,
    memo: str,
    reference: str | None,
    metadata: Mapping[str, Any],
    postings: Sequence[tuple[str, str, int, str]],
) -> str:
    """SHA-256 of what the entry says (not who sent it); posting order does not matter."""
    content = {
        "kind": kind,
        "effective_date": effective_date.isoformat(),
        "memo": memo,
        "reference": reference,
        "metadata": dict(metadata),
        "postings": sorted([list(p) for p in postings]),
    }
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def spec_hash(spec: EntrySpec) -> str:
    return content_hash(
        kind=spec.kind,
        effective_date=spec.effective_date,
        memo=spec.memo,
        reference=spec.reference,
        metadata=spec.metadata,
        postings=[(p.account, str(p.side), p.amount, p.currency) for p in spec.postings],
    )


def signed_amount(posting: PostingSpec) -> int:
    return posting.amount if posting.side == Side.debit else -posting.amount


def _validate_attribution(posting: PostingSpec, loc: list[str | int]) -> None:
    for name, value in zip(
        ("coop_id", "household_id", "order_line_id"), posting.attribution, strict=True
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidPosting(
                f"The posting's {name} must be a whole number or empty, not {value!r}.",
                errors=[{"loc": [*loc, name], "msg": "integer or null"}],
            )


def validate_spec(spec: EntrySpec) -> None:
    """Everything that can be checked without the database."""
    _validate_header(spec)
    _validate_postings(spec.postings)


def _validate_header(spec: EntrySpec) -> None:
    """The entry's key, kind, date, memo, reference and metadata."""
    if not isinstance(spec.idempotency_key, str) or not IDEMPOTENCY_KEY_PATTERN.match(
        spec.idempotency_key
    ):
        raise Invalid(
            "The idempotency key must be 1–255 printable ASCII characters.",
            errors=[{"loc": ["idempotency_key"], "msg": "1–255 printable characters"}],
        )
    if not KIND_PATTERN.match(spec.kind):
        raise Invalid(
            f"{spec.kind!r} is not an entry kind (lowercase word, e.g. 'sale' or 'adjustment').",
            errors=[{"loc": ["kind"], "msg": "lowercase word up to 32 characters"}],
        )
    if not isinstance(spec.effective_date, date):
        raise Invalid(
            "The effective date must be a date.",
            errors=[{"loc": ["effective_date"], "msg": "not a date"}],
        )
    if len(spec.memo) > 1000 or (spec.reference is not None and len(spec.reference) > 255):
        raise Invalid(
            "The memo is limited to 1000 characters and the reference to 255.",
            errors=[{"loc": ["memo"], "msg": "too long"}],
        )
    try:
        canonical_json(spec.metadata)
    except (TypeError, ValueError):
        raise Invalid(
            "The metadata must be plain JSON (objects, lists, strings, numbers, booleans).",
            errors=[{"loc": ["metadata"], "msg": "not JSON"}],
        ) from None


def _validate_posting(index: int, posting: PostingSpec) -> None:
    loc: list[str | int] = ["postings", index]
    amount = posting.amount
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidPosting(
            f"Posting {index + 1}: the amount must be a whole number of minor units "
            f"(e.g. 1250 for 12.50), not {amount!r}.",
            errors=[{"loc": [*loc, "amount"], "msg": "integer minor units"}],
        )
    if amount <= 0:
        raise InvalidPosting(
            f"Posting {index + 1}: the amount must be positive; the side says which way "
            "the money goes.",
            errors=[{"loc": [*loc, "amount"], "msg": "must be > 0"}],
        )
    if posting.side not in (Side.debit, Side.credit):
        raise InvalidPosting(
            f"Posting {index + 1}: the side must be 'debit' or 'credit'.",
            errors=[{"loc": [*loc, "side"], "msg": "debit or credit"}],
        )
    validate_currency(posting.currency, loc=[*loc, "currency"])
    _validate_attribution(posting, loc)


def _validate_postings(postings: Sequence[PostingSpec]) -> None:
    """At least two valid postings that balance per currency."""
    if len(postings) < 2:
        raise UnbalancedEntry(
            "An entry needs at least two postings: something debited and something credited.",
            errors=[{"loc": ["postings"], "msg": "at least 2 postings"}],
        )
    totals: dict[str, int] = defaultdict(int)
    for index, posting in enumerate(postings):
        _validate_posting(index, posting)
        totals[posting.currency] += signed_amount(posting)
    off = {currency: total for currency, total in totals.items() if total != 0}
    if off:
        described = ", ".join(
            f"{currency}: debits exceed credits by {total}"
            if total > 0
            else f"{currency}: credits exceed debits by {-total}"
            for currency, total in sorted(off.items())
        )
        raise UnbalancedEntry(
            f"The entry does not balance ({described}); per currency, debits must equal credits.",
            errors=[{"loc": ["postings"], "msg": f"unbalanced: {described}"}],
        )
