"""Posting: validation with nothing stored on refusal, idempotency, limits, reversals, periods."""

from datetime import date

import pytest
from sqlmodel import Session

from core.errors import Invalid
from ledger import service
from ledger.errors import (
    AccountClosed,
    AccountConflict,
    AlreadyReversed,
    CurrencyMismatch,
    EntryNotFound,
    IdempotencyConflict,
    InvalidPosting,
    LimitExceeded,
    PeriodClosed,
    UnbalancedEntry,
    UnknownAccount,
)
from ledger.models import AccountLimit, AccountType
from tests.ledger.conftest import TODAY, count_rows, spec, transfer


def test_a_balanced_entry_is_stored_with_its_postings(session: Session, post) -> None:
    result = post(
        spec(
            ("assets:clearing:stripe", "debit", 10000),
            ("liabilities:members:1:payable", "credit", 7000),
            ("equity:coops:1:collective-fund", "credit", 2000),
            ("income:enterprise:service-fees", "credit", 1000),
            kind="sale",
            memo="order 17",
            reference="order:17",
            metadata={"order": 17},
        )
    )
    assert not result.replayed
    view = service.get_entry(session, result.entry.id)
    assert view.entry.kind == "sale"
    assert view.entry.reference == "order:17"
    assert view.entry.meta == {"order": 17}
    assert [(p.account, p.side, p.amount) for p in view.postings] == [
        ("assets:clearing:stripe", "debit", 10000),
        ("liabilities:members:1:payable", "credit", 7000),
        ("equity:coops:1:collective-fund", "credit", 2000),
        ("income:enterprise:service-fees", "credit", 1000),
    ]
    assert count_rows(session) == (1, 4)
    assert service.balance(session, "assets:clearing:stripe").amount == 10000
    assert service.balance(session, "liabilities:members:1:payable").amount == 7000


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (spec(("assets:bank", "debit", 100)), UnbalancedEntry),
        (
            spec(("assets:bank", "debit", 100), ("income:enterprise:service-fees", "credit", 99)),
            UnbalancedEntry,
        ),
        (transfer("assets:bank", "income:nowhere", 100), UnknownAccount),
        (transfer("assets:bank", "income:enterprise:service-fees", 0), InvalidPosting),
        (transfer("assets:bank", "income:enterprise:service-fees", -5), InvalidPosting),
        (transfer("assets:bank", "income:enterprise:service-fees", 10.0), InvalidPosting),  # type: ignore[arg-type]
        (transfer("assets:bank", "income:enterprise:service-fees", True), InvalidPosting),
        (transfer("assets:bank", "income:enterprise:service-fees", 100, currency="usd"), Invalid),
        (
            transfer("assets:bank", "income:enterprise:service-fees", 100, currency="USD"),
            CurrencyMismatch,
        ),
        (
            spec(
                ("assets:bank:usd", "debit", 100, "USD"),
                ("income:enterprise:service-fees", "credit", 100, "CNY"),
            ),
            UnbalancedEntry,
        ),
        (transfer("liabilities:members:1:payable", "assets:bank", 1), LimitExceeded),
        (transfer("assets:bank", "income:enterprise:service-fees", 1, kind="Not A Kind"), Invalid),
        (transfer("assets:bank", "income:enterprise:service-fees", 1, key=" "), Invalid),
        (transfer("assets:bank", "income:enterprise:service-fees", 1, key="tab\tkey"), Invalid),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_stored(
    session: Session, chart, entry: service.EntrySpec, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        service.post(session, entry)
    session.rollback()
    assert getattr(raised.value, "detail", "")  # a sentence for a person
    assert count_rows(session) == (0, 0)


def test_unbalanced_message_says_by_how_much(session: Session, chart) -> None:
    with pytest.raises(UnbalancedEntry, match="debits exceed credits by 1"):
        service.post(
            session,
            spec(("assets:bank", "debit", 100), ("income:enterprise:service-fees", "credit", 99)),
        )


def test_two_currencies_each_balanced_are_accepted(session: Session, post) -> None:
    post(
        spec(
            ("assets:bank:usd", "debit", 300, "USD"),
            ("equity:opening:usd", "credit", 300, "USD"),
            ("assets:bank", "debit", 2000),
            ("income:enterprise:service-fees", "credit", 2000),
        )
    )
    totals = {t.currency: (t.debits, t.credits) for t in service.trial_balance(session).totals}
    assert totals == {"CNY": (2000, 2000), "USD": (300, 300)}


def test_a_closed_account_takes_no_postings(session: Session, post) -> None:
    service.close_account(session, "assets:bank")
    session.commit()
    with pytest.raises(AccountClosed):
        service.post(session, transfer("assets:bank", "income:enterprise:service-fees", 5))


def test_same_key_same_content_returns_the_original(session: Session, post) -> None:
    first = post(transfer("assets:bank", "income:enterprise:service-fees", 500, key="k-1"))
    again = post(transfer("assets:bank", "income:enterprise:service-fees", 500, key="k-1"))
    assert again.replayed
    assert again.entry.id == first.entry.id
    assert count_rows(session) == (1, 2)


def test_posting_order_does_not_change_the_content(session: Session, post) -> None:
    first = post(
        spec(("assets:bank", "debit", 5), ("income:enterprise:service-fees", "credit", 5), key="o")
    )
    again = post(
        spec(("income:enterprise:service-fees", "credit", 5), ("assets:bank", "debit", 5), key="o")
    )
    assert again.replayed
    assert again.entry.id == first.entry.id


def test_same_key_different_content_is_a_conflict(session: Session, post) -> None:
    post(transfer("assets:bank", "income:enterprise:service-fees", 500, key="k-2"))
    with pytest.raises(IdempotencyConflict, match="k-2"):
        service.post(
            session, transfer("assets:bank", "income:enterprise:service-fees", 501, key="k-2")
        )
    session.rollback()
    assert count_rows(session) == (1, 2)


def test_a_replay_is_answered_even_after_its_balance_was_spent(session: Session, post) -> None:
    post(transfer("assets:bank", "liabilities:members:1:payable", 100))
    payout = transfer("liabilities:members:1:payable", "assets:bank", 100, key="payout-1")
    first = post(payout)
    assert service.balance(session, "liabilities:members:1:payable").amount == 0
    again = post(payout)  # would breach the limit if it were posted again
    assert again.replayed
    assert again.entry.id == first.entry.id


def test_non_negative_limit_allows_exactly_zero_and_not_below(session: Session, post) -> None:
    post(transfer("assets:bank", "liabilities:members:1:payable", 700))
    post(transfer("liabilities:members:1:payable", "assets:bank", 700))
    assert service.balance(session, "liabilities:members:1:payable").amount == 0
    with pytest.raises(LimitExceeded, match="may not go below zero"):
        service.post(session, transfer("liabilities:members:1:payable", "assets:bank", 1))
    session.rollback()
    # Hot accounts without a limit go negative freely (an asset credited first).
    post(transfer("income:enterprise:service-fees", "assets:clearing:stripe", 50))
    assert service.balance(session, "assets:clearing:stripe").amount == -50


def test_limit_counts_the_net_effect_of_one_entry(session: Session, post) -> None:
    post(transfer("assets:bank", "liabilities:members:1:payable", 100))
    # Debit 150 and credit 60 on the same payable: net -90 from 100 leaves 10, allowed.
    post(
        spec(
            ("liabilities:members:1:payable", "debit", 150),
            ("liabilities:members:1:payable", "credit", 60),
            ("assets:bank", "credit", 90),
        )
    )
    assert service.balance(session, "liabilities:members:1:payable").amount == 10


def test_reverse_posts_the_mirror_once(session: Session, post) -> None:
    original = post(
        spec(
            ("assets:clearing:stripe", "debit", 1000),
            ("liabilities:members:1:payable", "credit", 800),
            ("income:enterprise:service-fees", "credit", 200),
            reference="order:9",
        )
    ).entry
    reversal = service.reverse(session, original.id, created_by="user:1", memo="refund")
    session.commit()
    assert reversal.reverses_id == original.id
    assert reversal.kind == "reversal"
    assert reversal.id is not None
    view = service.get_entry(session, reversal.id)
    assert [(p.account, p.side, p.amount) for p in view.postings] == [
        ("assets:clearing:stripe", "credit", 1000),
        ("liabilities:members:1:payable", "debit", 800),
        ("income:enterprise:service-fees", "debit", 200),
    ]
    assert service.get_entry(session, original.id).reversed_by == reversal.id
    for key in ("assets:clearing:stripe", "liabilities:members:1:payable"):
        assert service.balance(session, key).amount == 0
    with pytest.raises(AlreadyReversed):
        service.reverse(session, original.id)
    session.rollback()
    with pytest.raises(EntryNotFound):
        service.reverse(session, 999_999)


def test_reversal_respects_the_limit(session: Session, post) -> None:
    credit = post(transfer("assets:bank", "liabilities:members:1:payable", 100)).entry
    post(transfer("liabilities:members:1:payable", "assets:bank", 100))  # paid out
    with pytest.raises(LimitExceeded):
        service.reverse(session, credit.id)


def test_closed_period_refuses_entries_dated_in_or_before_it(session: Session, post) -> None:
    october = post(
        transfer(
            "assets:bank", "income:enterprise:service-fees", 10, on=date(2026, 10, 31), key="oct"
        )
    )
    service.close_period(session, "2026-10")
    session.commit()
    for day in (date(2026, 10, 31), date(2026, 9, 1)):
        with pytest.raises(PeriodClosed, match="2026-10"):
            service.post(
                session, transfer("assets:bank", "income:enterprise:service-fees", 5, on=day)
            )
        session.rollback()
    post(transfer("assets:bank", "income:enterprise:service-fees", 5, on=date(2026, 11, 1)))
    # A retry of an entry accepted before the close still gets its answer.
    again = post(
        transfer(
            "assets:bank", "income:enterprise:service-fees", 10, on=date(2026, 10, 31), key="oct"
        )
    )
    assert again.replayed
    assert again.entry.id == october.entry.id
    # Closing again is harmless; a malformed period is refused.
    assert service.close_period(session, "2026-10").period == "2026-10"
    with pytest.raises(Invalid):
        service.close_period(session, "2026-13")


def test_reversing_an_entry_of_a_closed_period_posts_today(session: Session, post) -> None:
    old = post(
        transfer("assets:bank", "income:enterprise:service-fees", 10, on=date(2026, 1, 5))
    ).entry
    service.close_period(session, "2026-01")
    session.commit()
    reversal = service.reverse(session, old.id)
    assert reversal.effective_date > date(2026, 1, 31)


def test_open_account_is_idempotent_and_refuses_a_different_account(session: Session) -> None:
    first = service.open_account(
        session, key="assets:bank", type=AccountType.asset, currency="CNY", name="Bank"
    )
    again = service.open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    assert again.id == first.id
    with pytest.raises(AccountConflict):
        service.open_account(session, key="assets:bank", type=AccountType.asset, currency="USD")
    with pytest.raises(Invalid, match="must have a key starting with 'income:'"):
        service.open_account(session, key="assets:fees", type=AccountType.income, currency="CNY")
    with pytest.raises(Invalid):
        service.open_account(session, key="Assets Bank", type=AccountType.asset, currency="CNY")
    member = service.open_account(
        session,
        key="liabilities:members:7:payable",
        type=AccountType.liability,
        currency="CNY",
        limit=AccountLimit.non_negative,
        party="household:7",
    )
    assert member.limit == "non_negative"
    assert member.party == "household:7"
    # An existing account is not quietly handed out without the limit or to another party.
    with pytest.raises(AccountConflict, match="limit"):
        service.open_account(
            session, key="liabilities:members:7:payable", type=AccountType.liability, currency="CNY"
        )
    with pytest.raises(AccountConflict, match="household:7"):
        service.open_account(
            session,
            key="liabilities:members:7:payable",
            type=AccountType.liability,
            currency="CNY",
            limit=AccountLimit.non_negative,
            party="household:8",
        )


def test_entry_date_defaults_nothing(session: Session, post) -> None:
    result = post(transfer("assets:bank", "income:enterprise:service-fees", 1))
    assert result.entry.effective_date == TODAY
    assert result.entry.created_at.tzinfo is not None
