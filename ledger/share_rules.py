"""Share rules as data, and the pure function that splits one sale into its settlement postings.

A share rule divides a sale between four parts, in basis points summing to 10,000: the producers
(the member households that supplied the goods), the cooperative's collective fund, its training
fund, and the social enterprise. The producers' part may not be below a floor (default 6,000 bp:
the farmer-cooperative law returns at least 60 % of distributable surplus by transaction volume).

The split rule, used for every settlement (and, with the same inputs, for its reversal):

1. ``allocate(amount, [producers, collective_fund, training_fund, enterprise])`` over the basis
   points: largest remainder, ties by part order (producers first).
2. The producers' part is then split over the households with ``allocate`` by their contributed
   quantities, in the order the contributions are given (ties go to the earlier household).

Parts that come out as 0 get no posting (postings are positive). The versioned per-cooperative
rule table lives with orders; this module only knows the numbers. `sale_shares` gives the credits
as `SharePart` values (who, which account, how much); `split_sale` gives the whole balanced set of
`PostingSpec` for `ledger.service.post`.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TypeVar

from core.errors import Invalid
from ledger.allocation import allocate
from ledger.models import Side
from ledger.service import PostingSpec

BASIS_POINTS = 10_000
DEFAULT_PRODUCERS_FLOOR = 6_000

HouseholdId = TypeVar("HouseholdId", int, str)

BUYER_DEPOSITS = "liabilities:buyers:deposits"
ENTERPRISE_INCOME = "income:enterprise:service-fees"


def member_payable_key(household_id: int | str) -> str:
    return f"liabilities:members:{household_id}:payable"


def collective_fund_key(coop_id: int | str) -> str:
    return f"equity:coops:{coop_id}:collective-fund"


def training_fund_key(coop_id: int | str) -> str:
    return f"equity:coops:{coop_id}:training-fund"


class InvalidShareRule(Invalid):
    """A share rule or a split request that breaks a rule; `errors` names each field."""

    type_slug = "invalid-share-rule"

    def __init__(self, detail: str, *, field: str | list[str | int]) -> None:
        loc: list[str | int] = field if isinstance(field, list) else [field]
        super().__init__(detail, errors=[{"loc": loc, "msg": detail}])
        self.field = loc


class ProducersBelowFloor(InvalidShareRule):
    type_slug = "producers-below-floor"


@dataclass(frozen=True)
class ShareParts:
    """Basis points per part; they sum to 10,000 (checked on creation)."""

    producers: int
    collective_fund: int
    training_fund: int
    enterprise: int

    def __post_init__(self) -> None:
        for part in fields(self):
            value = getattr(self, part.name)
            if not _is_int(value) or not 0 <= value <= BASIS_POINTS:
                raise InvalidShareRule(
                    f"{part.name} must be a whole number of basis points from 0 to 10000, "
                    f"not {value!r}.",
                    field=part.name,
                )
        total = sum(self.as_weights())
        if total != BASIS_POINTS:
            raise InvalidShareRule(
                f"The parts must sum to 10000 basis points (100 %); they sum to {total}.",
                field="parts",
            )

    def as_weights(self) -> tuple[int, int, int, int]:
        return (self.producers, self.collective_fund, self.training_fund, self.enterprise)


def check_producers_floor(parts: ShareParts, *, floor: int = DEFAULT_PRODUCERS_FLOOR) -> None:
    """Refuse a rule whose producers' part is below ``floor`` basis points."""
    if not _is_int(floor) or not 0 <= floor <= BASIS_POINTS:
        raise InvalidShareRule(
            f"The producers' floor must be 0 to 10000 basis points, not {floor!r}.",
            field="producers_floor",
        )
    if parts.producers < floor:
        raise ProducersBelowFloor(
            f"The producers' part is {parts.producers} basis points; it may not be below "
            f"{floor} ({floor / 100:g} %).",
            field="producers",
        )


@dataclass(frozen=True)
class SharePart:
    """One credit of a sale's settlement: who gets it, on which account, how much."""

    party: str  # "household:{id}", "coop:{id}:collective-fund", "coop:{id}:training-fund", "enterprise"
    account_key: str
    amount: int


def sale_shares(
    amount: int,
    parts: ShareParts,
    contributions: Mapping[HouseholdId, int],
    *,
    coop_id: int | str,
    producers_floor: int = DEFAULT_PRODUCERS_FLOOR,
) -> list[SharePart]:
    """The credits of one sale's settlement by the split rule (module doc); zero parts left out.

    ``contributions`` maps household id → contributed quantity, in a stable order (it breaks ties).
    """
    _check_amount(amount)
    check_producers_floor(parts, floor=producers_floor)
    households, quantities = _check_contributions(contributions)
    producers, collective, training, enterprise = allocate(amount, parts.as_weights())
    shares = [
        SharePart(f"household:{household}", member_payable_key(household), share)
        for household, share in zip(households, allocate(producers, quantities), strict=True)
    ]
    shares += [
        SharePart(f"coop:{coop_id}:collective-fund", collective_fund_key(coop_id), collective),
        SharePart(f"coop:{coop_id}:training-fund", training_fund_key(coop_id), training),
        SharePart("enterprise", ENTERPRISE_INCOME, enterprise),
    ]
    return [share for share in shares if share.amount > 0]


def split_sale(
    amount: int,
    currency: str,
    parts: ShareParts,
    contributions: Mapping[HouseholdId, int],
    *,
    coop_id: int | str,
    producers_floor: int = DEFAULT_PRODUCERS_FLOOR,
    debit_account: str = BUYER_DEPOSITS,
) -> list[PostingSpec]:
    """The postings of one sale's settlement: Dr ``debit_account`` (the buyer's deposit) the
    whole amount; Cr each household's payable, the collective fund, the training fund and the
    enterprise's service fees by `sale_shares`. They balance by construction."""
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise InvalidShareRule(
            f"{currency!r} is not an ISO 4217 currency code (three capital letters, e.g. CNY).",
            field="currency",
        )
    shares: list[SharePart] = sale_shares(
        amount, parts, contributions, coop_id=coop_id, producers_floor=producers_floor
    )
    return [
        PostingSpec(account=debit_account, side=Side.debit, amount=amount, currency=currency),
        *(
            PostingSpec(account=s.account_key, side=Side.credit, amount=s.amount, currency=currency)
            for s in shares
        ),
    ]


def _check_amount(amount: int) -> None:
    if not _is_int(amount) or amount <= 0:
        raise InvalidShareRule(
            f"The amount to split must be a positive whole number of minor units, not {amount!r}.",
            field="amount",
        )


def _check_contributions(
    contributions: Mapping[HouseholdId, int],
) -> tuple[list[HouseholdId], list[int]]:
    if not contributions:
        raise InvalidShareRule(
            "A sale needs at least one producing household's contribution.",
            field="contributions",
        )
    for household, quantity in contributions.items():
        if not _is_int(quantity) or quantity < 0:
            raise InvalidShareRule(
                f"Household {household}'s contribution must be a whole quantity ≥ 0, "
                f"not {quantity!r}.",
                field=["contributions", str(household)],
            )
    quantities = list(contributions.values())
    if sum(quantities) == 0:
        raise InvalidShareRule(
            "Every contribution is 0: the producers' part cannot be split.",
            field="contributions",
        )
    return list(contributions.keys()), quantities


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
