"""Lots with contributions, public provenance (no personal data), QR codes, and ledger accounts."""

import io

from PIL import Image
from sqlalchemy import select
from sqlmodel import col

from catalog.models import Household
from catalog.service import payable_account_key
from ledger import service as ledger_service
from ledger.models import Account, AccountLimit, AccountType


def test_manager_records_a_lot_with_contributions(client, world, as_role):
    response = client.post(
        f"/api/v1/products/{world.coop_product.id}/lots",
        json={
            "harvested_on": "2026-10-05",
            "expires_on": "2027-10-05",
            "quantity": 100,
            "notes": "秋收",
            "contributions": [
                {"household_id": world.household_a.id, "quantity": 70},
                {"household_id": world.household_a2.id, "quantity": 30},
            ],
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 201, response.text
    lot = response.json()
    assert lot["code"].startswith("SJ-261005-")
    assert lot["available"] == 100
    assert sorted((c["member_code"], c["quantity"]) for c in lot["contributions"]) == [
        (world.household_a.member_code, 70),
        (world.household_a2.member_code, 30),
    ]
    product = client.get(f"/api/v1/products/{world.coop_product.id}").json()
    assert product["stock"] == 100
    assert [entry["code"] for entry in product["lots"]] == [lot["code"]]


def test_provenance_shows_member_codes_and_consented_names_only(client, world, as_role, session):
    world.household_a2.public_name_consent = True
    session.add(world.household_a2)
    session.commit()
    response = client.post(
        f"/api/v1/products/{world.coop_product.id}/lots",
        json={
            "code": "SJ-RICE-2026",
            "harvested_on": "2026-10-05",
            "quantity": 10,
            "contributions": [
                {"household_id": world.household_a.id, "quantity": 4},
                {"household_id": world.household_a2.id, "quantity": 6},
            ],
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 201
    body = client.get("/api/v1/lots/sj-rice-2026").json()
    assert body["coop"]["village"] == "松江村"
    assert body["coop"]["latitude"] == 25.1
    assert body["product"]["name"]["zh"] == "松江大米"
    contributors = {c["member_code"]: c for c in body["contributors"]}
    assert contributors[world.household_a.member_code]["name"] is None
    assert contributors[world.household_a2.member_code]["name"] == "李四"
    text = str(body)
    assert "13800000000" not in text  # phone
    assert "王芳" not in text  # no consent
    assert "payout" not in text


def test_lots_of_draft_products_are_not_public(client, world, as_role, session):
    response = client.post(
        f"/api/v1/products/{world.draft.id}/lots",
        json={"code": "DRAFT-LOT", "harvested_on": "2026-10-05", "quantity": 3},
        headers=as_role("farmer_a"),
    )
    assert response.status_code == 201
    assert client.get("/api/v1/lots/DRAFT-LOT").status_code == 404
    assert client.get("/l/DRAFT-LOT/qr.png").status_code == 404
    assert client.get("/api/v1/lots/DRAFT-LOT", headers=as_role("farmer_a")).status_code == 200


def test_qr_codes_point_at_the_provenance_page(client, world):
    svg = client.get(f"/l/{world.lot.code}/qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content
    png = client.get(f"/l/{world.lot.code}/qr.png")
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.format == "PNG"
    assert image.width >= 200
    assert "max-age" in png.headers["cache-control"]


def test_unknown_lot_is_404(client, world):
    response = client.get("/api/v1/lots/NOPE-0000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_each_household_gets_its_payable_account(client, world, as_role, session):
    response = client.post(
        f"/api/v1/coops/{world.coop_a.id}/households",
        json={
            "name": "陈七",
            "household_size": 5,
            "phone": "139 0000 0000",
            "payout_method": "alipay",
            "payout_account": "chen@example.com",
        },
        headers=as_role("manager_a"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["member_code"] == "SJ-0003"
    assert body["payable_account"] == f"liabilities:members:{body['id']}:payable"
    session.rollback()
    account = session.scalars(
        select(Account).where(col(Account.key) == payable_account_key(body["id"]))
    ).one()
    assert account.type == AccountType.liability
    assert account.limit == AccountLimit.non_negative
    assert account.currency == "CNY"
    assert ledger_service.balance(session, account.key).amount == 0
    session.rollback()
    assert session.get(Household, body["id"]).payout_account == "chen@example.com"


def test_household_private_fields_reach_only_its_people(client, world, as_role):
    path = f"/api/v1/households/{world.household_a.id}"
    assert client.get(path, headers=as_role("farmer_a")).json()["phone"] == "13800000000"
    assert client.get(path, headers=as_role("farmer_a2")).status_code == 404
    assert client.get(path, headers=as_role("manager_b")).status_code == 404
