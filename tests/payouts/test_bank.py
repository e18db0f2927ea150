"""Bank statement import (encodings, formats, refusals, stored once) and matching rules."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from catalog.models import Cooperative
from catalog.payout_details import confirm_payout_batch, confirm_payout_line, create_coop_batch
from core.errors import Invalid
from ledger import bank, reconciliation
from ledger.payout_models import Match, StatementLine
from tests.payouts.conftest import HouseholdFactory, earn

BANK = "assets:bank"
HEADER = "date,amount,currency,reference,counterparty,description\n"


def count_lines(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StatementLine)) or 0


def test_amounts_with_separators_full_width_digits_and_symbols() -> None:
    assert bank.parse_amount("-1,234.50", "CNY") == -123_450
    assert bank.parse_amount("１２３４．５", "CNY") == 123_450
    assert bank.parse_amount("￥12,000", "CNY") == 1_200_000
    assert bank.parse_amount("－８８", "CNY") == -8_800
    for bad in ("1.234,50", "12.345", "abc", "1,23.00", ""):
        with pytest.raises(ValueError):  # noqa: PT011
            bank.parse_amount(bad, "CNY")


def test_dates_in_the_usual_bank_forms() -> None:
    expected = date(2026, 11, 30)
    for text in ("2026-11-30", "2026/11/30", "20261130", "2026年11月30日", "２０２６-１１-３０"):
        assert bank.parse_date(text) == expected
    for bad in ("30/11/2026", "2026-02-30", "tomorrow"):
        with pytest.raises(ValueError):  # noqa: PT011
            bank.parse_date(bad)


def test_gbk_file_with_a_column_mapping(session: Session, coop: Cooperative) -> None:
    text = '交易日期,摘要,收入金额,支出金额,对方户名\n2026-11-30,工资,,"1,000.00",张三\n2026/12/01,退款,50,,李四\n'
    mapping = {
        "date": "交易日期",
        "reference": "摘要",
        "inflow": "收入金额",
        "outflow": "支出金额",
        "counterparty": "对方户名",
    }
    result = bank.import_statement(
        session, raw=text.encode("gbk"), account_key=BANK, mapping=mapping, filename="gbk.csv"
    )
    session.commit()
    assert result.statement.encoding == "gbk"
    lines = bank.statement_lines(session, BANK)
    assert [(line.amount, line.reference, line.counterparty) for line in lines] == [
        (-100_000, "工资", "张三"),
        (5_000, "退款", "李四"),
    ]


def test_bad_lines_are_refused_whole_naming_line_and_column(
    session: Session, coop: Cooperative
) -> None:
    text = HEADER + "2026-11-30,-10.00,CNY,A,,\n2026-13-01,5,CNY,B,,\n2026-11-30,1.234,CNY,C,,\n"
    with pytest.raises(bank.StatementInvalid) as refused:
        bank.import_statement(session, raw=text.encode(), account_key=BANK)
    assert refused.value.errors is not None
    locs = [error["loc"] for error in refused.value.errors]
    assert locs == [["line", 3, "column", "date"], ["line", 4, "column", "amount"]]
    session.rollback()
    assert count_lines(session) == 0


def test_wrong_columns_are_refused(session: Session, coop: Cooperative) -> None:
    with pytest.raises(bank.StatementInvalid) as refused:
        bank.import_statement(session, raw=b"when,how much\n2026-11-30,1\n", account_key=BANK)
    assert refused.value.errors is not None
    assert {tuple(e["loc"]) for e in refused.value.errors} == {
        ("line", 1, "column", "date"),
        ("line", 1, "column", "amount"),
    }


def test_same_file_twice_and_overlapping_files_store_each_line_once(
    session: Session, coop: Cooperative
) -> None:
    first = HEADER + "2026-11-01,100,,X,,\n2026-11-01,100,,X,,\n"
    bank.import_statement(session, raw=first.encode(), account_key=BANK)
    again = bank.import_statement(session, raw=first.encode(), account_key=BANK)
    longer = first + "2026-11-02,7,,Y,,\n"
    overlap = bank.import_statement(session, raw=longer.encode("utf-8-sig"), account_key=BANK)
    session.commit()
    assert again.replayed
    assert (overlap.new_lines, overlap.skipped_lines) == (1, 2)
    assert count_lines(session) == 3  # the two identical lines of one file are both kept


def _pay_batch(
    session: Session, coop: Cooperative, household: HouseholdFactory, amounts: list[int]
) -> list[int]:
    members = [household() for _ in amounts]
    for member, amount in zip(members, amounts, strict=True):
        earn(session, member, amount)
    assert coop.id is not None
    result = create_coop_batch(
        session,
        coop_id=coop.id,
        period="2026-11",
        currency="CNY",
        minimum=100,
        effective_date=date(2026, 11, 28),
        created_by="s",
    )
    return [line.id or 0 for line in result.lines]


def test_one_bank_line_for_a_whole_batch_matches_by_reference(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    _pay_batch(session, coop, household, [1_000, 2_000, 3_000])
    confirm_payout_batch(
        session, batch_id=1, bank_reference="TRF-1", paid_on=date(2026, 11, 29), decided_by="s"
    )
    text = HEADER + "2026-11-29,-60.00,CNY,TRF-1,members,batch\n"
    bank.import_statement(session, raw=text.encode(), account_key=BANK)
    made = bank.auto_match(session, account_key=BANK)
    session.commit()
    assert len(made) == 1
    assert made[0].rule == "reference"
    view = reconciliation.reconcile(session, account_key=BANK, period="2026-11")
    assert view.open_items == []
    assert view.difference == 0
    assert view.matched_ledger == view.matched_statement == -6_000


def test_amount_and_date_within_drift_and_batch_without_reference(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    first, second, third = _pay_batch(session, coop, household, [1_500, 2_500, 4_000])
    for line_id, ref, day in ((first, "A", 29), (second, "B", 29), (third, "C", 30)):
        confirm_payout_line(
            session,
            line_id=line_id,
            bank_reference=ref,
            paid_on=date(2026, 11, day),
            decided_by="s",
        )
    # The bank shows the first two in one transfer with no reference, the third 2 days later.
    text = HEADER + "2026-11-30,-40.00,,,,\n2026-12-01,-40.00,,,,\n"
    bank.import_statement(session, raw=text.encode(), account_key=BANK)
    made = bank.auto_match(session, account_key=BANK, drift_days=3)
    session.commit()
    assert sorted(m.rule for m in made) == ["amount_date", "batch"]
    assert bank.open_items(session, BANK) == ([], [])


def test_many_bank_lines_to_one_posting_by_reference(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    (line_id,) = _pay_batch(session, coop, household, [9_000])
    confirm_payout_line(
        session, line_id=line_id, bank_reference="SPLIT", paid_on=date(2026, 11, 29), decided_by="s"
    )
    text = HEADER + "2026-11-29,-50,,SPLIT,,\n2026-11-29,-40,,SPLIT,,\n"
    bank.import_statement(session, raw=text.encode(), account_key=BANK)
    made = bank.auto_match(session, account_key=BANK)
    assert [m.rule for m in made] == ["reference"]


def test_manual_match_needs_a_reason_and_agreeing_sums_and_unmatch_is_recorded(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    (line_id,) = _pay_batch(session, coop, household, [9_000])
    confirm_payout_line(
        session, line_id=line_id, bank_reference="R1", paid_on=date(2026, 11, 29), decided_by="s"
    )
    text = HEADER + "2026-11-20,-90,,other ref,,\n2026-11-20,-1,,fee,,\n"
    bank.import_statement(session, raw=text.encode(), account_key=BANK)
    lines, items = bank.open_items(session, BANK)
    (posting,) = items
    big, small = (line.id or 0 for line in lines)
    with pytest.raises(bank.MatchConflict):
        bank.match_manually(
            session,
            account_key=BANK,
            line_ids=[small],
            posting_ids=[posting.posting_id],
            reason="same payout",
        )
    with pytest.raises(Invalid):
        bank.match_manually(
            session, account_key=BANK, line_ids=[big], posting_ids=[posting.posting_id], reason=" "
        )
    match = bank.match_manually(
        session,
        account_key=BANK,
        line_ids=[big],
        posting_ids=[posting.posting_id],
        reason="bank lost the reference",
        created_by="staff-1",
    )
    with pytest.raises(bank.MatchConflict):  # already matched
        bank.match_manually(
            session,
            account_key=BANK,
            line_ids=[big],
            posting_ids=[posting.posting_id],
            reason="again",
        )
    assert match.id is not None
    bank.unmatch(session, match_id=match.id, reason="wrong line", undone_by="staff-2")
    session.commit()
    stored = session.get(Match, match.id)
    assert stored is not None
    assert (stored.active, stored.undone_by, stored.undo_reason) == (False, "staff-2", "wrong line")
    assert len(bank.open_items(session, BANK)[0]) == 2
    # The fee line, booked against bank fees, is matched to the new entry.
    fee = bank.post_line_adjustment(
        session, line_id=small, counter_account="expenses:bank:fees", memo="bank charge"
    )
    assert fee.rule == "adjustment"
    assert [line.id for line in bank.open_items(session, BANK)[0]] == [big]
