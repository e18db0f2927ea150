"""Catalog rules for cooperatives, member households and brands (products and lots: products.py)."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from catalog import payee_history
from catalog.errors import CatalogInvalid, CatalogNotFound, DuplicateCode
from catalog.models import Brand, Certification, Cooperative, Household, HouseholdStatus
from catalog.permissions import (
    may_see_household,
    require_coop_manager,
    require_coop_reader,
    require_staff,
)
from catalog.schemas import (
    BrandCreate,
    BrandRead,
    CertificationCreate,
    CertificationRead,
    CoopCreate,
    CoopRead,
    CoopUpdate,
    HouseholdCreate,
    HouseholdRead,
    HouseholdUpdate,
    LocalizedName,
    LocalizedText,
)
from core.actor import Actor
from core.text import N_
from ledger import service as ledger_service
from ledger.base import utcnow
from ledger.models import AccountLimit, AccountType
from ledger.share_rules import member_payable_key
from notify import outbox
from notify.kinds import Kind


def payable_account_key(household_id: int) -> str:
    return member_payable_key(household_id)


# Cooperatives


def get_coop(session: Session, coop_id: int) -> Cooperative:
    coop = session.get(Cooperative, coop_id)
    if coop is None:
        raise CatalogNotFound("cooperative", coop_id)
    return coop


def require_coop_manager_of(session: Session, actor: Actor, coop_id: int) -> Cooperative:
    coop = get_coop(session, coop_id)
    require_coop_manager(actor, coop_id)
    return coop


def list_coops(session: Session, *, after_id: int | None, limit: int) -> list[Cooperative]:
    query = select(Cooperative).order_by(col(Cooperative.id)).limit(limit)
    if after_id is not None:
        query = query.where(col(Cooperative.id) > after_id)
    return list(session.scalars(query))


def _coop_code(session: Session, data: CoopCreate) -> str:
    if data.code is not None:
        return data.code
    letters = "".join(ch for ch in data.name.en.upper() if "A" <= ch <= "Z")[:2] or "CP"
    number = session.scalar(select(func.count()).select_from(Cooperative)) or 0
    candidate = letters
    while session.scalar(select(col(Cooperative.id)).where(col(Cooperative.code) == candidate)):
        number += 1
        candidate = f"{letters}{number}"[:8]
    return candidate


def create_coop(session: Session, *, actor: Actor, data: CoopCreate) -> Cooperative:
    require_staff(actor)
    code = _coop_code(session, data)
    if session.scalar(select(col(Cooperative.id)).where(col(Cooperative.code) == code)):
        raise DuplicateCode("cooperative", code, "code")
    coop = Cooperative(
        code=code,
        name_zh=data.name.zh,
        name_en=data.name.en,
        village=data.village,
        township=data.township,
        county=data.county,
        province=data.province,
        latitude=data.latitude,
        longitude=data.longitude,
        story_zh=data.story.zh,
        story_en=data.story.en,
        contact=data.contact,
    )
    session.add(coop)
    session.flush()
    return coop


def update_coop(session: Session, *, actor: Actor, coop_id: int, data: CoopUpdate) -> Cooperative:
    coop = get_coop(session, coop_id)
    require_coop_manager(actor, coop_id)
    fields = data.model_dump(exclude_unset=True)
    if "name" in fields and data.name is not None:
        coop.name_zh, coop.name_en = data.name.zh, data.name.en
    if "story" in fields and data.story is not None:
        coop.story_zh, coop.story_en = data.story.zh, data.story.en
    for name in ("village", "township", "county", "province", "contact"):
        if fields.get(name) is not None:
            setattr(coop, name, fields[name])
    for name in ("latitude", "longitude"):
        if name in fields:
            setattr(coop, name, fields[name])
    session.add(coop)
    session.flush()
    return coop


def coop_read(coop: Cooperative) -> CoopRead:
    assert coop.id is not None
    return CoopRead(
        id=coop.id,
        code=coop.code,
        name=LocalizedName(zh=coop.name_zh, en=coop.name_en),
        village=coop.village,
        township=coop.township,
        county=coop.county,
        province=coop.province,
        latitude=coop.latitude,
        longitude=coop.longitude,
        story=LocalizedText(zh=coop.story_zh, en=coop.story_en),
        contact=coop.contact,
    )


# Households


def _next_member_code(session: Session, coop: Cooperative) -> str:
    count = session.scalar(
        select(func.count()).select_from(Household).where(col(Household.coop_id) == coop.id)
    )
    number = (count or 0) + 1
    while True:
        code = f"{coop.code}-{number:04d}"
        if not session.scalar(select(col(Household.id)).where(col(Household.member_code) == code)):
            return code
        number += 1


def create_household(
    session: Session, *, actor: Actor, coop_id: int, data: HouseholdCreate, currency: str
) -> Household:
    """A new member household and, in the same transaction, its ledger payable account."""
    coop = get_coop(session, coop_id)
    require_coop_manager(actor, coop_id)
    code = data.member_code or _next_member_code(session, coop)
    if session.scalar(select(col(Household.id)).where(col(Household.member_code) == code)):
        raise DuplicateCode("household", code, "member_code")
    household = Household(
        coop_id=coop_id,
        member_code=code,
        name=data.name,
        household_size=data.household_size,
        village=data.village or coop.village,
        phone=data.phone,
        payout_method=data.payout_method.value if data.payout_method else None,
        payout_account=data.payout_account,
        public_name_consent=data.public_name_consent,
    )
    try:
        with session.begin_nested():
            session.add(household)
            session.flush()
    except IntegrityError:
        raise DuplicateCode("household", code, "member_code") from None
    assert household.id is not None
    payee_history.record_change(
        session, household=household, old=("", ""), changed_by=_actor_label(actor)
    )
    ledger_service.open_account(
        session,
        key=payable_account_key(household.id),
        type=AccountType.liability,
        currency=currency,
        name=f"Member {code} payable",
        limit=AccountLimit.non_negative,
        party=f"household:{household.id}",
    )
    return household


def get_household(session: Session, *, actor: Actor, household_id: int) -> Household:
    household = session.get(Household, household_id)
    if household is None or not may_see_household(actor, household):
        raise CatalogNotFound("household", household_id)
    return household


def list_households(
    session: Session, *, actor: Actor, coop_id: int, after_id: int | None, limit: int
) -> list[Household]:
    get_coop(session, coop_id)
    require_coop_reader(actor, coop_id)
    query = (
        select(Household)
        .where(col(Household.coop_id) == coop_id)
        .order_by(col(Household.id))
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(col(Household.id) > after_id)
    return list(session.scalars(query))


def update_household(
    session: Session, *, actor: Actor, household_id: int, data: HouseholdUpdate
) -> Household:
    household = get_household(session, actor=actor, household_id=household_id)
    require_coop_manager(actor, household.coop_id)
    before = payee_history.details_of(household)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name not in ("payout_method",):
            continue
        if name in ("payout_method", "status") and value is not None:
            value = str(value)
        setattr(household, name, value)
    session.add(household)
    session.flush()
    change = payee_history.record_change(
        session, household=household, old=before, changed_by=_actor_label(actor)
    )
    if change is not None:
        _tell_payout_details_changed(session, household)
    return household


def _actor_label(actor: Actor) -> str:
    return f"user:{actor.user_id} ({actor.role})" if actor.user_id else actor.role


def _tell_payout_details_changed(session: Session, household: Household) -> None:
    """The household hears at once (inbox, SMS, e-mail) that its money now goes elsewhere."""
    changed_at = utcnow()
    outbox.record(
        session,
        kind=Kind.payout_details_changed,
        event_key=f"household:{household.id}:payout-details:{changed_at.isoformat()}",
        audiences=[outbox.to_household(household.id or 0)],
        payload={
            "method": household.payout_method or "",
            "account_tail": household.payout_account[-4:],
            "changed_at": changed_at.isoformat(),
        },
    )


def household_read(household: Household) -> HouseholdRead:
    assert household.id is not None
    return HouseholdRead(
        id=household.id,
        coop_id=household.coop_id,
        member_code=household.member_code,
        name=household.name,
        household_size=household.household_size,
        village=household.village,
        phone=household.phone,
        payout_method=household.payout_method,
        payout_account=household.payout_account,
        public_name_consent=household.public_name_consent,
        status=household.status,
        payable_account=payable_account_key(household.id),
    )


def active_household_in_coop(
    session: Session, household_id: int, coop_id: int, loc: list[str | int]
) -> Household:
    household = session.get(Household, household_id)
    if household is None or household.coop_id != coop_id:
        raise CatalogInvalid(
            f"Household {household_id} is not a member of cooperative {coop_id}.",
            loc=loc,
            msgid=N_("Household %(household)s is not a member of this cooperative."),
            params={"household": household_id},
        )
    if household.status != HouseholdStatus.active:
        raise CatalogInvalid(
            f"Household {household.member_code} has left.",
            loc=loc,
            msgid=N_("Household %(household)s has left the cooperative."),
            params={"household": household.member_code},
        )
    return household


# Brands and certifications


def get_brand(session: Session, brand_id: int) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise CatalogNotFound("brand", brand_id)
    return brand


def create_brand(session: Session, *, actor: Actor, coop_id: int, data: BrandCreate) -> Brand:
    get_coop(session, coop_id)
    require_coop_manager(actor, coop_id)
    brand = Brand(
        coop_id=coop_id,
        name_zh=data.name.zh,
        name_en=data.name.en,
        story_zh=data.story.zh,
        story_en=data.story.en,
    )
    session.add(brand)
    session.flush()
    assert brand.id is not None
    for index, certification in enumerate(data.certifications):
        _add_certification(session, brand.id, certification, ["body", "certifications", index])
    return brand


def add_certification(
    session: Session, *, actor: Actor, brand_id: int, data: CertificationCreate
) -> Certification:
    brand = get_brand(session, brand_id)
    require_coop_manager(actor, brand.coop_id)
    return _add_certification(session, brand_id, data, ["body"])


def _add_certification(
    session: Session, brand_id: int, data: CertificationCreate, loc: list[str | int]
) -> Certification:
    if data.valid_until is not None and data.valid_until < data.valid_from:
        raise CatalogInvalid("valid_until is before valid_from.", loc=[*loc, "valid_until"])
    certification = Certification(
        brand_id=brand_id,
        kind=data.kind.value,
        number=data.number,
        issuer=data.issuer,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    session.add(certification)
    session.flush()
    return certification


def brand_certifications(session: Session, brand_id: int) -> list[Certification]:
    return list(
        session.scalars(
            select(Certification)
            .where(col(Certification.brand_id) == brand_id)
            .order_by(col(Certification.id))
        )
    )


def list_brands(session: Session, *, coop_id: int) -> list[Brand]:
    return list(
        session.scalars(select(Brand).where(col(Brand.coop_id) == coop_id).order_by(col(Brand.id)))
    )


def brand_read(
    session: Session, brand: Brand, certifications: list[Certification] | None = None
) -> BrandRead:
    """The brand with its certifications (read here unless the caller already holds them all)."""
    assert brand.id is not None
    if certifications is None:
        certifications = brand_certifications(session, brand.id)
    return BrandRead(
        id=brand.id,
        coop_id=brand.coop_id,
        name=LocalizedName(zh=brand.name_zh, en=brand.name_en),
        story=LocalizedText(zh=brand.story_zh, en=brand.story_en),
        certifications=[CertificationRead.model_validate(c) for c in certifications],
    )
