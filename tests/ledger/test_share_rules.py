"""Share rules: validation naming the field, and the sale split (sums, floor, order)."""

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Invalid
from ledger.models import AccountLimit, AccountType, Side
from ledger.service import EntrySpec, PostingSpec, balance, open_account, post
from ledger.share_rules import (
    DEFAULT_PRODUCERS_FLOOR,
    InvalidShareRule,
    ProducersBelowFloor,
    SharePart,
    ShareParts,
    check_producers_floor,
    sale_shares,
    split_sale,
)

RULE = ShareParts(producers=7000, collective_fund=1000, training_fund=1000, enterprise=1000)


def field_of(error: InvalidShareRule) -> list[str | int]:
    assert error.errors is not None
    assert error.errors[0]["loc"] == error.field
    return error.field


# --- validation ------------------------------------------------------------------------------


def test_parts_must_sum_to_ten_thousand():
    with pytest.raises(InvalidShareRule, match="sum to 9999") as caught:
        ShareParts(producers=7000, collective_fund=1000, training_fund=1000, enterprise=999)
    assert field_of(caught.value) == ["parts"]
    assert isinstance(caught.value, Invalid)
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [("producers", -1), ("collective_fund", 10_001), ("training_fund", 10.0), ("enterprise", True)],
)
def test_each_part_must_be_whole_basis_points_in_range(field, value):
    values = {"producers": 7000, "collective_fund": 1000, "training_fund": 1000, "enterprise": 1000}
    values[field] = value
    with pytest.raises(InvalidShareRule) as caught:
        ShareParts(**values)
    assert field_of(caught.value) == [field]


def test_producers_floor_defaults_to_sixty_percent_and_is_configurable():
    low = ShareParts(producers=5999, collective_fund=2001, training_fund=1000, enterprise=1000)
    with pytest.raises(ProducersBelowFloor, match="6000") as caught:
        check_producers_floor(low)
    assert field_of(caught.value) == ["producers"]
    check_producers_floor(low, floor=5000)  # a lower configured floor accepts it
    check_producers_floor(
        ShareParts(producers=6000, collective_fund=2000, training_fund=1000, enterprise=1000)
    )
    with pytest.raises(InvalidShareRule) as bad_floor:
        check_producers_floor(RULE, floor=10_001)
    assert field_of(bad_floor.value) == ["producers_floor"]


def test_split_refuses_a_rule_below_the_floor():
    low = ShareParts(producers=5000, collective_fund=3000, training_fund=1000, enterprise=1000)
    with pytest.raises(ProducersBelowFloor):
        sale_shares(10000, low, {1: 1}, coop_id=7)
    assert sale_shares(10000, low, {1: 1}, coop_id=7, producers_floor=5000)[0].amount == 5000


@pytest.mark.parametrize(
    ("amount", "contributions", "field"),
    [
        (0, {1: 1}, ["amount"]),
        (-5, {1: 1}, ["amount"]),
        (12.5, {1: 1}, ["amount"]),
        (100, {}, ["contributions"]),
        (100, {1: 0, 2: 0}, ["contributions"]),
        (100, {1: 3, 2: -1}, ["contributions", "2"]),
        (100, {1: 1.5}, ["contributions", "1"]),
    ],
)
def test_split_refuses_bad_input_naming_the_field(amount, contributions, field):
    with pytest.raises(InvalidShareRule) as caught:
        sale_shares(amount, RULE, contributions, coop_id=7)
    assert field_of(caught.value) == field


# --- the split -------------------------------------------------------------------------------


def test_worked_example_one_sale_three_households():
    shares = sale_shares(10000, RULE, {42: 2, 43: 1, 44: 0}, coop_id=7)
    assert shares == [
        # producers' 7000 by 2:1:0 -> 4666.67, 2333.33, 0 -> the larger remainder (first) gets +1
        SharePart("household:42", "liabilities:members:42:payable", 4667),
        SharePart("household:43", "liabilities:members:43:payable", 2333),
        SharePart("coop:7:collective-fund", "equity:coops:7:collective-fund", 1000),
        SharePart("coop:7:training-fund", "equity:coops:7:training-fund", 1000),
        SharePart("enterprise", "income:enterprise:service-fees", 1000),
    ]


def test_parts_first_then_households_ties_by_order():
    # 999 by 7000/1000/1000/1000 -> 699.3, 99.9 x3 -> 699, 100, 100, 100;
    # then 699 by 1:1:1 -> 233 each.
    shares = sale_shares(999, RULE, {"a": 1, "b": 1, "c": 1}, coop_id=1)
    assert [s.amount for s in shares] == [233, 233, 233, 100, 100, 100]
    # 700 producers' units over 3 equal households: the extra unit goes to the first one listed
    shares = sale_shares(1000, RULE, {"c": 1, "b": 1, "a": 1}, coop_id=1)
    assert [(s.party, s.amount) for s in shares[:3]] == [
        ("household:c", 234),
        ("household:b", 233),
        ("household:a", 233),
    ]


def test_zero_parts_get_no_posting():
    rule = ShareParts(producers=9000, collective_fund=1000, training_fund=0, enterprise=0)
    shares = sale_shares(3, rule, {1: 1}, coop_id=2)
    assert shares == [SharePart("household:1", "liabilities:members:1:payable", 3)]


