"""Share rules as data, and the pure function that splits one sale into its settlement postings.

A share rule divides a sale between the parts of `SHARE_PARTS`, in basis points summing to
10,000: today the producers (the member households that supplied the goods), the cooperative's
collective fund, its training fund, and the social enterprise. The producers' part may not be below a floor (default 6,000 bp:
the farmer-cooperative law returns at least 60 % of distributable surplus by transaction volume).

The split rule, used for every settlement (and, with the same inputs, for its reversal):

1. ``allocate(amount, [the parts' basis points in SHARE_PARTS order])``: largest remainder, ties
   by part order (producers first).
2. The producers' part is then split over the households with ``allocate`` by their contributed
   quantities, in the order the contributions are given (ties go to the earlier household).

Parts that come out as 0 get no posting (postings are positive). The versioned per-cooperative
rule table lives with orders; this module only knows the numbers. `sale_shares` gives the credits
as `SharePart` values (who, which account, how much); `split_sale` gives the whole balanced set of
`PostingSpec` for `ledger.service.post`.
"""

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlmodel import SQLModel

from core.errors import Invalid
from ledger.allocation import allocate
from ledger.models import Side
from ledger.service import PostingSpec

BASIS_POINTS = 10_000
DEFAULT_PRODUCERS_FLOOR = 6_000

HouseholdId = TypeVar("HouseholdId", int, str)


def N_(message: str) -> str:
    """Marks a label as a msgid for `pybabel extract` (frontend/babel.cfg reads this module);
    pages translate it with their request's translator."""
    return message


@dataclass(frozen=True)
class PartDefinition:
    """One part of a share rule. Everything that lists, stores, posts or shows the parts iterates
    `SHARE_PARTS`; adding a part is one more `PartDefinition` there plus a migration adding its
    columns (`share_rules.{key}`, `order_lines.rule_{key}`, `governance_hearings.{key}`)."""

    key: str  # field name in API bodies, settings, reports and table columns
    account: str  # ledger account key; `{coop}` / `{household}` are filled by `account_key`
    label: str  # msgid, short: charts, rule tables, reports
    description: str  # msgid: the settlement preview ("where your money will go")
    receipt_label: str  # msgid shown on the buyer's receipt; `%(coop)s` is the cooperative's name
    colour: str  # on charts
    default_bp: int  # in the default rule (settings override it)
    # A part added after clients existed: a rule that leaves it out gives it 0, so the API stays
    # compatible (add, don't change). The first four parts are always given.
    may_omit: bool = False

    @property
    def per_coop(self) -> bool:
        """A cooperative's fund: one account per cooperative."""
        return "{coop}" in self.account

    @property
    def per_household(self) -> bool:
        """The producers' part: one payable per member household."""
        return "{household}" in self.account

    @property
    def fund(self) -> str:
        """A fund's short name in receipts' parties and fund movements: its account's last word
        without "-fund" (`collective` for `equity:coops:{coop}:collective-fund`)."""
        return self.account.rsplit(":", 1)[-1].removesuffix("-fund")


SHARE_PARTS: tuple[PartDefinition, ...] = (
    PartDefinition(
        key="producers",
        account="liabilities:members:{household}:payable",
        label=N_("Households"),
        description=N_("The member households who produced it"),
        receipt_label=N_("Member household %(code)s"),
        colour="#2f7d32",
        default_bp=7000,
    ),
    PartDefinition(
        key="collective_fund",
        account="equity:coops:{coop}:collective-fund",
        label=N_("Collective fund"),
        description=N_("The cooperative's collective fund"),
        receipt_label=N_("%(coop)s: collective fund"),
        colour="#1565c0",
        default_bp=1000,
    ),
    PartDefinition(
        key="training_fund",
        account="equity:coops:{coop}:training-fund",
        label=N_("Training fund"),
        description=N_("The cooperative's training fund"),
        receipt_label=N_("%(coop)s: training fund"),
        colour="#ef6c00",
        default_bp=1000,
    ),
    PartDefinition(
        key="enterprise",
        account="income:enterprise:service-fees",
        label=N_("Social enterprise"),
        description=N_("The social enterprise's service fee"),
        receipt_label=N_("The social enterprise's service fee"),
        colour="#6a1b9a",
        default_bp=1000,
    ),
)


def part_keys() -> tuple[str, ...]:
    """The parts' keys in order (producers first: the allocation breaks ties by this order)."""
    return tuple(part.key for part in SHARE_PARTS)


def share_part(key: str) -> PartDefinition:
    for part in SHARE_PARTS:
        if part.key == key:
            return part
    raise KeyError(key)


