"""Manager pages: spreadsheet import, new household, a lot with contributions, product edits."""

from sqlalchemy import func, select
from sqlmodel import col

from catalog.models import Household, Lot, LotContribution, Product
from ledger.models import Account
from tests.catalog.test_imports import HEADER
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def counts(session):
    session.rollback()
    return [
        session.scalar(select(func.count()).select_from(m))
        for m in (Product, Lot, LotContribution, Household, Account)
    ]


def stored(session, product_id):
    """A product's name, price and status as committed (read as columns, not the cached object)."""
    session.rollback()
    row = session.execute(
        select(col(Product.name_zh), col(Product.price_amount), col(Product.status)).where(
            Product.id == product_id
        )
    ).one()
    return tuple(row)


def as_user(client, world, role, page="/manage/catalog"):
    user = world.user(role)
    client.cookies.clear()
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, page)


def post(client, path, data, files=None):
    return client.post(path, data=data, files=files, headers=HTML, follow_redirects=False)


# Spreadsheet import


def test_import_upload_success_and_all_or_nothing(client, world, session):
    token = as_user(client, world, "manager_a")
    page = client.get("/manage/catalog", headers=HTML).text
    assert 'enctype="multipart/form-data"' in page
    assert 'accept=".csv,.xlsx' in page
    a = world.household_a.member_code
    good = (HEADER + f"核桃,Walnuts,nuts,kg,30,CNY,active,{a},,2026-10-01,20,\n").encode()
    before = counts(session)
    response = post(
        client,
        f"/manage/catalog/import?coop_id={world.coop_a.id}",
        {"csrf_token": token},
        {"file": ("p.csv", good, "text/csv")},
    )
    assert response.status_code == 303, response.text
    after = counts(session)
    assert after[:2] == [before[0] + 1, before[1] + 1]
    shown = client.get(response.headers["location"], headers=HTML).text
    assert "已导入 1 个商品、1 个批次" in shown
    assert "核桃" in shown

    bad = (
        HEADER
        + "菜籽油,Rapeseed oil,oil,bottle,58,CNY,draft,,,,,\n"
        + "坏的,Bad,nuts,kg,-5,CNY,active,,,,,\n"
    ).encode()
    response = post(
        client,
        "/manage/catalog/import",
        {"csrf_token": token},
        {"file": ("p.csv", bad, "text/csv")},
    )
    assert response.status_code == 422
    assert "import-errors" in response.text
    assert "<td>3</td><td>price</td>" in response.text
    assert counts(session) == after  # the good row 2 was not kept either


def test_import_without_csrf_and_by_another_manager_is_refused(client, world, session):
    data = (HEADER + "菜籽油,Rapeseed oil,oil,bottle,58,CNY,draft,,,,,\n").encode()
    files = {"file": ("p.csv", data, "text/csv")}
    token = as_user(client, world, "manager_b")
    before = counts(session)
    path = f"/manage/catalog/import?coop_id={world.coop_a.id}"
    assert post(client, path, {"csrf_token": "x" * 43}, files).status_code == 403
    assert post(client, path, {"csrf_token": token}, files).status_code == 403
    assert client.get(f"/manage/catalog?coop_id={world.coop_a.id}", headers=HTML).status_code == 403
    assert counts(session) == before


# Households


def test_add_household_opens_its_payable(client, world, session):
    token = as_user(client, world, "manager_a")
    before = counts(session)
    response = post(
        client,
        "/manage/catalog/households",
        {
            "csrf_token": token,
            "name": "陈七",
            "household_size": "5",
            "phone": "13900000000",
            "public_name_consent": "yes",
        },
    )
    assert response.status_code == 303, response.text
    assert counts(session)[3:] == [before[3] + 1, before[4] + 1]
    household = session.scalars(select(Household).where(Household.name == "陈七")).one()
    assert household.coop_id == world.coop_a.id
    assert household.public_name_consent is True
    assert household.village == world.coop_a.village
    shown = client.get(response.headers["location"], headers=HTML).text
    assert f"已添加社员农户 {household.member_code}" in shown


def test_add_household_errors_per_field_store_nothing(client, world, session):
    token = as_user(client, world, "manager_a")
    before = counts(session)
    taken = post(
        client,
        "/manage/catalog/households",
        {
            "csrf_token": token,
            "member_code": world.household_a.member_code,
            "name": "重复",
            "household_size": "3",
        },
    )
    assert taken.status_code == 422
    assert (
        f"编号 {world.household_a.member_code} 已被使用" in taken.text
    )  # in the reader's language
    assert "is taken" not in taken.text
    assert 'value="重复"' in taken.text  # the form keeps what was typed
    bad_phone = post(
        client,
        "/manage/catalog/households",
        {"csrf_token": token, "name": "某人", "household_size": "0", "phone": "abc"},
    )
    assert bad_phone.status_code == 422
    assert "field-error" in bad_phone.text
    assert counts(session) == before


