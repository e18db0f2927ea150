"""Reads: balances now and as of a date, by prefix, statements with running balance, trial balance."""

from datetime import date

import pytest
from sqlmodel import Session

from core.errors import Invalid
from ledger import service
from ledger.errors import AccountNotFound
from tests.ledger.conftest import transfer


@pytest.fixture
def history(post) -> None:
    post(
        transfer(
            "assets:bank", "liabilities:members:1:payable", 1000, on=date(2026, 11, 1), memo="a"
        )
    )
    post(
        transfer(
            "assets:bank", "liabilities:members:2:payable", 300, on=date(2026, 11, 2), memo="b"
        )
    )
    post(
        transfer(
            "liabilities:members:1:payable", "assets:bank", 400, on=date(2026, 11, 3), memo="c"
        )
    )
    post(
        transfer("assets:bank", "liabilities:members:1:payable", 50, on=date(2026, 11, 5), memo="d")
    )
    # Back-dated: sorts before the 3rd in the statement although posted last.
    post(
        transfer("assets:bank", "liabilities:members:1:payable", 7, on=date(2026, 11, 2), memo="e")
    )


def test_balance_now_and_as_of(session: Session, history) -> None:
    now = service.balance(session, "liabilities:members:1:payable")
    assert (now.amount, now.debits, now.credits, now.currency) == (657, 400, 1057, "CNY")
    assert (
        service.balance(session, "liabilities:members:1:payable", as_of=date(2026, 11, 2)).amount
        == 1007
    )
    assert (
        service.balance(session, "liabilities:members:1:payable", as_of=date(2026, 10, 31)).amount
        == 0
    )
    bank = service.balance(session, "assets:bank", as_of=date(2026, 11, 3))
    assert bank.amount == 1000 + 300 + 7 - 400  # an asset: debits minus credits
    with pytest.raises(AccountNotFound):
        service.balance(session, "assets:nowhere")


def test_balance_by_prefix(session: Session, history) -> None:
    assert service.balance_by_prefix(session, "liabilities:members", currency="CNY") == 957
    assert service.balance_by_prefix(session, "liabilities:members:", currency="CNY") == 957
    assert service.balance_by_prefix(session, "liabilities:members:1", currency="CNY") == 657
    assert (
        service.balance_by_prefix(
            session, "liabilities:members", currency="CNY", as_of=date(2026, 11, 1)
        )
        == 1000
    )
    assert service.balance_by_prefix(session, "liabilities:members", currency="USD") == 0
    # A prefix matches whole components only.
    assert service.balance_by_prefix(session, "assets:ban", currency="CNY") == 0
    assert service.balance_by_prefix(session, "assets:bank", currency="CNY") == 957


def test_statement_pages_carry_the_running_balance(session: Session, history) -> None:
    first = service.statement(session, "liabilities:members:1:payable", limit=2)
    assert [(line.memo, line.side, line.amount, line.running_balance) for line in first.lines] == [
        ("a", "credit", 1000, 1000),
        ("e", "credit", 7, 1007),
    ]
    assert first.next_cursor is not None
    second = service.statement(
        session, "liabilities:members:1:payable", after=first.next_cursor, limit=2
    )
    assert [(line.memo, line.running_balance) for line in second.lines] == [("c", 607), ("d", 657)]
    assert second.next_cursor is None
    assert (
        second.lines[-1].running_balance
        == service.balance(session, "liabilities:members:1:payable").amount
    )
    with pytest.raises(Invalid):
        service.statement(session, "liabilities:members:1:payable", after="garbage")


def test_trial_balance_sums_to_zero_per_currency(session: Session, history, post) -> None:
    post(
        transfer("assets:bank:usd", "equity:opening:usd", 25, currency="USD", on=date(2026, 11, 4))
    )
    report = service.trial_balance(session)
    totals = {t.currency: (t.debits, t.credits) for t in report.totals}
    assert totals == {"CNY": (1757, 1757), "USD": (25, 25)}
    by_key = {line.key: line for line in report.accounts}
    assert by_key["assets:bank"].balance == 957
    assert by_key["liabilities:members:1:payable"].balance == 657
    assert by_key["income:enterprise:service-fees"].balance == 0  # listed although untouched
    as_of = service.trial_balance(session, as_of=date(2026, 11, 2))
    assert {t.currency: (t.debits, t.credits) for t in as_of.totals} == {
        "CNY": (1307, 1307),
        "USD": (0, 0),
    }


def test_list_accounts_by_prefix_with_balances(session: Session, history) -> None:
    accounts = service.list_accounts(session, prefix="liabilities:members")
    assert [a.key for a in accounts] == [
        "liabilities:members:1:payable",
        "liabilities:members:2:payable",
    ]
    balances = service.balances_of(session, accounts)
    assert [balances[a.id or 0] for a in accounts] == [657, 300]
    page = service.list_accounts(session, after_key="liabilities:members:1:payable", limit=1)
    assert [a.key for a in page] == ["liabilities:members:2:payable"]