def coop_funds() -> tuple[PartDefinition, ...]:
    """The parts kept per cooperative (its funds), in order."""
    return tuple(part for part in SHARE_PARTS if part.per_coop)


def sums_to_10000(prefix: str = "") -> str:
    """The SQL check that a row's parts (columns `{prefix}{key}`) sum to 10,000."""
    return " + ".join(f"{prefix}{key}" for key in part_keys()) + f" = {BASIS_POINTS}"


def part_columns(prefix: str = "") -> type[SQLModel]:
    """A base for a table that stores a rule's parts: one integer column `{prefix}{key}` per
    part (`share_rules`, `governance_hearings`; `order_lines` with the prefix `rule_`)."""

    def body(namespace: dict[str, Any]) -> None:
        namespace["__module__"] = __name__
        namespace["__annotations__"] = {f"{prefix}{key}": int for key in part_keys()}
        for part in SHARE_PARTS:
            if part.may_omit:  # rows made by code that predates the part give it 0
                namespace[f"{prefix}{part.key}"] = 0

    return types.new_class(f"{prefix.title().rstrip('_')}PartColumns", (SQLModel,), exec_body=body)


# --- Account keys: built and parsed here only -----------------------------------------------


def account_key(
    part: PartDefinition | str,
    *,
    coop_id: int | str | None = None,
    household_id: int | str | None = None,
) -> str:
    """The ledger account a part is credited to (for a cooperative, or a household)."""
    definition = share_part(part) if isinstance(part, str) else part
    if definition.per_coop and coop_id is None:
        raise ValueError(f"The {definition.key} part needs a cooperative.")
    if definition.per_household and household_id is None:
        raise ValueError(f"The {definition.key} part needs a household.")
    return definition.account.format(coop=coop_id, household=household_id)


@dataclass(frozen=True)
class PartAccount:
    """What a share part's account key names: the part, and whose account it is."""

    part: PartDefinition
    coop_id: str | None = None
    household_id: str | None = None


def _pattern(account: str) -> re.Pattern[str]:
    regex = re.escape(account)
    regex = regex.replace(re.escape("{coop}"), "(?P<coop>[^:]+)")
    regex = regex.replace(re.escape("{household}"), "(?P<household>[^:]+)")
    return re.compile(f"^{regex}$")


def parse_account_key(key: str) -> PartAccount | None:
    """The part (and cooperative or household) an account key belongs to; None for another account."""
    for part in SHARE_PARTS:
        match = _pattern(part.account).match(key)
        if match is not None:
            groups = match.groupdict()
            return PartAccount(part, groups.get("coop"), groups.get("household"))
    return None


def household_of(key: str) -> int | None:
    """The household a member payable's key names (`liabilities:members:{id}:payable`), else None."""
    found = parse_account_key(key)
    if found is None or found.household_id is None or not found.household_id.isdigit():
        return None
    return int(found.household_id)


def coop_of(key: str) -> int | None:
    """The cooperative whose fund an account key is (`equity:coops:{id}:...`), else None."""
    found = parse_account_key(key)
    if found is None or found.coop_id is None or not found.coop_id.isdigit():
        return None
    return int(found.coop_id)


BUYER_DEPOSITS = "liabilities:buyers:deposits"
ENTERPRISE_INCOME = account_key("enterprise")
# Where every member payable starts (for SQL `LIKE` filters); parse one with `household_of`.
MEMBER_PAYABLES_PREFIX = share_part("producers").account.partition("{household}")[0]


def member_payable_key(household_id: int | str) -> str:
    return account_key("producers", household_id=household_id)


def collective_fund_key(coop_id: int | str) -> str:
    return account_key("collective_fund", coop_id=coop_id)


def training_fund_key(coop_id: int | str) -> str:
    return account_key("training_fund", coop_id=coop_id)


class InvalidShareRule(Invalid):
    """A share rule or a split request that breaks a rule; `errors` names each field."""

    type_slug = "invalid-share-rule"
    msgid = N_("The parts of the split are not right: together they make 100 %.")

    def __init__(self, detail: str, *, field: str | list[str | int]) -> None:
        loc: list[str | int] = field if isinstance(field, list) else [field]
        super().__init__(detail, errors=[{"loc": loc, "msg": detail}])
        self.field = loc


class ProducersBelowFloor(InvalidShareRule):
    type_slug = "producers-below-floor"
    msgid = N_("The producer households' part is below the allowed minimum.")


