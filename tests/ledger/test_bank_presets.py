"""Real bank and wallet exports (tests/ledger/bank_samples/, made by make_samples.py from each
bank's published layout) import unchanged, once, with their preset named; bad files are refused
whole with a reason."""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from ledger import bank, service
from ledger.models import AccountType
from ledger.payout_models import Statement, StatementLine

SAMPLES = Path(__file__).parent / "bank_samples"
MONEY = [128_000, -150_000, 220_000, -250]  # the same four movements in every sample
CASES = [
    ("icbc-2026-11.csv", "icbc", "gbk", "assets:bank", {"totals"}),
    ("ccb-2026-11.xlsx", "ccb", "xlsx", "assets:bank", {"totals", "note"}),
    ("abc-2026-11.csv", "abc", "utf-8", "assets:bank", {"totals"}),
    ("abc-2026-11.xls", "abc", "xls", "assets:bank", {"totals"}),
    ("boc-2026-11.csv", "boc", "gbk", "assets:bank", {"totals"}),
    ("cmb-2026-11.csv", "cmb", "utf-8", "assets:bank", {"totals"}),
    ("rural-2026-11.csv", "rural", "gbk", "assets:bank", {"totals"}),
    ("alipay-2026-11.csv", "alipay", "gbk", "assets:wallet:alipay", {"summary", "neutral"}),
    ("wechat-2026-11.csv", "wechat", "utf-8", "assets:wallet:wechat", {"summary", "neutral"}),
]


def _lines(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StatementLine)) or 0


@pytest.fixture
def wallets(session: Session) -> None:
    for key in ("assets:wallet:alipay", "assets:wallet:wechat"):
        service.open_account(session, key=key, type=AccountType.asset, currency="CNY")
    session.commit()


@pytest.mark.parametrize(("name", "preset", "encoding", "account", "skipped"), CASES)
@pytest.mark.usefixtures("wallets")
def test_each_sample_imports_unchanged_once(
    session: Session, name: str, preset: str, encoding: str, account: str, skipped: set[str]
) -> None:
    raw = (SAMPLES / name).read_bytes()
    result = bank.import_statement(session, raw=raw, account_key=account, filename=name)
    session.commit()
    assert result.new_lines == 4
    assert result.statement.preset == preset
    assert result.statement.encoding == encoding
    stored = bank.statement_lines(session, account)
    assert [line.amount for line in stored] == MONEY
    assert "HZ7KQ2MX9P" in " ".join(
        (stored[0].reference, stored[0].description, stored[0].counterparty)
    )
    parsed = bank.read_file(session, raw, account_key=account)
    assert {row.kind for row in parsed.skipped} == skipped
    again = bank.import_statement(session, raw=raw, account_key=account, filename=name)
    session.commit()
    assert again.replayed
    assert _lines(session) == 4


def test_the_bank_account_exists_from_installation(session: Session) -> None:
    account = bank.bank_account(session, "assets:bank")
    assert (account.type, account.currency) == ("asset", "CNY")
    assert service.find_account(session, "expenses:bank:fees") is not None


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("icbc-2026-11.csv", '"1,502.50",,"3,480.00"', '"1,502.50",,"3,580.00"'),
        ("rural-2026-11.csv", '总计,,"1,502.50"', '总计,,"1,512.50"'),
        ("alipay-2026-11.csv", "收入：2笔", "收入：3笔"),
    ],
)
def test_totals_that_disagree_with_the_lines_refuse_the_whole_file(
    session: Session, name: str, old: str, new: str
) -> None:
    text, encoding = bank.decode((SAMPLES / name).read_bytes())
    assert old in text
    raw = text.replace(old, new).encode("gbk" if encoding == "gbk" else "utf-8")
    with pytest.raises(bank.StatementInvalid) as refused:
        bank.import_statement(session, raw=raw, account_key="assets:bank")
    session.rollback()
    assert refused.value.errors
    assert (
        "missing or altered" in refused.value.errors[0]["msg"]
        or "summary says" in (refused.value.errors[0]["msg"])
    )
    assert _lines(session) == 0
    assert session.scalar(select(func.count()).select_from(Statement)) == 0


def test_a_line_dropped_from_the_export_is_caught_by_its_totals_row(session: Session) -> None:
    text, _ = bank.decode((SAMPLES / "boc-2026-11.csv").read_bytes())
    kept = [line for line in text.splitlines() if "2026/11/20" not in line]
    with pytest.raises(bank.StatementInvalid):
        bank.import_statement(session, raw="\n".join(kept).encode("gbk"), account_key="assets:bank")


def test_an_unknown_format_names_what_was_expected_and_the_first_lines(session: Session) -> None:
    raw = "流水号|记帐日|发生额\n0001|2026-11-03|1280\n".encode("gbk")
    with pytest.raises(bank.UnknownFormat) as refused:
        bank.import_statement(session, raw=raw, account_key="assets:bank")
    assert refused.value.status_code == 422
    assert "中国工商银行 ICBC" in refused.value.detail
    assert "流水号|记帐日|发生额" in refused.value.detail


def test_a_broken_xls_file_is_refused_with_what_to_do(session: Session) -> None:
    with pytest.raises(bank.StatementInvalid, match="xlsx or CSV"):
        bank.import_statement(
            session, raw=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, account_key="assets:bank"
        )


def test_a_statement_for_an_account_that_is_not_a_bank_account_is_422(session: Session) -> None:
    raw = (SAMPLES / "icbc-2026-11.csv").read_bytes()
    with pytest.raises(bank.NotABankAccount) as refused:
        bank.import_statement(session, raw=raw, account_key="expenses:bank:fees")
    assert refused.value.status_code == 422


def test_a_layout_mapped_by_staff_is_saved_and_recognised_next_time(session: Session) -> None:
    raw = '某某村镇银行对账单\n记帐日,发生额,对方,用途\n2026-11-03,"1,280.00",王芳,货款\n'.encode(
        "gbk"
    )
    with pytest.raises(bank.UnknownFormat):
        bank.read_file(session, raw, account_key="assets:bank")
    bank.save_preset(
        session,
        name="村镇银行",
        mapping={"date": "记帐日", "amount": "发生额", "counterparty": "对方", "reference": "用途"},
        created_by="user:1",
    )
    parsed = bank.read_file(session, raw, account_key="assets:bank")
    assert bank.preset_name(session, parsed.preset) == "村镇银行"
    assert [(line.amount, line.counterparty) for line in parsed.lines] == [(128_000, "王芳")]
    with pytest.raises(bank.PresetConflict):
        bank.save_preset(
            session,
            name="村镇银行",
            mapping={"date": "记帐日", "amount": "发生额"},
            created_by=None,
        )
    with pytest.raises(bank.StatementInvalid):
        bank.save_preset(session, name="无金额", mapping={"date": "记帐日"}, created_by=None)
