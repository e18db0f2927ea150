"""The issue's "Done when" scenario, built with ledger postings directly (the orders flow is another
helper's work in progress): 3 cooperatives, 30 households, 500 orders (card and manual) with Stripe
fees, two payout batches, and a bank statement with one payout missing and one unexpected line.
It reconciles to exactly those two differences; once resolved the month closes and the trial
balance sums to zero."""

import random
import uuid
from datetime import date

import pytest
from sqlmodel import Session

from catalog.models import Cooperative, Household
from catalog.payout_details import confirm_payout_line, create_coop_batch
from ledger import bank, reconciliation, service
from ledger.allocation import allocate
from ledger.errors import PeriodClosed
from ledger.models import AccountType, Side
from tests.catalog.factories import create_coop, create_household
from tests.payouts.conftest import open_chart

CNY = "CNY"
BANK = "assets:bank"
DEPOSITS = "liabilities:buyers:deposits"
STRIPE = "assets:clearing:stripe"
MANUAL = "assets:clearing:manual"


def post(
    session: Session, kind: str, on: date, *lines: tuple[str, Side, int], **kw: object
) -> None:
    service.post(
        session,
        service.EntrySpec(
            kind=kind,
            effective_date=on,
            postings=tuple(service.PostingSpec(a, s, n, CNY) for a, s, n in lines if n),
            idempotency_key=f"scenario:{uuid.uuid4().hex}",
            **kw,  # type: ignore[arg-type]
        ),
    )


def build_world(session: Session) -> tuple[list[Cooperative], dict[int, list[Household]]]:
    open_chart(session)
    for key, kind in (
        (STRIPE, AccountType.asset),
        ("income:enterprise:service-fees", AccountType.income),
    ):
        service.open_account(session, key=key, type=kind, currency=CNY)
    coops = [create_coop(session, code=code) for code in ("SJ", "HS", "LQ")]
    households: dict[int, list[Household]] = {}
    for coop in coops:
        assert coop.id is not None
        for key in ("collective-fund", "training-fund"):
            service.open_account(
                session, key=f"equity:coops:{coop.id}:{key}", type=AccountType.equity, currency=CNY
            )
        households[coop.id] = [create_household(session, coop=coop) for _ in range(10)]
    session.commit()
    return coops, households


def sell(session: Session, coops: list[Cooperative], households: dict[int, list[Household]]) -> int:
    """500 orders in November; returns what Stripe paid out (card money net of fees)."""
    rng = random.Random(42)
    stripe_net = 0
    manual_total = 0
    for number in range(500):
        coop = coops[number % 3]
        assert coop.id is not None
        total = rng.randrange(2_000, 30_000)
        on = date(2026, 11, 1 + number % 25)
        card = number % 2 == 0
        clearing = STRIPE if card else MANUAL
        post(session, "payment", on, (clearing, Side.debit, total), (DEPOSITS, Side.credit, total))
        producers, fund, training, enterprise = allocate(total, [7000, 1000, 1000, 1000])
        makers = rng.sample(households[coop.id], 2)
        shares = allocate(producers, [rng.randrange(1, 5), rng.randrange(1, 5)])
        post(
            session,
            "sale",
            on,
            (DEPOSITS, Side.debit, total),
            *(
                (f"liabilities:members:{h.id}:payable", Side.credit, s)
                for h, s in zip(makers, shares, strict=True)
            ),
            (f"equity:coops:{coop.id}:collective-fund", Side.credit, fund),
            (f"equity:coops:{coop.id}:training-fund", Side.credit, training),
            ("income:enterprise:service-fees", Side.credit, enterprise),
        )
        if card:
            fee = total * 6 // 1000  # 0.6 %
            post(
                session,
                "fee",
                on,
                ("expenses:payments:processing-fees", Side.debit, fee),
                (STRIPE, Side.credit, fee),
            )
            stripe_net += total - fee
        else:
            manual_total += total
    post(
        session,
        "payout",
        date(2026, 11, 26),
        (BANK, Side.debit, stripe_net),
        (STRIPE, Side.credit, stripe_net),
        reference="po_stripe_nov",
    )
    post(
        session,
        "deposit",
        date(2026, 11, 26),
        (BANK, Side.debit, manual_total),
        (MANUAL, Side.credit, manual_total),
        reference="DEP-NOV",
    )
    session.commit()
    return stripe_net


