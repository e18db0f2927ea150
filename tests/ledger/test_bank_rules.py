"""The matching rules as pure functions: lines and ledger items in, proposals out."""

from datetime import date

from ledger.bank import rules
from ledger.bank.cells import clean, direction_sign, parse_date
from ledger.bank.values import LedgerItem

NOV = date(2026, 11, 10)


def line(key: int, amount: int, *, on: date = NOV, ref: str = "", memo: str = "") -> rules.BankLine:
    return rules.bank_line(key, on, amount, ref, "", memo)


def item(posting: int, amount: int, *, on: date = NOV, ref: str = "", **meta: object) -> LedgerItem:
    return LedgerItem(posting, posting, on, amount, "CNY", ref, "", dict(meta))


def test_a_code_in_the_memo_matches_the_recorded_payment_of_that_amount() -> None:
    lines = [line(1, 12_800, memo="货款 hz7kq 2mx9p"), line(2, 12_800, memo="no code")]
    clearing = [item(10, 12_800, on=date(2026, 11, 3)), item(11, 12_800)]
    codes = {10: "HZ7KQ2MX9P", 11: "HZ0000000A"}
    assert rules.by_code(lines, clearing, codes) == [
        rules.Proposal("code", (1,), (10,), clearing=True)
    ]


def test_a_code_with_another_amount_or_far_date_is_not_matched() -> None:
    codes = {10: "HZ7KQ2MX9P"}
    assert rules.by_code([line(1, 12_700, memo="HZ7KQ2MX9P")], [item(10, 12_800)], codes) == []
    far = [item(10, 12_800, on=date(2026, 10, 1))]
    assert rules.by_code([line(1, 12_800, memo="HZ7KQ2MX9P")], far, codes) == []


def test_amount_and_date_leaves_a_tie_to_a_person() -> None:
    lines = [line(1, -500)]
    tie = [item(1, -500, on=date(2026, 11, 9)), item(2, -500, on=date(2026, 11, 11))]
    assert rules.by_amount_and_date(lines, tie, 3) == []
    nearer = [item(1, -500, on=date(2026, 11, 8)), item(2, -500, on=date(2026, 11, 11))]
    assert rules.by_amount_and_date(lines, nearer, 3) == [rules.Proposal("amount_date", (1,), (2,))]


def test_rules_run_in_order_over_what_is_left() -> None:
    lines = [line(1, -3_000, ref="B1"), line(2, -700), line(3, 900, memo="HZAAAABBBB")]
    items = [
        item(1, -1_000, payout_batch=4),
        item(2, -2_000, payout_batch=4),
        item(3, -3_000, ref="B1"),
        item(4, -700, on=date(2026, 11, 12)),
    ]
    made = rules.propose(
        lines, items, drift_days=3, clearing=[item(9, 900)], codes={9: "HZAAAABBBB"}
    )
    assert [(p.rule, p.line_keys, p.posting_ids) for p in made] == [
        ("reference", (1,), (3,)),
        ("code", (3,), (9,)),
        ("amount_date", (2,), (4,)),
    ]


def test_cells_as_banks_write_them() -> None:
    assert clean(' ="6222 0212" \t') == "6222 0212"
    assert clean(" - ") == ""
    assert parse_date("2026-11-03 09:12:45") == date(2026, 11, 3)
    assert parse_date("\t20261103") == date(2026, 11, 3)
    assert [direction_sign(t) for t in ("收入", "支出", "不计收支", "/")] == [1, -1, 0, 0]


def test_a_deposit_without_a_code_matches_the_one_recorded_payment_of_its_amount() -> None:
    codes = {10: "HZAAAAAAAA", 11: "HZBBBBBBBB", 12: "HZCCCCCCCC"}
    clearing = [item(10, 5_000), item(11, 7_000), item(12, 7_000), item(13, 9_000)]
    lines = [line(1, 5_000, memo="现金存款"), line(2, 7_000, memo="现金存款"), line(3, 9_000)]
    made = rules.propose(lines, [], drift_days=3, clearing=clearing, codes=codes)
    # 7,000 has two recorded payments (a person decides); 9,000 is no order payment (no code).
    assert made == [rules.Proposal("payment", (1,), (10,), clearing=True)]


