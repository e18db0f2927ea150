"""Catalog tables: cooperatives, member households, brands, certifications, products, photos, lots.

Stock lives on lots: `quantity` is fixed at harvest, `reserved` and `sold` are counters that the
orders domain moves with one conditional UPDATE (see catalog/stock.py), and a CHECK keeps
`reserved + sold <= quantity` so no code path can oversell.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Float, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.base import UTCDateTime, utcnow


class HouseholdStatus(StrEnum):
    active = "active"
    left = "left"


class PayoutMethod(StrEnum):
    bank = "bank"
    alipay = "alipay"
    wechat = "wechat"
    cash = "cash"


class CertificationKind(StrEnum):
    organic = "organic"
    green_food = "green_food"
    geographical_indication = "geographical_indication"


class Unit(StrEnum):
    kg = "kg"
    jin = "jin"  # 斤 = 500 g
    box = "box"
    bottle = "bottle"
    piece = "piece"


class Category(StrEnum):
    honey = "honey"
    tea = "tea"
    rice = "rice"
    grain = "grain"
    mushrooms = "mushrooms"
    fruit = "fruit"
    vegetables = "vegetables"
    nuts = "nuts"
    oil = "oil"
    eggs = "eggs"
    meat = "meat"
    handicraft = "handicraft"
    other = "other"


class ProductStatus(StrEnum):
    draft = "draft"
    active = "active"
    archived = "archived"


def _created() -> datetime:
    return utcnow()


class Cooperative(SQLModel, table=True):
    __tablename__ = "coops"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, unique=True)  # prefix of member codes, e.g. "SJ"
    name_zh: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    village: str = Field(max_length=100)
    township: str = Field(default="", max_length=100)
    county: str = Field(max_length=100)
    province: str = Field(max_length=100)
    latitude: float | None = Field(default=None, sa_column=Column(Float(), nullable=True))
    longitude: float | None = Field(default=None, sa_column=Column(Float(), nullable=True))
    story_zh: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    story_en: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    contact: str = Field(default="", max_length=200)
    logo_path: str | None = Field(default=None, max_length=300)
    # A cooperative that receives bank transfers directly (else the marketplace's account).
    bank_payee: str = Field(default="", max_length=100)
    bank_name: str = Field(default="", max_length=100)
    bank_account: str = Field(default="", max_length=50)
    created_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Household(SQLModel, table=True):
    """A member household. Phone and payout details are personal data: never public."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("household_size >= 1", name="household_size_positive"),
        CheckConstraint("status IN ('active', 'left')", name="status_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    member_code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)
    household_size: int
    village: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=30)
    payout_method: str | None = Field(default=None, max_length=16)
    payout_account: str = Field(default="", max_length=100)
    public_name_consent: bool = Field(default=False)
    status: str = Field(default=HouseholdStatus.active.value, max_length=8)
    created_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )


class HouseholdPayoutChange(SQLModel, table=True):
    """One change of a household's payout method or account: who, when, old, new. Appended,
    never changed or deleted (the database refuses both)."""

    __tablename__ = "household_payout_changes"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    changed_by: str = Field(max_length=255)
    changed_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )
    old_method: str = Field(default="", max_length=16)
    old_account: str = Field(default="", max_length=100)
    new_method: str = Field(default="", max_length=16)
    new_account: str = Field(default="", max_length=100)
    # Lines of open payout batches that keep the old payee until staff accept this change.
    held_lines: int = Field(default=0)


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    name_zh: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    story_zh: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    story_en: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))


class Certification(SQLModel, table=True):
    __tablename__ = "certifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('organic', 'green_food', 'geographical_indication')", name="kind_known"
        ),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    number: str = Field(max_length=64)
    issuer: str = Field(default="", max_length=200)
    valid_from: date
    valid_until: date | None = None


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_amount > 0", name="price_positive"),
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status_known"),
        CheckConstraint("unit IN ('kg', 'jin', 'box', 'bottle', 'piece')", name="unit_known"),
        Index("ix_products_status_id", "status", "id"),
        # Trigram index for `search_text LIKE '%term%'` on PostgreSQL (plain index on SQLite).
        Index(
            "ix_products_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    coop_id: int = Field(foreign_key="coops.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="households.id", index=True)
    brand_id: int | None = Field(default=None, foreign_key="brands.id", index=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(default="", max_length=200)
    description_zh: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    description_en: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    category: str = Field(max_length=32, index=True)
    unit: str = Field(max_length=8)
    price_amount: int = Field(sa_column=Column(BigInteger(), nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=ProductStatus.draft.value, max_length=10)
    # Lower-cased names and descriptions in both languages, kept by the service for search.
    search_text: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    created_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ProductPhoto(SQLModel, table=True):
    __tablename__ = "product_photos"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True, ondelete="CASCADE")
    display_path: str = Field(max_length=300)  # relative to settings.media_dir
    # The 720 px rendition (a phone screen); None for photos stored before it existed.
    medium_path: str | None = Field(default=None, max_length=300)
    thumbnail_path: str = Field(max_length=300)
    width: int
    height: int
    position: int = Field(default=0)
    created_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Lot(SQLModel, table=True):
    """A harvest or production lot: the unit of provenance and of stock."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("reserved >= 0 AND sold >= 0", name="counters_non_negative"),
        CheckConstraint("reserved + sold <= quantity", name="not_oversold"),
        CheckConstraint("expires_on IS NULL OR expires_on >= harvested_on", name="expiry_after"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    code: str = Field(max_length=40, unique=True)
    harvested_on: date
    expires_on: date | None = None
    quantity: int
    reserved: int = Field(default=0)
    sold: int = Field(default=0)
    notes: str = Field(default="", sa_column=Column(Text(), nullable=False, default=""))
    created_at: datetime = Field(
        default_factory=_created, sa_column=Column(UTCDateTime(), nullable=False)
    )

    @property
    def available(self) -> int:
        return self.quantity - self.reserved - self.sold


class LotContribution(SQLModel, table=True):
    """How much of a lot one household supplied; a lot's contributions sum to its quantity."""

    __tablename__ = "lot_contributions"
    __table_args__ = (
        UniqueConstraint("lot_id", "household_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lot_id: int = Field(foreign_key="lots.id", index=True, ondelete="CASCADE")
    household_id: int = Field(foreign_key="households.id", index=True)
    quantity: int
