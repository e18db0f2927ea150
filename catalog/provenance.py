"""Lot provenance for the public: where and when it was grown, by which households, and its QR code.

Households appear by pseudonymous member code, with the representative's name only where they
consented; phone and payout details never leave the catalog's private reads.
"""

import io
from dataclasses import dataclass
from datetime import date

import segno
from sqlalchemy import or_, select
from sqlmodel import Session, col

from catalog.errors import CatalogNotFound
from catalog.models import Brand, Certification, Cooperative, Lot, Product, ProductStatus
from catalog.permissions import may_see_product
from catalog.products import get_lot_by_code, lot_contributions
from catalog.schemas import (
    CertificationRead,
    LocalizedName,
    LocalizedText,
    ProvenanceBrand,
    ProvenanceContributor,
    ProvenanceCoop,
    ProvenanceProduct,
    ProvenanceRead,
)
from core.actor import Actor


def page_path(code: str) -> str:
    return f"/l/{code}"


@dataclass(frozen=True)
class LotView:
    lot: Lot
    product: Product
    coop: Cooperative
    brand: Brand | None


def lot_view(session: Session, *, actor: Actor, code: str) -> LotView:
    """The lot if its product is public (or the actor may edit it); 404 otherwise."""
    lot = get_lot_by_code(session, code)
    product = session.get(Product, lot.product_id)
    assert product is not None
    if product.status == ProductStatus.draft and not may_see_product(actor, product):
        raise CatalogNotFound("lot", code)
    coop = session.get(Cooperative, product.coop_id)
    assert coop is not None
    brand = session.get(Brand, product.brand_id) if product.brand_id is not None else None
    return LotView(lot=lot, product=product, coop=coop, brand=brand)


def in_force(certifications: list[Certification], on: date | None = None) -> list[Certification]:
    """Of a brand's certifications, those valid on the day (by kind): `current_certifications`
    for a caller that already read them all."""
    on = on or date.today()
    valid = [
        c
        for c in certifications
        if c.valid_from <= on and (c.valid_until is None or c.valid_until >= on)
    ]
    return sorted(valid, key=lambda c: c.kind)


def current_certifications(
    session: Session, brand_id: int | None, on: date | None = None
) -> list[Certification]:
    if brand_id is None:
        return []
    on = on or date.today()
    return list(
        session.scalars(
            select(Certification)
            .where(
                col(Certification.brand_id) == brand_id,
                col(Certification.valid_from) <= on,
                or_(col(Certification.valid_until).is_(None), col(Certification.valid_until) >= on),
            )
            .order_by(col(Certification.kind))
        )
    )


def provenance(session: Session, *, actor: Actor, code: str) -> ProvenanceRead:
    view = lot_view(session, actor=actor, code=code)
    lot, product, coop, brand = view.lot, view.product, view.coop, view.brand
    assert lot.id is not None
    assert product.id is not None
    assert coop.id is not None
    contributors = [
        ProvenanceContributor(
            member_code=household.member_code,
            name=household.name if household.public_name_consent else None,
            quantity=contribution.quantity,
        )
        for contribution, household in lot_contributions(session, lot.id)
    ]
    path = page_path(lot.code)
    return ProvenanceRead(
        code=lot.code,
        harvested_on=lot.harvested_on,
        expires_on=lot.expires_on,
        quantity=lot.quantity,
        available=lot.available,
        notes=lot.notes,
        product=ProvenanceProduct(
            id=product.id,
            name=LocalizedName(zh=product.name_zh, en=product.name_en),
            category=product.category,
            unit=product.unit,
        ),
        coop=ProvenanceCoop(
            id=coop.id,
            name=LocalizedName(zh=coop.name_zh, en=coop.name_en),
            village=coop.village,
            township=coop.township,
            county=coop.county,
            province=coop.province,
            latitude=coop.latitude,
            longitude=coop.longitude,
        ),
        brand=(
            ProvenanceBrand(
                id=brand.id or 0,
                name=LocalizedName(zh=brand.name_zh, en=brand.name_en),
                story=LocalizedText(zh=brand.story_zh, en=brand.story_en),
            )
            if brand is not None
            else None
        ),
        certifications=[
            CertificationRead.model_validate(c)
            for c in current_certifications(session, product.brand_id)
        ],
        contributors=contributors,
        page_url=path,
        qr_svg_url=f"{path}/qr.svg",
        qr_png_url=f"{path}/qr.png",
    )


def qr_svg(url: str) -> bytes:
    """A scalable QR code for print labels (error correction M, quiet zone kept)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=4, xmldecl=True)
    return out.getvalue()


def qr_png(url: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale)
    return out.getvalue()