def test_household_form_permissions(client, world, session):
    before = counts(session)
    data = {"name": "外人", "household_size": "2"}
    token = as_user(client, world, "manager_b")
    path = f"/manage/catalog/households?coop_id={world.coop_a.id}"
    assert post(client, path, {"csrf_token": token, **data}).status_code == 403
    assert post(client, path, {"csrf_token": "y" * 43, **data}).status_code == 403
    token = as_user(client, world, "farmer_a", "/products")
    assert post(client, path, {"csrf_token": token, **data}).status_code == 403
    assert client.get("/manage/catalog", headers=HTML).status_code == 403
    assert counts(session) == before
    # Staff choose a cooperative, then add to it.
    token = as_user(client, world, "staff")
    chooser = client.get("/manage/catalog", headers=HTML).text
    assert f'<option value="{world.coop_b.id}"' in chooser
    response = post(
        client,
        f"/manage/catalog/households?coop_id={world.coop_b.id}",
        {"csrf_token": token, **data},
    )
    assert response.status_code == 303
    assert (
        session.scalars(select(Household).where(Household.name == "外人")).one().coop_id
        == world.coop_b.id
    )
    client.cookies.clear()
    anonymous = client.get("/manage/catalog", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=/manage/catalog")


# Lots with contributions


def _lot(world, **fields):
    return {
        "harvested_on": "2026-10-05",
        "quantity": "30",
        "household_0": str(world.household_a.id),
        "quantity_0": "20",
        "household_1": str(world.household_a2.id),
        "quantity_1": "10",
        **fields,
    }


def test_add_lot_with_contributions(client, world, session):
    token = as_user(client, world, "manager_a")
    product_id = world.coop_product.id
    form = client.get(f"/products/{product_id}/lots/new", headers=HTML)
    assert form.status_code == 200
    assert world.household_a2.member_code in form.text
    assert world.household_b.member_code not in form.text
    before = counts(session)
    response = post(
        client,
        f"/products/{product_id}/lots",
        {"csrf_token": token, **_lot(world, code="rice-2026")},
    )
    assert response.status_code == 303, response.text
    assert counts(session)[1:3] == [before[1] + 1, before[2] + 2]
    lot = client.get("/api/v1/lots/RICE-2026")
    assert lot.status_code == 200
    assert client.get(response.headers["location"], headers=HTML).text.count("RICE-2026") >= 1


def test_lot_contributions_must_sum_and_nothing_is_stored(client, world, session):
    token = as_user(client, world, "manager_a")
    before = counts(session)
    path = f"/products/{world.coop_product.id}/lots"
    wrong_sum = post(client, path, {"csrf_token": token, **_lot(world, quantity="31")})
    assert wrong_sum.status_code == 422
    assert "各户交售数量合计 30，但这批货的数量是 31" in wrong_sum.text
    assert 'value="31"' in wrong_sum.text
    outsider = post(
        client,
        path,
        {"csrf_token": token, **_lot(world, household_1=str(world.household_b.id))},
    )
    assert outsider.status_code == 422
    assert f"农户 {world.household_b.id} 不是本合作社的成员" in outsider.text
    assert counts(session) == before


def test_lot_form_permissions(client, world, session):
    before = counts(session)
    path = f"/products/{world.coop_product.id}/lots"
    token = as_user(client, world, "manager_b", "/products")
    assert post(client, path, {"csrf_token": token, **_lot(world)}).status_code == 403
    assert post(client, path, {"csrf_token": "z" * 43, **_lot(world)}).status_code == 403
    token = as_user(client, world, "farmer_a2", "/products")
    own = f"/products/{world.active.id}/lots"  # household A's product: not farmer A2's
    assert post(client, own, {"csrf_token": token, **_lot(world)}).status_code == 403
    assert counts(session) == before
    # The farmer's own product: their household supplied all of it when no rows are given.
    token = as_user(client, world, "farmer_a", "/products")
    response = post(
        client, own, {"csrf_token": token, "harvested_on": "2026-10-06", "quantity": "7"}
    )
    assert response.status_code == 303, response.text
    assert counts(session)[1:3] == [before[1] + 1, before[2] + 1]


# Editing a product


def test_edit_product_price_status_name(client, world, session):
    token = as_user(client, world, "farmer_a", f"/products/{world.active.id}")
    page = client.get(f"/products/{world.active.id}", headers=HTML).text
    assert f'action="/products/{world.active.id}/edit"' in page
    assert 'value="68.00"' in page
    assert "通过 API" not in page
    response = post(
        client,
        f"/products/{world.active.id}/edit",
        {
            "csrf_token": token,
            "name_zh": "百花蜜",
            "name_en": "Honey",
            "price": "72.5",
            "status": "archived",
        },
    )
    assert response.status_code == 303, response.text
    assert stored(session, world.active.id) == ("百花蜜", 7250, "archived")
    assert "已保存" in client.get(response.headers["location"], headers=HTML).text


def test_edit_product_errors_and_permissions(client, world, session):
    token = as_user(client, world, "manager_a", f"/products/{world.active.id}")
    path = f"/products/{world.active.id}/edit"
    fields = {"name_zh": "  ", "name_en": "", "price": "-3", "status": "active"}
    bad = post(client, path, {"csrf_token": token, **fields})
    assert bad.status_code == 422
    assert 'id="edit_price"' in bad.text
    assert "field-error" in bad.text
    bad_name = post(client, path, {"csrf_token": token, **fields, "price": "70"})
    assert bad_name.status_code == 422
    assert "此项的值无效" in bad_name.text or "请至少填写 1 个字符" in bad_name.text
    assert stored(session, world.active.id) == ("土蜂蜜", 6800, "active")
    good = {"name_zh": "被改", "name_en": "", "price": "1", "status": "active"}
    assert post(client, path, {"csrf_token": "q" * 43, **good}).status_code == 403
    token = as_user(client, world, "manager_b", "/products")
    assert post(client, path, {"csrf_token": token, **good}).status_code == 403
    token = as_user(client, world, "farmer_a2", "/products")
    assert post(client, path, {"csrf_token": token, **good}).status_code == 403
    assert (
        f'action="/products/{world.active.id}/edit"'
        not in client.get(f"/products/{world.active.id}", headers=HTML).text
    )
    client.cookies.clear()
    token = csrf_token(client)
    anonymous = post(client, path, {"csrf_token": token, **good})
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=/products/{world.active.id}"
    assert stored(session, world.active.id) == ("土蜂蜜", 6800, "active")
