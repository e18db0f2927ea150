"""Share parts are data (ledger.share_rules.SHARE_PARTS): settlement posts every part to its own
account and the buyer's receipt (API and page) shows every part under its own party and label.

A part that is neither the collective nor the training fund is made here by swapping the training
fund's definition for an (untranslated, made-up) "hillside orchard fund" on the same columns:
before the registry, the receipt called any fund that was not the collective fund "training fund"."""

from dataclasses import replace

import pytest

from ledger import share_rules
from ledger.share_rules import (
    SHARE_PARTS,
    ShareParts,
    account_key,
    household_of,
    parse_account_key,
    share_part,
)
from tests.frontend.helpers import HTML

ORCHARD = replace(
    share_part("training_fund"),
    account="equity:coops:{coop}:hillside-orchard-fund",
    label="Hillside orchard fund",
    description="The hillside orchard fund",
    receipt_label="%(coop)s: hillside orchard fund",
)


@pytest.fixture
def orchard_fund(monkeypatch):
    """The registry with the hillside orchard fund in the training fund's place."""
    parts = tuple(ORCHARD if part.key == "training_fund" else part for part in SHARE_PARTS)
    monkeypatch.setattr(share_rules, "SHARE_PARTS", parts)
    monkeypatch.setattr("frontend.order_context.SHARE_PARTS", parts)  # the page's receipt
    monkeypatch.setattr("frontend.order_confirmations.SHARE_PARTS", parts)
    return ORCHARD


def test_every_part_key_is_built_and_parsed_back_by_one_pair_of_functions():
    for part in SHARE_PARTS:
        key = account_key(part, coop_id=7, household_id=42)
        found = parse_account_key(key)
        assert found is not None
        assert found.part == part
        assert found.coop_id == ("7" if part.per_coop else None)
        assert found.household_id == ("42" if part.per_household else None)
    assert account_key("collective_fund", coop_id=7) == "equity:coops:7:collective-fund"
    assert account_key("producers", household_id=42) == "liabilities:members:42:payable"
    assert account_key("enterprise") == "income:enterprise:service-fees"
    assert household_of("liabilities:members:42:payable") == 42
    assert household_of("equity:coops:7:collective-fund") is None
    for other in ("liabilities:buyers:deposits", "equity:coops:7", "assets:clearing:manual"):
        assert parse_account_key(other) is None
    with pytest.raises(ValueError, match="needs a cooperative"):
        account_key("collective_fund")  # a fund needs its cooperative


def test_share_parts_follow_the_registry_and_refuse_a_missing_or_unknown_part():
    parts = ShareParts(**{part.key: part.default_bp for part in SHARE_PARTS})
    assert parts.as_dict() == {part.key: part.default_bp for part in SHARE_PARTS}
    assert parts.as_columns("rule_")["rule_collective_fund"] == parts.collective_fund
    with pytest.raises(TypeError):
        ShareParts(producers=10_000)
    with pytest.raises(TypeError):
        ShareParts(**parts.as_dict(), elderly_fund=0)


def _settled_honey_order(client, as_role, place, world):
    order = place("guest", [(world.honey, 1)]).json()
    token = order["access_token"]
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": 6800, "currency": "CNY"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    shipped = client.post(
        f"/api/v1/orders/{order['id']}/ship",
        json={"carrier": "SF", "tracking_number": "SF1"},
        headers=as_role("manager_a"),
    )
    assert shipped.status_code == 200, shipped.text
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver?token={token}")
    assert delivered.json()["status"] == "settled", delivered.text
    return order["id"], token


def test_a_fund_that_is_not_the_training_fund_shows_its_own_label_on_the_receipt(
    orchard_fund, world, client, as_role, place
):
    order_id, token = _settled_honey_order(client, as_role, place, world)
    coop = world.coop_a.id

    receipt = client.get(f"/api/v1/orders/{order_id}/receipt?token={token}").json()
    parties = {part["party"]: part for part in receipt["split"]}
    # honey 6800 by the default rule 70/10/10/10: the orchard fund took the training fund's 10 %
    assert parties[f"fund:hillside-orchard:{coop}"]["amount"] == 680
    assert "hillside orchard fund" in parties[f"fund:hillside-orchard:{coop}"]["label"]
    assert "training" not in parties[f"fund:hillside-orchard:{coop}"]["label"]
    assert not any(party.startswith("fund:training") for party in parties)
    assert parties[f"fund:collective:{coop}"]["amount"] == 680
    assert sum(part["amount"] for part in receipt["split"]) == 6800

    page = client.get(f"/orders/{order_id}?token={token}", headers=HTML).text
    assert "hillside orchard fund" in page
    assert "培训基金" not in page  # the training fund, in Chinese
    assert "集体公积金" in page  # the collective fund keeps its own (translated) label


def test_the_receipt_page_labels_each_standard_part_in_chinese(world, client, as_role, place):
    order_id, token = _settled_honey_order(client, as_role, place, world)
    page = client.get(f"/orders/{order_id}?token={token}", headers=HTML).text
    for label in ("集体公积金", "培训基金", "社会企业服务费"):
        assert label in page


def test_a_part_added_later_is_zero_when_left_out_and_never_taken_in_order(monkeypatch):
    later = replace(ORCHARD, key="orchard_fund", default_bp=0, may_omit=True)
    monkeypatch.setattr(share_rules, "SHARE_PARTS", (*SHARE_PARTS, later))
    given = {"producers": 7000, "collective_fund": 1000, "training_fund": 1000, "enterprise": 1000}
    parts = ShareParts(**given)
    assert parts.orchard_fund == 0
    assert ShareParts(7000, 1000, 1000, 1000) == parts
    assert ShareParts(**given, orchard_fund=0) == parts
    with pytest.raises(share_rules.InvalidShareRule):
        ShareParts(**given, orchard_fund=500)  # sums to 10500
