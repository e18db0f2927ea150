"""Spreadsheet import: template, CSV and XLSX, errors by row and column, all or nothing."""

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from catalog.models import Lot, Product

HEADER = "name_zh,name_en,category,unit,price,currency,status,member_code,lot_code,harvested_on,lot_quantity,contributions\n"


def post(client, world, headers, data: bytes, name: str = "p.csv"):
    return client.post(
        f"/api/v1/coops/{world.coop_a.id}/imports", files={"file": (name, data)}, headers=headers
    )


def counts(session):
    session.rollback()
    return (
        session.scalar(select(func.count()).select_from(Product)),
        session.scalar(select(func.count()).select_from(Lot)),
    )


def test_template_downloads(client):
    csv_template = client.get("/api/v1/imports/products-template.csv")
    assert csv_template.status_code == 200
    assert csv_template.content.decode("utf-8-sig").startswith(
        "产品名称 / name_zh,英文名称 / name_en,"
    )
    xlsx = client.get("/api/v1/imports/products-template.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.worksheets[0]["A1"].value == "产品名称 / name_zh"
    assert client.get("/api/v1/imports/products-template.pdf").status_code == 404


def test_the_template_itself_imports(client, world, as_role, session):
    before = counts(session)
    data = client.get("/api/v1/imports/products-template.xlsx").content
    book = load_workbook(io.BytesIO(data))
    book.worksheets[0]["J2"] = world.household_a.member_code  # member_code column
    out = io.BytesIO()
    book.save(out)
    response = post(client, world, as_role("manager_a"), out.getvalue(), "t.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["products"] == 1
    assert response.json()["lots"] == 1
    assert counts(session) == (before[0] + 1, before[1] + 1)


def test_csv_with_products_and_lots(client, world, as_role, session):
    a, a2 = world.household_a.member_code, world.household_a2.member_code
    data = (
        HEADER
        + f"核桃,Walnuts,nuts,kg,30,CNY,active,{a},WAL-1,2026-10-01,20,{a}:15; {a2}:5\n"
        + "菜籽油,Rapeseed oil,oil,bottle,58,CNY,draft,,,,,\n"
    ).encode()
    response = post(client, world, as_role("manager_a"), data)
    assert response.status_code == 201, response.text
    assert client.get("/api/v1/products", params={"q": "walnut"}).json()["items"][0]["stock"] == 20
    lot = client.get("/api/v1/lots/WAL-1").json()
    assert {c["member_code"]: c["quantity"] for c in lot["contributors"]} == {a: 15, a2: 5}


def test_any_bad_row_imports_nothing_and_names_row_and_column(client, world, as_role, session):
    before = counts(session)
    data = (
        HEADER
        + "核桃,Walnuts,nuts,kg,30,CNY,active,,,,,\n"
        + "坏价,Bad price,nuts,kg,30.555,CNY,active,,,,,\n"
        + "坏单位,Bad unit,nuts,ton,30,CNY,active,,,,,\n"
        + f"坏批次,Bad lot,nuts,kg,30,CNY,active,{world.household_a.member_code},X-1,2026-10-01,10,{world.household_a.member_code}:9\n"
        + "无户,No member,nuts,kg,30,CNY,active,SJ-9999,,,,\n"
    ).encode()
    response = post(client, world, as_role("manager_a"), data)
    assert response.status_code == 422, response.text
    found = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert (3, "price") in found
    assert (4, "unit") in found
    assert (6, "member_code") in found
    assert not any(row == 2 for row, _ in found)
    assert counts(session) == before


def test_service_refusals_are_row_errors_too(client, world, as_role, session):
    before = counts(session)
    data = (
        HEADER
        + f"甲,A,nuts,kg,30,CNY,active,{world.household_a.member_code},DUP-1,2026-10-01,5,\n"
        + f"乙,B,nuts,kg,30,CNY,active,{world.household_a.member_code},DUP-1,2026-10-01,5,\n"
        + "丙,C,nuts,kg,30,CNY,active,,,2026-10-01,5,\n"
    ).encode()
    response = post(client, world, as_role("manager_a"), data)
    assert response.status_code == 422, response.text
    found = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert found == {(3, "lot_code"), (4, "contributions")}
    assert counts(session) == before


def test_missing_columns_and_garbage(client, world, as_role):
    response = post(client, world, as_role("manager_a"), b"name,price\nx,1\n")
    assert response.status_code == 422
    assert {e["column"] for e in response.json()["errors"]} >= {"name_zh", "unit"}
    response = post(client, world, as_role("manager_a"), b"PK\x03\x04garbage", "x.xlsx")
    assert response.status_code == 422


def test_xlsx_numbers_and_dates(client, world, as_role):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(
        [
            "香菇",
            "Shiitake",
            "mushrooms",
            "jin",
            45.0,
            "CNY",
            "active",
            world.household_a.member_code,
            None,
            datetime(2026, 9, 1),
            12.0,
            None,
        ]
    )
    out = io.BytesIO()
    book.save(out)
    response = post(client, world, as_role("manager_a"), out.getvalue(), "m.xlsx")
    assert response.status_code == 201, response.text


CHINESE_HEADER = "产品名称,类别,单位,单价（元）,状态\n"


def test_prices_are_in_yuan_with_symbols_commas_full_width_digits_and_chinese_words(
    client, world, as_role, session
):
    data = (
        CHINESE_HEADER
        + "核桃,坚果,斤,¥25,上架\n"
        + '山茶油,食用油,瓶,"1,280.50",草稿\n'
        + "木耳,菌菇,公斤,１２８．５０元,上架\n"
    ).encode()
    response = post(client, world, as_role("manager_a"), data)
    assert response.status_code == 201, response.text
    session.rollback()
    made = [session.get(Product, pid) for pid in response.json()["product_ids"]]
    assert [(p.category, p.unit, p.price_amount, p.currency, p.status) for p in made] == [
        ("nuts", "jin", 2500, "CNY", "active"),
        ("oil", "bottle", 128050, "CNY", "draft"),
        ("mushrooms", "kg", 12850, "CNY", "active"),
    ]


def test_the_old_fen_column_is_refused_rather_than_read_as_yuan(client, world, as_role, session):
    before = counts(session)
    data = (
        b"name_zh,category,unit,price_amount,currency\n\xe6\xa0\xb8\xe6\xa1\x83,nuts,jin,25,CNY\n"
    )
    response = post(client, world, as_role("manager_a"), data)
    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == "price_amount"
    assert counts(session) == before


def test_a_doubtful_price_is_imported_only_when_confirmed(client, world, as_role, session):
    before = counts(session)
    data = (CHINESE_HEADER + "核桃,坚果,斤,25,上架\n" + "贵核桃,坚果,斤,99999,上架\n").encode()
    refused = post(client, world, as_role("manager_a"), data)
    assert refused.status_code == 422
    assert [(e["row"], e["column"]) for e in refused.json()["errors"]] == [(3, "price")]
    assert counts(session) == before
    confirmed = client.post(
        f"/api/v1/coops/{world.coop_a.id}/imports?confirm_prices=true",
        files={"file": ("p.csv", data)},
        headers=as_role("manager_a"),
    )
    assert confirmed.status_code == 201, confirmed.text
    assert counts(session)[0] == before[0] + 2
