"""Training request and response shapes (money as integer minor units + currency, never a float)."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from catalog.schemas import Currency, LocalizedName, LocalizedText, MoneyRead
from training.models import (
    Eligibility,
    EnrolmentStatus,
    FundingSource,
    ProgrammeStatus,
    Repayment,
    SkillArea,
)

MAX_SEAT_COST = 10**10  # minor units (100 million yuan): far above any course, below BIGINT
BASIS_POINTS = 10_000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


Text200 = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
BasisPoints = Annotated[StrictInt, Field(ge=1, le=BASIS_POINTS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeatCost(Strict):
    amount: StrictInt = Field(ge=0, le=MAX_SEAT_COST)
    currency: Currency


class ProviderCreate(Strict):
    name: Text200
    contact: Annotated[str, Field(max_length=200)] = ""
    currency: Currency = "CNY"


class ProviderRead(BaseModel):
    id: int
    name: str
    contact: str
    currency: str
    payable_account: str
    balance: MoneyRead


class SessionIn(Strict):
    date: date
    place: Text200
    trainer: Annotated[str, Field(max_length=200)] = ""


class SessionRead(BaseModel):
    id: int
    date: date
    place: str
    trainer: str


class Funding(Strict):
    source: FundingSource
    # coop_fund only: this cooperative's fund pays every seat; omitted = the member's own cooperative.
    coop_id: StrictInt | None = None


class ProgrammeCreate(Strict):
    provider_id: StrictInt
    title: LocalizedName
    description: LocalizedText = LocalizedText()
    skill_area: SkillArea
    sessions: list[SessionIn] = Field(default_factory=list, max_length=100)
    capacity: StrictInt = Field(ge=1, le=100_000)
    seat_cost: SeatCost
    funding: Funding
    eligibility: Eligibility = Eligibility.open
    eligible_coop_ids: list[StrictInt] = Field(default_factory=list, max_length=200)
    # The most a household repaying by deduction gives of each settled share (1,000 = 10 %).
    deduction_cap_bps: BasisPoints | None = None
    min_attendance: StrictInt = Field(default=1, ge=0, le=100)
    status: ProgrammeStatus = ProgrammeStatus.draft


class ProgrammeUpdate(Strict):
    title: LocalizedName | None = None
    description: LocalizedText | None = None
    capacity: StrictInt | None = Field(default=None, ge=1, le=100_000)
    status: ProgrammeStatus | None = None
    deduction_cap_bps: BasisPoints | None = None


class ProgrammeRead(BaseModel):
    id: int
    provider: ProviderRead | None  # None for the public (no balances)
    provider_name: str
    title: LocalizedName
    description: LocalizedText
    skill_area: SkillArea
    sessions: list[SessionRead]
    capacity: int
    seats_taken: int
    seats_left: int
    seat_cost: MoneyRead
    funding: Funding
    funding_account: str | None
    eligibility: Eligibility
    eligible_coop_ids: list[int]
    deduction_cap_bps: int | None
    min_attendance: int
    status: ProgrammeStatus
    starts_on: date | None
    ends_on: date | None


class ProgrammePage(BaseModel):
    items: list[ProgrammeRead]
    next_cursor: str | None = None


class EnrolmentCreate(Strict):
    # A farmer applies for their own household (omit it); a manager or staff names one.
    household_id: StrictInt | None = None
    repayment: Repayment = Repayment.fund
    # With repayment "deduction": the share of each settled share given (default the cap).
    deduction_bps: BasisPoints | None = None


class EventRead(BaseModel):
    from_status: EnrolmentStatus | None
    to_status: EnrolmentStatus
    actor: str
    note: str
    at: datetime


class AttendanceRead(BaseModel):
    session_id: int
    date: date
    present: bool
    marked_by: str
    marked_at: datetime


class EnrolmentRead(BaseModel):
    id: int
    programme_id: int
    programme_title: LocalizedName
    household_id: int
    member_code: str
    coop_id: int
    status: EnrolmentStatus
    repayment: Repayment
    deduction_bps: int | None
    seat_cost: MoneyRead | None
    funding_account: str | None
    financing_entry_id: int | None
    refund_entry_id: int | None
    repaid: MoneyRead
    outstanding: MoneyRead
    certificate_number: str | None
    applied_at: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    dropped_at: datetime | None
    attendance: list[AttendanceRead]
    history: list[EventRead]


class EnrolmentPage(BaseModel):
    items: list[EnrolmentRead]
    next_cursor: str | None = None


class AttendanceIn(Strict):
    session_id: StrictInt
    present: bool = True


class CompleteIn(Strict):
    certificate_number: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-/]*$")
    ]


class DropIn(Strict):
    reason: Annotated[str, Field(max_length=500)] = ""


class PriorityRead(BaseModel):
    enrolment_id: int
    household_id: int
    member_code: str
    coop_id: int
    household_size: int
    flagged: bool
    below_line: bool
    income_per_capita_annual: MoneyRead
    applied_at: datetime
    reason: str


class DeductionRead(BaseModel):
    enrolment_id: int
    settlement_ref: str
    share: MoneyRead
    amount: MoneyRead
    entry_id: int


class WindowRead(BaseModel):
    start: date
    end: date  # exclusive


class GroupStats(BaseModel):
    count: int
    mean_before: MoneyRead | None
    mean_after: MoneyRead | None
    mean_change: MoneyRead | None
    median_change: MoneyRead | None


class EnrolmentOutcome(BaseModel):
    enrolment_id: int
    household_id: int
    member_code: str
    coop_id: int
    status: EnrolmentStatus
    before: WindowRead
    after: WindowRead | None
    income_before_per_capita: MoneyRead
    income_after_per_capita: MoneyRead | None
    change_per_capita: MoneyRead | None
    enough_data: bool


class OutcomeReport(BaseModel):
    programme_id: int
    view: Literal["full", "coop", "public"]
    coop_id: int | None
    currency: str
    window_months: int
    before: WindowRead | None
    after: WindowRead | None
    enough_data: bool
    message: str
    participants: GroupStats
    non_participants: GroupStats
    did_mean: MoneyRead | None
    did_median: MoneyRead | None
    enrolments: list[EnrolmentOutcome] | None
