"""Migration 0010 keeps the data: closed months become close events (and back), existing payout
lines get their payee from the household, and the downgrade keeps the months closed then."""

from datetime import date

from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session

from api.migrations import alembic_config
from catalog.models import Household
from ledger import periods
from tests.catalog.factories import create_coop, create_household
from tests.payouts.conftest import earn, open_chart


def _scalar_rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_upgrade_and_downgrade_keep_closed_months_and_payees(
    session: Session, engine: Engine, database_url: str
) -> None:
    open_chart(session)
    coop = create_coop(session, code="SJ")
    member = create_household(
        session, coop=coop, payout_method="alipay", payout_account="sj-0001@pay.demo"
    )
    earn(session, member, 5_000, on=date(2026, 10, 3))
    periods.close_period(session, "2026-09", closed_by="user:1")
    periods.close_period(session, "2026-10", closed_by="user:1")
    periods.reopen_period(session, "2026-10", reopened_by="user:2", reason="late line")
    session.commit()
    engine.dispose()

    config = alembic_config(database_url)
    command.downgrade(config, "0013")
    # Only the month closed at that moment is kept closed.
    assert _scalar_rows(engine, "SELECT period, closed_by FROM ledger_closed_periods") == [
        ("2026-09", "user:1")
    ]
    # A payout line made before 0010, then the household's details change.
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO payout_batches (id, coop_id, period, currency, minimum_amount, "
                "effective_date, status, created_at) VALUES "
                f"(1, {coop.id}, '2026-10', 'CNY', 100, '2026-11-01', 'open', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO payout_lines (batch_id, household_id, payable_account, amount, "
                "currency, status, hold_entry_id, failure_reason) VALUES "
                f"(1, {member.id}, 'liabilities:members:{member.id}:payable', 5000, 'CNY', "
                "'pending', 1, '')"
            )
        )
    engine.dispose()
    command.upgrade(config, "head")
    engine.dispose()
    assert _scalar_rows(
        engine, "SELECT period, action, by FROM ledger_period_events ORDER BY id"
    ) == [("2026-09", "close", "user:1")]
    assert _scalar_rows(
        engine,
        "SELECT payee_member_code, payee_method, payee_account, held_change_id FROM payout_lines",
    ) == [(member.member_code, "alipay", "sj-0001@pay.demo", None)]
    session.rollback()
    assert periods.closed_through(session) == "2026-09"
    assert session.get(Household, member.id) is not None
