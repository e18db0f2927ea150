"""The Songjiang demo cooperative: households, a brand, products with drawn photos, and lots.

Idempotent: everything is looked up by its stable code or name first. Photos are drawn here with
Pillow (no downloaded images) and go through the same upload pipeline as a farmer's photo.
"""

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlmodel import Session, col

from catalog import photos, products, service
from catalog.media import MediaStore
from catalog.models import Brand, Cooperative, Household, Lot, PayoutMethod, Product
from catalog.schemas import BrandCreate, CoopCreate, HouseholdCreate, LotCreate, ProductCreate
from core.actor import Actor

DEMO_ACTOR = Actor(user_id=None, role="staff")
COOP_CODE = "SJ"

HOUSEHOLDS = (
    # member code, name, size, consent to show the name, payout method
    ("SJ-0001", "王秀英", 4, True, "alipay"),
    ("SJ-0002", "李建国", 5, False, "bank"),
    ("SJ-0003", "张桂兰", 3, True, "wechat"),
    ("SJ-0004", "刘长山", 6, False, "cash"),
    ("SJ-0005", "陈玉梅", 2, True, "alipay"),
)


@dataclass(frozen=True)
class DemoProduct:
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    category: str
    unit: str
    price: int
    household: str | None  # member code, or None for the cooperative's own product
    lot_code: str
    harvested_on: date
    expires_on: date | None
    contributions: tuple[tuple[str, int], ...]
    draw: Callable[[], Image.Image]