def test_done_when(session: Session) -> None:
    coops, households = build_world(session)
    stripe_net = sell(session, coops, households)
    manual_total = service.balance(session, BANK).amount - stripe_net

    # Two payout batches (the first two cooperatives), every line confirmed with its own reference.
    paid: list[tuple[str, int]] = []
    for coop in coops[:2]:
        assert coop.id is not None
        result = create_coop_batch(
            session,
            coop_id=coop.id,
            period="2026-11",
            currency=CNY,
            minimum=1000,
            effective_date=date(2026, 11, 28),
            created_by="staff",
        )
        assert len(result.lines) == 10
        for line in result.lines:
            assert line.id is not None
            reference = f"PAY-{line.id:04d}"
            confirm_payout_line(
                session,
                line_id=line.id,
                bank_reference=reference,
                paid_on=date(2026, 11, 29),
                decided_by="staff",
            )
            paid.append((reference, line.amount))
    session.commit()
    assert len(paid) == 20

    # The bank's statement: the deposits, 19 of the 20 payouts, and a bank charge we never booked.
    missing_reference, missing_amount = paid[7]
    rows = [
        f"2026-11-26,{stripe_net / 100:.2f},CNY,po_stripe_nov,Stripe,payout",
        f"2026-11-26,{manual_total / 100:.2f},CNY,DEP-NOV,buyers,transfers",
    ]
    rows += [
        f"2026-11-30,-{amount / 100:.2f},CNY,{reference},member,"
        for reference, amount in paid
        if reference != missing_reference
    ]
    rows.append("2026-11-30,-15.00,CNY,FEE-1130,bank,monthly account fee")
    raw = ("date,amount,currency,reference,counterparty,description\n" + "\n".join(rows)).encode()
    imported = bank.import_statement(session, raw=raw, account_key=BANK, filename="nov.csv")
    assert imported.new_lines == 22
    bank.auto_match(session, account_key=BANK)
    session.commit()

    view = reconciliation.reconcile(session, account_key=BANK, period="2026-11")
    differences = view.unexplained
    assert [(d.side, d.amount, d.reference) for d in differences] == [
        ("ledger", -missing_amount, missing_reference),
        ("statement", -1500, "FEE-1130"),
    ]
    assert view.difference == -missing_amount + 1500
    with pytest.raises(reconciliation.UnexplainedDifferences):
        reconciliation.close_reconciled_period(session, period="2026-11")
    session.rollback()

    # Resolve: book the bank fee (matched to its new entry), explain the payout in transit.
    fee_line = next(d for d in differences if d.side == "statement")
    bank.post_line_adjustment(
        session, line_id=fee_line.id, counter_account="expenses:bank:fees", memo="monthly fee"
    )
    missing = next(d for d in differences if d.side == "ledger")
    reconciliation.explain(
        session,
        account_key=BANK,
        period="2026-11",
        posting_id=missing.id,
        reason="in transit: the bank shows it on 2026-12-01",
    )
    closed = reconciliation.close_reconciled_period(session, period="2026-11", closed_by="staff")
    session.commit()
    (final,) = closed
    assert final.unexplained == []
    assert final.difference == -missing_amount

    trial = service.trial_balance(session)
    (total,) = trial.totals
    assert total.debits == total.credits
    assert sum(line.debits - line.credits for line in trial.accounts) == 0
    with pytest.raises(PeriodClosed):
        post(
            session,
            "adjustment",
            date(2026, 11, 30),
            (BANK, Side.debit, 1),
            (MANUAL, Side.credit, 1),
        )
