"""Bank transfer says where to transfer: the marketplace's account from the settings, or the
order's cooperative's own account (set by staff), with the amount and reference code."""

import re

import pytest

from api.settings import Settings
from tests.frontend.helpers import HTML
from tests.orders.test_pages import post_form


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "bank_transfer_payee": "合作社会企业有限公司",
            "bank_transfer_bank": "中国农业银行上海松江支行",
            "bank_transfer_account": "6228 4800 1234 5678 901",
        }
    )


def _transfer_box(page: str) -> str:
    match = re.search(r'<dl class="facts transfer-to" id="transfer-to">(.*?)</dl>', page, re.S)
    assert match, "no transfer details on the page"
    return match.group(1)


def test_the_order_page_names_the_marketplace_account_amount_and_reference(world, client, place):
    placed = place("guest", [(world.honey, 2), (world.mushrooms, 1)]).json()
    page = client.get(f"/orders/{placed['id']}?token={placed['access_token']}", headers=HTML)
    box = _transfer_box(page.text)
    assert "合作社会企业有限公司" in box
    assert "中国农业银行上海松江支行" in box
    assert "6228 4800 1234 5678 901" in box
    assert "¥181.00" in box
    assert placed["payment"]["reference_code"] in box


def test_a_cooperative_with_its_own_account_receives_its_orders_transfers(
    world, client, place, browser_for
):
    staff = browser_for("staff")
    listing = staff.get("/staff/coops", headers=HTML)
    assert f"/staff/coops/{world.coop_a.id}/bank" in listing.text
    bad = post_form(
        staff,
        f"/staff/coops/{world.coop_a.id}/bank",
        {"payee": "松江合作社", "bank": "农商行", "account": "abc"},
        page=f"/staff/coops/{world.coop_a.id}/bank",
    )
    assert bad.status_code == 422
    assert 'value="松江合作社"' in bad.text  # what was typed is kept
    saved = post_form(
        staff,
        f"/staff/coops/{world.coop_a.id}/bank",
        {"payee": "松江合作社", "bank": "上海农商银行", "account": "3100-0000-1234"},
        page=f"/staff/coops/{world.coop_a.id}/bank",
    )
    assert saved.status_code == 303, saved.text

    only_a = place("guest", [(world.honey, 1)]).json()
    box = _transfer_box(
        client.get(f"/orders/{only_a['id']}?token={only_a['access_token']}", headers=HTML).text
    )
    assert "松江合作社" in box
    assert "3100-0000-1234" in box
    assert "合作社会企业有限公司" not in box
    # an order of two cooperatives is paid to the marketplace
    both = place("guest", [(world.honey, 1), (world.mushrooms, 1)]).json()
    box = _transfer_box(
        client.get(f"/orders/{both['id']}?token={both['access_token']}", headers=HTML).text
    )
    assert "合作社会企业有限公司" in box


@pytest.mark.parametrize("role", ["manager_a", "farmer", "buyer"])
def test_only_staff_change_a_cooperatives_account(world, browser_for, role, session):
    other = browser_for(role)
    assert other.get(f"/staff/coops/{world.coop_a.id}/bank", headers=HTML).status_code == 403
    refused = post_form(
        other,
        f"/staff/coops/{world.coop_a.id}/bank",
        {"payee": "骗子", "bank": "某行", "account": "6666 6666 6666"},
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(type(world.coop_a), world.coop_a.id).bank_account == ""
