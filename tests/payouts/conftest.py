"""Payout test helpers: cooperatives and households through the catalog, income posted directly."""

import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlmodel import Session

from catalog.models import Cooperative, Household
from ledger import service
from ledger.models import AccountType, Side
from tests.catalog.factories import create_coop, create_household

NOV = date(2026, 11, 20)
CLEARING = "assets:clearing:manual"


def open_chart(session: Session, currency: str = "CNY") -> None:
    for key, kind in (
        (CLEARING, AccountType.asset),
        ("assets:bank", AccountType.asset),
        ("liabilities:buyers:deposits", AccountType.liability),
        ("expenses:bank:fees", AccountType.expense),
        ("expenses:payments:processing-fees", AccountType.expense),
    ):
        service.open_account(session, key=key, type=kind, currency=currency)


def earn(session: Session, household: Household, amount: int, *, on: date = NOV) -> int:
    """A settled share for the household: Dr manual clearing / Cr its payable."""
    result = service.post(
        session,
        service.EntrySpec(
            kind="sale",
            effective_date=on,
            postings=(
                service.PostingSpec(CLEARING, Side.debit, amount, "CNY"),
                service.PostingSpec(
                    f"liabilities:members:{household.id}:payable", Side.credit, amount, "CNY"
                ),
            ),
            idempotency_key=f"test-earn:{uuid.uuid4().hex}",
            memo="share of a sale",
            metadata={"household": household.id},
        ),
    )
    assert result.entry.id is not None
    return result.entry.id


@pytest.fixture
def coop(session: Session) -> Cooperative:
    open_chart(session)
    made = create_coop(session, code="SJ")
    session.commit()
    return made


HouseholdFactory = Callable[..., Household]


@pytest.fixture
def household(session: Session, coop: Cooperative) -> HouseholdFactory:
    def make(**fields: object) -> Household:
        made = create_household(session, coop=coop, **fields)
        session.commit()
        return made

    return make