def test_two_deposits_claiming_one_payment_are_left_to_a_person() -> None:
    lines = [line(1, 5_000), line(2, 5_000, on=date(2026, 11, 11))]
    made = rules.propose(lines, [], drift_days=3, clearing=[item(10, 5_000)], codes={10: "HZA"})
    assert made == []


def test_the_accounts_own_posting_of_that_amount_comes_before_a_recorded_payment() -> None:
    made = rules.propose(
        [line(1, 5_000)],
        [item(3, 5_000)],
        drift_days=3,
        clearing=[item(10, 5_000)],
        codes={10: "HZA"},
    )
    assert made == [rules.Proposal("amount_date", (1,), (3,))]


def test_one_deposit_naming_several_codes_is_proposed_as_their_set_for_staff_to_confirm() -> None:
    codes = {10: "HZAAAA0001", 11: "HZAAAA0002", 12: "HZAAAA0003", 13: "HZAAAA0004"}
    clearing = [item(10, 3_000), item(11, 4_500), item(12, 2_500), item(13, 3_000)]
    deposit = line(1, 10_000, memo="现金存入 hzaaaa0001 HZAAAA0002 HZAAAA0003")
    assert rules.by_deposit_set([deposit], clearing, codes, 3) == [
        rules.Proposal("deposit_set", (1,), (10, 11, 12), clearing=True, confirm=True)
    ]
    # the named payments must add up to the line to the fen
    short = line(1, 9_999, memo="HZAAAA0001 HZAAAA0002 HZAAAA0003")
    assert rules.by_deposit_set([short], clearing, codes, 3) == []


def test_a_deposit_without_codes_is_the_one_set_that_adds_up_within_the_drift() -> None:
    codes = {10: "HZ1", 11: "HZ2", 12: "HZ3", 13: "HZ4"}
    clearing = [
        item(10, 1_200, on=date(2026, 11, 8)),
        item(11, 3_400, on=date(2026, 11, 9)),
        item(12, 5_600, on=date(2026, 11, 10)),
        item(13, 4_600, on=date(2026, 10, 1)),  # out of the drift: not a candidate
    ]
    assert rules.by_deposit_set([line(1, 10_200, memo="现金存款")], clearing, codes, 3) == [
        rules.Proposal("deposit_set", (1,), (10, 11, 12), clearing=True, confirm=True)
    ]
    # two sets fit (1 200 + 3 400 and 2 000 + 2 600): a person decides
    tie = [item(20, 1_200), item(21, 3_400), item(22, 2_000), item(23, 2_600)]
    tie_codes = {20: "A", 21: "B", 22: "C", 23: "D"}
    assert rules.by_deposit_set([line(1, 4_600)], tie, tie_codes, 3) == []
    # a payment outside the orders (no code) is never part of a set; nor a withdrawal
    assert rules.by_deposit_set([line(1, 4_600)], clearing[:2], {10: "HZ1"}, 3) == []
    assert rules.by_deposit_set([line(1, -4_600)], clearing[:2], codes, 3) == []


def test_single_payment_rules_come_first_and_the_set_comes_last() -> None:
    codes = {10: "HZONE00001", 11: "HZ2", 12: "HZ3"}
    clearing = [item(10, 900), item(11, 1_000), item(12, 2_000)]
    lines = [line(1, 900, memo="HZONE00001"), line(2, 3_000, memo="现金")]
    made = rules.propose(lines, [], drift_days=3, clearing=clearing, codes=codes)
    assert [(p.rule, p.line_keys, p.posting_ids, p.confirm) for p in made] == [
        ("code", (1,), (10,), False),
        ("deposit_set", (2,), (11, 12), True),
    ]