def _canvas(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (800, 800))
    draw = ImageDraw.Draw(image)
    for y in range(800):
        t = y / 799
        draw.line(
            [(0, y), (800, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return image


def draw_honey() -> Image.Image:
    image = _canvas((255, 236, 179), (232, 170, 66))
    draw = ImageDraw.Draw(image)
    for row in range(7):  # honeycomb
        for column in range(8):
            cx = column * 110 + (55 if row % 2 else 0)
            cy = row * 95 + 20
            points = [
                (cx + 50 * math.cos(math.radians(a)), cy + 50 * math.sin(math.radians(a)))
                for a in range(30, 390, 60)
            ]
            draw.polygon(points, outline=(214, 150, 40), width=4)
    draw.rounded_rectangle(
        (250, 260, 550, 700), radius=60, fill=(214, 128, 20), outline=(120, 70, 10), width=8
    )
    draw.rectangle((280, 200, 520, 270), fill=(120, 80, 40))
    draw.rounded_rectangle((290, 420, 510, 560), radius=20, fill=(255, 248, 225))
    draw.ellipse((360, 450, 440, 530), fill=(240, 190, 40), outline=(60, 40, 10), width=5)
    return image


def draw_tea() -> Image.Image:
    image = _canvas((208, 236, 255), (190, 225, 170))
    draw = ImageDraw.Draw(image)
    for index, color in enumerate(((92, 150, 70), (70, 128, 55), (50, 105, 45))):
        top = 330 + index * 140
        draw.ellipse((-200 + index * 120, top, 1000 - index * 60, top + 600), fill=color)
        for row in range(5):  # terrace rows
            y = top + 40 + row * 28
            draw.arc(
                (-150 + index * 120, y, 950 - index * 60, y + 500),
                200,
                340,
                fill=(40, 80, 30),
                width=5,
            )
    for x, y, angle in ((560, 150, -30), (640, 210, 20), (600, 110, 60)):
        leaf = Image.new("RGBA", (140, 70), (0, 0, 0, 0))
        ImageDraw.Draw(leaf).ellipse((0, 0, 139, 69), fill=(60, 140, 60, 255))
        image.paste(leaf.rotate(angle, expand=True), (x, y), leaf.rotate(angle, expand=True))
    return image


def draw_rice() -> Image.Image:
    image = _canvas((250, 243, 224), (226, 210, 170))
    draw = ImageDraw.Draw(image)
    for x in range(60, 760, 60):  # stalks
        draw.line([(x, 800), (x + 40, 120)], fill=(190, 150, 50), width=6)
        for k in range(6):
            y = 140 + k * 30
            draw.ellipse((x + 30 - k * 2, y, x + 52 - k * 2, y + 30), fill=(225, 185, 70))
    draw.pieslice((170, 300, 630, 760), 0, 180, fill=(150, 60, 40), outline=(90, 30, 20), width=6)
    draw.ellipse((170, 470, 630, 590), fill=(252, 252, 246))
    for i in range(60):  # grains
        gx = 220 + (i * 37) % 360
        gy = 490 + (i * 53) % 80
        draw.ellipse((gx, gy, gx + 18, gy + 9), fill=(238, 236, 225), outline=(210, 205, 190))
    return image


def draw_mushrooms() -> Image.Image:
    image = _canvas((96, 70, 48), (58, 40, 28))
    draw = ImageDraw.Draw(image)
    for y in range(0, 800, 70):  # wood grain
        draw.arc((-200, y, 1000, y + 140), 190, 350, fill=(110, 80, 55), width=3)
    for x, y, size in ((160, 380, 220), (420, 300, 260), (330, 520, 200)):
        draw.rounded_rectangle(
            (x + size * 0.38, y + size * 0.3, x + size * 0.62, y + size * 0.95),
            radius=18,
            fill=(236, 224, 200),
        )
        draw.pieslice(
            (x, y, x + size, y + size * 0.7),
            180,
            360,
            fill=(140, 80, 40),
            outline=(80, 45, 20),
            width=5,
        )
        for k in range(5):
            sx = x + size * (0.2 + 0.15 * k)
            draw.ellipse((sx, y + size * 0.12, sx + 14, y + size * 0.12 + 10), fill=(225, 205, 170))
    return image


PRODUCTS = (
    DemoProduct(
        "松江土蜂蜜",
        "Songjiang wild mountain honey",
        "王家在后山养的中华蜂，一年只取一次的百花蜜。",
        "Wildflower honey from Chinese honeybees kept on the hill behind the village; harvested once a year.",
        "honey",
        "bottle",
        6800,
        "SJ-0001",
        "SJ-HONEY-2610",
        date(2026, 10, 8),
        date(2028, 10, 8),
        (("SJ-0001", 40),),
        draw_honey,
    ),
    DemoProduct(
        "高山云雾绿茶",
        "High-mountain cloud-mist green tea",
        "明前采摘，手工炒制，每盒二百五十克。",
        "Picked before Qingming and pan-fired by hand; 250 g per box.",
        "tea",
        "box",
        12800,
        None,
        "SJ-TEA-2604",
        date(2026, 4, 2),
        date(2027, 10, 2),
        (("SJ-0002", 30), ("SJ-0003", 20)),
        draw_tea,
    ),
    DemoProduct(
        "松江生态大米",
        "Songjiang eco rice",
        "梯田稻谷，稻鸭共作，不施化肥。按斤出售。",
        "Terrace rice grown with ducks in the paddies and no chemical fertiliser; sold by the jin (500 g).",
        "rice",
        "jin",
        900,
        None,
        "SJ-RICE-2609",
        date(2026, 9, 25),
        date(2027, 9, 25),
        (("SJ-0002", 200), ("SJ-0004", 150), ("SJ-0005", 150)),
        draw_rice,
    ),
    DemoProduct(
        "椴木香菇",
        "Log-grown shiitake mushrooms",
        "在椴木上自然生长，晒干后香味浓。",
        "Grown on basswood logs and sun-dried for a deep aroma.",
        "mushrooms",
        "kg",
        9600,
        "SJ-0003",
        "SJ-SHII-2611",
        date(2026, 11, 3),
        date(2027, 11, 3),
        (("SJ-0003", 25),),
        draw_mushrooms,
    ),
)


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class DemoCatalog:
    coop_id: int
    farmer_household_id: int
    created: list[str]


def _coop(session: Session, created: list[str]) -> Cooperative:
    coop = session.scalars(select(Cooperative).where(col(Cooperative.code) == COOP_CODE)).first()
    if coop is not None:
        return coop
    data = CoopCreate.model_validate(
        {
            "code": COOP_CODE,
            "name": {"zh": "松江村农民专业合作社", "en": "Songjiang Village Farmers' Cooperative"},
            "village": "松江村",
            "township": "青山镇",
            "county": "J县",
            "province": "云南省",
            "latitude": 25.0406,
            "longitude": 102.7123,
            "story": {
                "zh": "松江村在海拔一千八百米的山坳里。二〇一九年，二十三户村民一起成立了合作社，把蜂蜜、茶叶、大米和香菇卖到山外。",
                "en": "Songjiang sits in a mountain hollow at 1,800 m. In 2019 twenty-three households founded the cooperative to sell their honey, tea, rice and mushrooms beyond the hills.",
            },
            "contact": "0870-5550123",
        }
    )
    coop = service.create_coop(session, actor=DEMO_ACTOR, data=data)
    created.append(f"cooperative {coop.name_zh} ({COOP_CODE})")
    return coop


def _households(
    session: Session, coop: Cooperative, currency: str, created: list[str]
) -> dict[str, Household]:
    found: dict[str, Household] = {}
    assert coop.id is not None
    for code, name, size, consent, payout in HOUSEHOLDS:
        household = session.scalars(
            select(Household).where(col(Household.member_code) == code)
        ).first()
        if household is None:
            data = HouseholdCreate(
                member_code=code,
                name=name,
                household_size=size,
                village="松江村",
                phone=f"1380870{code[-4:]}",
                payout_method=PayoutMethod(payout),
                payout_account=f"{code.lower()}@pay.demo",
                public_name_consent=consent,
            )
            household = service.create_household(
                session, actor=DEMO_ACTOR, coop_id=coop.id, data=data, currency=currency
            )
            created.append(f"household {code}")
        found[code] = household
    return found


def _brand(session: Session, coop: Cooperative, created: list[str]) -> Brand:
    brand = session.scalars(select(Brand).where(col(Brand.coop_id) == coop.id)).first()
    if brand is not None:
        return brand
    assert coop.id is not None
    data = BrandCreate.model_validate(
        {
            "name": {"zh": "松江山珍", "en": "Songjiang Mountain Treasures"},
            "story": {
                "zh": "每一件松江山珍都能追溯到采收的那一天和供货的农户。",
                "en": "Every Songjiang Mountain Treasures product traces back to its harvest day and the households that supplied it.",
            },
            "certifications": [
                {
                    "kind": "green_food",
                    "number": "LB-18-26110512345",
                    "issuer": "中国绿色食品发展中心",
                    "valid_from": "2026-01-01",
                    "valid_until": "2029-12-31",
                },
                {
                    "kind": "geographical_indication",
                    "number": "AGI-2024-0815",
                    "issuer": "农业农村部",
                    "valid_from": "2024-08-15",
                },
            ],
        }
    )
    brand = service.create_brand(session, actor=DEMO_ACTOR, coop_id=coop.id, data=data)
    created.append(f"brand {brand.name_zh}")
    return brand


def load_catalog_demo(
    session: Session, *, media_dir: Path | MediaStore, currency: str
) -> DemoCatalog:
    created: list[str] = []
    coop = _coop(session, created)
    households = _households(session, coop, currency, created)
    brand = _brand(session, coop, created)
    for item in PRODUCTS:
        product = session.scalars(
            select(Product).where(
                col(Product.coop_id) == coop.id, col(Product.name_zh) == item.name_zh
            )
        ).first()
        if product is None:
            product = products.create_product(
                session,
                actor=DEMO_ACTOR,
                data=ProductCreate.model_validate(
                    {
                        "coop_id": coop.id,
                        "household_id": households[item.household].id if item.household else None,
                        "brand_id": brand.id,
                        "name": {"zh": item.name_zh, "en": item.name_en},
                        "description": {"zh": item.description_zh, "en": item.description_en},
                        "category": item.category,
                        "unit": item.unit,
                        "price": {"amount": item.price, "currency": currency},
                        "status": "active",
                    }
                ),
            )
            assert product.id is not None
            photos.add_photo(
                session,
                actor=DEMO_ACTOR,
                product_id=product.id,
                data=png_bytes(item.draw()),
                media_dir=media_dir,
            )
            created.append(f"product {item.name_zh}")
        if session.scalars(select(Lot).where(col(Lot.code) == item.lot_code)).first() is None:
            assert product.id is not None
            products.create_lot(
                session,
                actor=DEMO_ACTOR,
                product_id=product.id,
                data=LotCreate.model_validate(
                    {
                        "code": item.lot_code,
                        "harvested_on": item.harvested_on,
                        "expires_on": item.expires_on,
                        "quantity": sum(q for _, q in item.contributions),
                        "contributions": [
                            {"household_id": households[c].id, "quantity": q}
                            for c, q in item.contributions
                        ],
                    }
                ),
            )
            created.append(f"lot {item.lot_code}")
    assert coop.id is not None
    farmer_household = households["SJ-0001"].id
    assert farmer_household is not None
    return DemoCatalog(coop_id=coop.id, farmer_household_id=farmer_household, created=created)
