"""Catalog request and response shapes (docs/api.md, "Catalog")."""

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Literal

from babel.numbers import list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

from catalog.models import Category, CertificationKind, HouseholdStatus, PayoutMethod, Unit

MAX_PRICE = 10**12  # minor units; far above any farm product, far below BIGINT


@lru_cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _currency(code: str) -> str:
    if code not in known_currencies():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocalizedName(Strict):
    zh: Name
    en: ShortText = ""


class LocalizedText(Strict):
    zh: LongText = ""
    en: LongText = ""


class Money(Strict):
    amount: StrictInt = Field(gt=0, le=MAX_PRICE)
    currency: Currency


class MoneyRead(BaseModel):
    amount: int
    currency: str


# Cooperatives


class CoopCreate(Strict):
    name: LocalizedName
    code: Annotated[str, Field(pattern=r"^[A-Z]{2,8}$")] | None = None
    village: Name
    township: ShortText = ""
    county: Name
    province: Name
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    story: LocalizedText = LocalizedText()
    contact: ShortText = ""


class CoopUpdate(Strict):
    name: LocalizedName | None = None
    village: Name | None = None
    township: ShortText | None = None
    county: Name | None = None
    province: Name | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    story: LocalizedText | None = None
    contact: ShortText | None = None


class CoopRead(BaseModel):
    id: int
    code: str
    name: LocalizedName
    village: str
    township: str
    county: str
    province: str
    latitude: float | None
    longitude: float | None
    story: LocalizedText
    contact: str


class CoopPage(BaseModel):
    items: list[CoopRead]
    next_cursor: str | None = None


# Households


class HouseholdCreate(Strict):
    member_code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{1,19}$")] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]
    household_size: StrictInt = Field(ge=1, le=100)
    village: ShortText = ""
    phone: Annotated[str, Field(max_length=30, pattern=r"^[0-9+() -]*$")] = ""
    payout_method: PayoutMethod | None = None
    payout_account: Annotated[str, Field(max_length=100)] = ""
    public_name_consent: StrictBool = False


class HouseholdUpdate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)] | None = (
        None
    )
    household_size: StrictInt | None = Field(default=None, ge=1, le=100)
    village: ShortText | None = None
    phone: Annotated[str, Field(max_length=30, pattern=r"^[0-9+() -]*$")] | None = None
    payout_method: PayoutMethod | None = None
    payout_account: Annotated[str, Field(max_length=100)] | None = None
    public_name_consent: StrictBool | None = None
    status: HouseholdStatus | None = None


class HouseholdRead(BaseModel):
    """A household as its own farmer, its manager and staff see it (personal data)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    coop_id: int
    member_code: str
    name: str
    household_size: int
    village: str
    phone: str
    payout_method: str | None
    payout_account: str
    public_name_consent: bool
    status: str
    payable_account: str


class HouseholdPage(BaseModel):
    items: list[HouseholdRead]
    next_cursor: str | None = None


# Brands and certifications


class CertificationCreate(Strict):
    kind: CertificationKind
    number: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_not_blank)]
    issuer: ShortText = ""
    valid_from: date
    valid_until: date | None = None


class CertificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    number: str
    issuer: str
    valid_from: date
    valid_until: date | None


class BrandCreate(Strict):
    name: LocalizedName
    story: LocalizedText = LocalizedText()
    certifications: list[CertificationCreate] = Field(default_factory=list, max_length=20)


class BrandRead(BaseModel):
    id: int
    coop_id: int
    name: LocalizedName
    story: LocalizedText
    certifications: list[CertificationRead]


# Products


class ProductCreate(Strict):
    coop_id: StrictInt | None = None  # a farmer's or manager's own cooperative when left out
    household_id: StrictInt | None = None
    brand_id: StrictInt | None = None
    name: LocalizedName
    description: LocalizedText = LocalizedText()
    category: Category
    unit: Unit
    price: Money
    status: Literal["draft", "active"] = "draft"


class ProductUpdate(Strict):
    coop_id: StrictInt | None = None
    household_id: StrictInt | None = None
    brand_id: StrictInt | None = None
    name: LocalizedName | None = None
    description: LocalizedText | None = None
    category: Category | None = None
    unit: Unit | None = None
    price: Money | None = None
    status: Literal["draft", "active", "archived"] | None = None


class PhotoRead(BaseModel):
    id: int
    url: str
    thumbnail_url: str
    srcset: str = ""  # every stored width, for <img srcset>: "/media/…-320.webp 320w, …"


class ProductRead(BaseModel):
    id: int
    coop_id: int
    household_id: int | None
    brand_id: int | None
    name: LocalizedName
    description: LocalizedText
    category: str
    unit: str
    price: MoneyRead
    status: str
    photos: list[PhotoRead]
    stock: int


class LotSummary(BaseModel):
    code: str
    harvested_on: date
    expires_on: date | None
    quantity: int
    available: int


class ProductDetail(ProductRead):
    lots: list[LotSummary]


class ProductPage(BaseModel):
    items: list[ProductRead]
    next_cursor: str | None = None


# Lots


class ContributionCreate(Strict):
    household_id: StrictInt
    quantity: StrictInt = Field(gt=0)


class LotCreate(Strict):
    code: Code | None = None
    harvested_on: date
    quantity: StrictInt = Field(gt=0, le=10_000_000)
    expires_on: date | None = None
    notes: LongText = ""
    # Left out on a household's own product: that household supplied all of it.
    contributions: list[ContributionCreate] | None = Field(default=None, min_length=1)


class ContributionRead(BaseModel):
    household_id: int
    member_code: str
    quantity: int


class LotRead(BaseModel):
    id: int
    code: str
    product_id: int
    harvested_on: date
    expires_on: date | None
    quantity: int
    reserved: int
    sold: int
    available: int
    notes: str
    contributions: list[ContributionRead]


# Provenance (public)


class ProvenanceContributor(BaseModel):
    member_code: str
    name: str | None  # only where the household consented to showing it
    quantity: int


class ProvenanceCoop(BaseModel):
    id: int
    name: LocalizedName
    village: str
    township: str
    county: str
    province: str
    latitude: float | None
    longitude: float | None


class ProvenanceProduct(BaseModel):
    id: int
    name: LocalizedName
    category: str
    unit: str


class ProvenanceBrand(BaseModel):
    id: int
    name: LocalizedName
    story: LocalizedText


class ProvenanceRead(BaseModel):
    code: str
    harvested_on: date
    expires_on: date | None
    quantity: int
    available: int
    notes: str
    product: ProvenanceProduct
    coop: ProvenanceCoop
    brand: ProvenanceBrand | None
    certifications: list[CertificationRead]
    contributors: list[ProvenanceContributor]
    page_url: str
    qr_svg_url: str
    qr_png_url: str


# Import


class ImportResult(BaseModel):
    products: int
    lots: int
    product_ids: list[int]


SortOrder = Literal["newest", "price_asc", "price_desc"]


class PayoutChangeRead(BaseModel):
    """A change of a household's payout details: who, when, old, new."""

    id: int
    household_id: int
    changed_by: str
    changed_at: datetime
    old_method: str
    old_account: str
    new_method: str
    new_account: str