@st.composite
def valid_rules(draw: st.DrawFn) -> ShareParts:
    producers = draw(st.integers(min_value=DEFAULT_PRODUCERS_FLOOR, max_value=10_000))
    rest = 10_000 - producers
    collective = draw(st.integers(min_value=0, max_value=rest))
    training = draw(st.integers(min_value=0, max_value=rest - collective))
    return ShareParts(producers, collective, training, rest - collective - training)


contribution_maps = st.dictionaries(
    st.integers(min_value=1, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    min_size=1,
    max_size=30,
).filter(lambda c: sum(c.values()) > 0)


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    rule=valid_rules(),
    contributions=contribution_maps,
)
def test_split_always_sums_to_the_amount_and_producers_get_their_floor(amount, rule, contributions):
    shares = sale_shares(amount, rule, contributions, coop_id=3)
    assert sum(s.amount for s in shares) == amount
    assert all(s.amount > 0 for s in shares)
    producers = sum(s.amount for s in shares if s.party.startswith("household:"))
    assert producers >= Fraction(amount * DEFAULT_PRODUCERS_FLOOR, 10_000) - 1
    assert abs(producers - Fraction(amount * rule.producers, 10_000)) < 1
    # each household within one unit of its exact share of the producers' part
    total_quantity = sum(contributions.values())
    by_household = {s.party: s.amount for s in shares}
    for household, quantity in contributions.items():
        exact = Fraction(producers * quantity, total_quantity)
        assert abs(by_household.get(f"household:{household}", 0) - exact) < 1


# --- split_sale: the balanced postings -------------------------------------------------------


def test_split_sale_gives_the_settlement_postings():
    postings = split_sale(10000, "CNY", RULE, {42: 2, 43: 1}, coop_id=7)
    assert postings == [
        PostingSpec("liabilities:buyers:deposits", Side.debit, 10000, "CNY"),
        PostingSpec("liabilities:members:42:payable", Side.credit, 4667, "CNY"),
        PostingSpec("liabilities:members:43:payable", Side.credit, 2333, "CNY"),
        PostingSpec("equity:coops:7:collective-fund", Side.credit, 1000, "CNY"),
        PostingSpec("equity:coops:7:training-fund", Side.credit, 1000, "CNY"),
        PostingSpec("income:enterprise:service-fees", Side.credit, 1000, "CNY"),
    ]


@pytest.mark.parametrize("currency", ["cny", "CN", "", "CNYY"])
def test_split_sale_refuses_a_bad_currency(currency):
    with pytest.raises(InvalidShareRule) as caught:
        split_sale(100, currency, RULE, {1: 1}, coop_id=1)
    assert field_of(caught.value) == ["currency"]


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    rule=valid_rules(),
    contributions=contribution_maps,
)
def test_split_sale_always_balances(amount, rule, contributions):
    postings = split_sale(amount, "CNY", rule, contributions, coop_id=3)
    debits = sum(p.amount for p in postings if p.side is Side.debit)
    credits = sum(p.amount for p in postings if p.side is Side.credit)
    assert debits == credits == amount
    assert all(p.amount > 0 and p.currency == "CNY" for p in postings)


def test_split_sale_posts_through_the_ledger(session):
    households = {11: 5, 12: 3, 13: 0}
    open_account(
        session, key="liabilities:buyers:deposits", type=AccountType.liability, currency="CNY"
    )
    for household in households:
        open_account(
            session,
            key=f"liabilities:members:{household}:payable",
            type=AccountType.liability,
            currency="CNY",
            limit=AccountLimit.non_negative,
        )
    for fund in ("collective-fund", "training-fund"):
        open_account(session, key=f"equity:coops:9:{fund}", type=AccountType.equity, currency="CNY")
    open_account(
        session, key="income:enterprise:service-fees", type=AccountType.income, currency="CNY"
    )
    rule = ShareParts(producers=6500, collective_fund=1500, training_fund=1000, enterprise=1000)
    postings = split_sale(12345, "CNY", rule, households, coop_id=9)
    post(
        session,
        EntrySpec(
            kind="sale",
            effective_date=date(2026, 11, 29),
            postings=tuple(postings),
            idempotency_key="settlement:order:1",
        ),
    )
    session.commit()
    # 12345 by 6500/1500/1000/1000 = 8024.25, 1851.75, 1234.5, 1234.5 -> 8024, 1852, 1235, 1234
    # (the two .5 remainders tie: the earlier part, the training fund, gets the unit)
    # producers' 8024 by 5:3 = 5015, 3009
    assert balance(session, "liabilities:members:11:payable").amount == 5015
    assert balance(session, "liabilities:members:12:payable").amount == 3009
    assert balance(session, "liabilities:members:13:payable").amount == 0
    assert balance(session, "equity:coops:9:collective-fund").amount == 1852
    assert balance(session, "equity:coops:9:training-fund").amount == 1235
    assert balance(session, "income:enterprise:service-fees").amount == 1234
    assert balance(session, "liabilities:buyers:deposits").amount == -12345