def _named_points(
    in_order: tuple[int, ...], by_key: dict[str, int], keys: tuple[str, ...]
) -> dict[str, int]:
    """Every part's points by key: the ones given in order, then by key; a part that may be left
    out (added later) is 0 unless given. Unknown or missing parts are a programming error."""
    # In order: the parts that may not be left out (a part added later goes by key only).
    ordered = [part.key for part in SHARE_PARTS if not part.may_omit]
    if len(in_order) > len(ordered):
        raise TypeError(f"ShareParts takes at most {len(ordered)} parts in order {ordered}")
    points = {**dict(zip(ordered, in_order, strict=False)), **by_key}
    unknown = [name for name in points if name not in keys]
    points = {**{part.key: 0 for part in SHARE_PARTS if part.may_omit}, **points}
    missing = [key for key in keys if key not in points]
    if unknown or missing:
        raise TypeError(f"ShareParts takes the parts {keys}; unknown {unknown}, missing {missing}")
    return points


def _check_points(key: str, value: object) -> None:
    if not _is_int(value) or not 0 <= value <= BASIS_POINTS:  # type: ignore[operator]
        raise InvalidShareRule(
            f"{key} must be a whole number of basis points from 0 to 10000, not {value!r}.",
            field=key,
        )


class ShareParts:
    """Basis points per part (`SHARE_PARTS`), given by key (or the first ones in order); they sum to 10,000 (checked on
    creation). Read a part as an attribute (`parts.producers`) or with `of(key)`."""

    __slots__ = ("_points",)
    _points: dict[str, int]

    def __init__(self, *in_order: int, **by_key: int) -> None:
        keys = part_keys()
        points = _named_points(in_order, by_key, keys)
        for key in keys:
            _check_points(key, points[key])
        object.__setattr__(self, "_points", {key: points[key] for key in keys})
        total = sum(self.as_weights())
        if total != BASIS_POINTS:
            raise InvalidShareRule(
                f"The parts must sum to 10000 basis points (100 %); they sum to {total}.",
                field="parts",
            )

    @classmethod
    def of_row(cls, row: object, prefix: str = "") -> "ShareParts":
        """The parts stored on a row (a rule, a hearing, an order line's `rule_` columns)."""
        return cls(**{key: getattr(row, f"{prefix}{key}") for key in part_keys()})

    def __getattr__(self, name: str) -> int:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._points[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ShareParts is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShareParts) and self._points == other._points

    def __hash__(self) -> int:
        return hash(tuple(self._points.items()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={value}" for key, value in self._points.items())
        return f"ShareParts({inner})"

    def of(self, key: str) -> int:
        return self._points[key]

    def as_dict(self) -> dict[str, int]:
        return dict(self._points)

    def as_columns(self, prefix: str = "") -> dict[str, int]:
        """The parts as a row's column values (`rule_` prefix on order lines)."""
        return {f"{prefix}{key}": value for key, value in self._points.items()}

    def as_weights(self) -> tuple[int, ...]:
        return tuple(self._points.values())


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

    party: str  # "household:{id}", "coop:{id}:collective-fund" (a fund), "enterprise"
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
    shares: list[SharePart] = []
    for part, points in zip(SHARE_PARTS, allocate(amount, parts.as_weights()), strict=True):
        if part.per_household:
            shares += [
                SharePart(f"household:{household}", member_payable_key(household), share)
                for household, share in zip(households, allocate(points, quantities), strict=True)
            ]
        else:
            shares.append(
                SharePart(_party(part, coop_id), account_key(part, coop_id=coop_id), points)
            )
    return [share for share in shares if share.amount > 0]


def _party(part: PartDefinition, coop_id: int | str) -> str:
    if part.per_coop:
        return f"coop:{coop_id}:{part.account.rsplit(':', 1)[-1]}"
    return part.key


def unclaimed_shares(amount: int, parts: ShareParts, *, coop_id: int | str) -> list[SharePart]:
    """A sale with no known producer: the producers' part stays with the cooperative's first fund
    (the collective fund); the other parts as usual. Zero parts left out."""
    _check_amount(amount)
    kept = [part for part in SHARE_PARTS if not part.per_household]
    weights = [parts.of(part.key) for part in kept]
    keeper = next(i for i, part in enumerate(kept) if part.per_coop)
    weights[keeper] += sum(parts.of(part.key) for part in SHARE_PARTS if part.per_household)
    shares = [
        SharePart(_party(part, coop_id), account_key(part, coop_id=coop_id), points)
        for part, points in zip(kept, allocate(amount, weights), strict=True)
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
    whole amount; Cr each household's payable and every other part's account (the cooperative's
    funds, the enterprise's service fees) by `sale_shares`. They balance by construction."""
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
