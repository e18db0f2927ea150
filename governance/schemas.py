"""Governance request shapes (answers are plain dicts built by the services' `*_read` functions)."""

from datetime import date
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    create_model,
)

from catalog.schemas import Currency
from ledger.share_rules import SHARE_PARTS


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


def Text(limit: int) -> object:  # noqa: N802  (reads as a type in the annotations below)
    return Field(min_length=1, max_length=limit)


Period = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Reason = Annotated[str, Text(2000), AfterValidator(_not_blank)]
Note = Annotated[str, Text(5000), AfterValidator(_not_blank)]
Short = Annotated[str, Text(500), AfterValidator(_not_blank)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisclosureCreate(Strict):
    coop_id: StrictInt
    period: Period
    currency: Currency = "CNY"
    # A month still open can only be published as provisional; a closed one only as final.
    provisional: StrictBool = False


class MonitoringConfigUpdate(Strict):
    line_kind: Literal["absolute", "relative"] | None = None
    poverty_line: StrictInt | None = Field(default=None, ge=0, le=10**12)
    multiplier_bp: StrictInt | None = Field(default=None, ge=1, le=100_000)
    relative_bp: StrictInt | None = Field(default=None, ge=1, le=10_000)
    drop_bp: StrictInt | None = Field(default=None, ge=1, le=10_000)
    currency: Currency | None = None


class IncomeCreate(Strict):
    amount: StrictInt = Field(gt=0, le=10**12)
    currency: Currency = "CNY"
    received_on: date
    source: Annotated[str, Text(200), AfterValidator(_not_blank)]
    note: str = Field(default="", max_length=500)


class MonitorRun(Strict):
    as_of: date | None = None


class NoteCreate(Strict):
    body: Note


class AlertClose(Strict):
    outcome: Annotated[str, Text(1000), AfterValidator(_not_blank)]


if TYPE_CHECKING:

    class HearingParts(Strict):
        """Basis points per part: one field per `ledger.share_rules.SHARE_PARTS` key."""

        def __getattr__(self, name: str) -> int: ...

else:
    HearingParts = create_model(
        "HearingParts",
        __base__=Strict,
        __module__=__name__,
        **{part.key: (StrictInt, 0 if part.may_omit else ...) for part in SHARE_PARTS},
    )


class HearingCreate(Strict):
    coop_id: StrictInt
    parts: HearingParts
    fee_bearer: Literal["enterprise", "pro_rata"] = "enterprise"
    reason: Reason
    effective_from: date
    comment_until: date
    vote_until: date
    quorum_bp: StrictInt = Field(default=5_000, ge=0, le=10_000)
    majority_bp: StrictInt = Field(default=5_000, ge=0, le=9_999)


class CommentCreate(Strict):
    body: Reason


class VoteCreate(Strict):
    choice: Literal["yes", "no", "abstain"]


class RatingCreate(Strict):
    stars: StrictInt = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=1000)


class HideComment(Strict):
    reason: Short
