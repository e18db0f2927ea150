"""posting attribution: each posting carries the cooperative, household and order line it belongs to.

Nullable `coop_id`, `household_id` and `order_line_id` on `ledger_postings` (opaque keys: the
ledger imports no domain). Existing postings are attributed from what the books already say, and
nothing new is posted:

- a member payable's postings: its household (from the key) and that household's cooperative;
- a cooperative fund's postings: its cooperative (from the key);
- every posting of an order's entries (payment, fee, sale, refund and their reversals) but the
  clearing one when all the order's lines belong to one cooperative (and its line, when the order
  has one line);
- payout holds, confirmations and failures: the batch's cooperative and the line's household;
- tuition deductions and seat financing: the enrolment's household and cooperative;
- Stripe fee entries: through the payment intent's order, as for an order's own entries.

Postings of an order spanning several cooperatives that were merged across them before this
revision (the enterprise's credit, the buyer's deposit, the fee) stay unattributed: splitting them
would change what the entry says. Reports show them as unattributed.

The append-only trigger on postings is lifted for this one backfill of the new columns only.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:30:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("coop_id", "household_id", "order_line_id")
# An order's clearing posting (the money as the bank or Stripe shows it) stays one unattributed
# posting, as the posting code writes it.
NOT_CLEARING = (
    "account_id NOT IN (SELECT id FROM ledger_accounts WHERE key LIKE 'assets:clearing:%')"
)
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings "
    "BEGIN SELECT RAISE(ABORT, 'UPDATE on ledger_postings refused: the ledger is "
    "append-only'); END"
)


def _lift_append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_postings DISABLE TRIGGER ledger_postings_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_no_update")


def _restore_append_only() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_postings ENABLE TRIGGER ledger_postings_append_only")
    else:
        op.execute(SQLITE_NO_UPDATE)


def _attribute(
    bind: sa.Connection, where: str, params: dict[str, int], values: dict[str, int | None]
) -> None:
    sets = ", ".join(f"{name} = COALESCE({name}, :v_{name})" for name in values)
    bind.execute(
        sa.text(f"UPDATE ledger_postings SET {sets} WHERE {where}"),
        {**params, **{f"v_{name}": value for name, value in values.items()}},
    )


def _key_tail(key: str, index: int) -> int | None:
    parts = key.split(":")
    return int(parts[index]) if len(parts) > index and parts[index].isdigit() else None


def _backfill_accounts(bind: sa.Connection) -> None:
    household_coop: dict[int, int] = {
        int(h): int(c) for h, c in bind.execute(sa.text("SELECT id, coop_id FROM households")).all()
    }
    for account_id, key in bind.execute(sa.text("SELECT id, key FROM ledger_accounts")).all():
        if key.startswith("liabilities:members:"):
            household = _key_tail(key, 2)
            if household is not None:
                values = {"household_id": household, "coop_id": household_coop.get(household)}
                _attribute(bind, "account_id = :a", {"a": account_id}, values)
        elif key.startswith("equity:coops:"):
            coop = _key_tail(key, 2)
            if coop is not None:
                _attribute(bind, "account_id = :a", {"a": account_id}, {"coop_id": coop})


def _order_owner(lines: list[tuple[int, int]]) -> dict[str, int | None] | None:
    coops = {coop for _line, coop in lines}
    if len(coops) != 1:
        return None
    return {"coop_id": coops.pop(), "order_line_id": lines[0][0] if len(lines) == 1 else None}


def _backfill_orders(bind: sa.Connection) -> None:
    lines: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for line_id, order_id, coop_id in bind.execute(
        sa.text("SELECT id, order_id, coop_id FROM order_lines ORDER BY id")
    ).all():
        lines[order_id].append((line_id, coop_id))
    for entry_id, reference in bind.execute(
        sa.text("SELECT id, reference FROM ledger_entries WHERE reference LIKE 'order:%'")
    ).all():
        order = _key_tail(reference, 1)
        owner = _order_owner(lines.get(order, [])) if order is not None else None
        if owner is not None:
            _attribute(bind, f"entry_id = :e AND {NOT_CLEARING}", {"e": entry_id}, owner)
    for entry_id, order in bind.execute(
        sa.text(
            "SELECT t.posted_entry_id, p.order_id FROM stripe_balance_transactions t "
            "JOIN order_payments p ON p.payment_intent_id = t.payment_intent_id "
            "WHERE t.posted_entry_id IS NOT NULL AND t.type <> 'payout'"
        )
    ).all():
        owner = _order_owner(lines.get(order, []))
        if owner is not None:
            _attribute(bind, f"entry_id = :e AND {NOT_CLEARING}", {"e": entry_id}, owner)


def _backfill_payouts_and_training(bind: sa.Connection) -> None:
    for hold, paid, failed, household, coop in bind.execute(
        sa.text(
            "SELECT l.hold_entry_id, l.paid_entry_id, l.failed_entry_id, l.household_id, "
            "b.coop_id FROM payout_lines l JOIN payout_batches b ON b.id = l.batch_id"
        )
    ).all():
        for entry_id in (hold, paid, failed):
            if entry_id is not None:
                values = {"coop_id": coop, "household_id": household}
                _attribute(bind, "entry_id = :e", {"e": entry_id}, values)
    enrolments = {
        f"enrolment:{e}": (h, c)
        for e, h, c in bind.execute(
            sa.text("SELECT id, household_id, coop_id FROM training_enrolments")
        ).all()
    }
    for entry_id, reference in bind.execute(
        sa.text("SELECT id, reference FROM ledger_entries WHERE reference LIKE 'enrolment:%'")
    ).all():
        if reference in enrolments:
            household, coop = enrolments[reference]
            values = {"coop_id": coop, "household_id": household}
            _attribute(bind, "entry_id = :e", {"e": entry_id}, values)


def upgrade() -> None:
    # Plain ADD COLUMN (no batch rebuild) keeps the table and its triggers.
    for name in COLUMNS:
        op.add_column("ledger_postings", sa.Column(name, sa.Integer(), nullable=True))
        op.create_index(f"ix_ledger_postings_{name}", "ledger_postings", [name])
    bind = op.get_bind()
    _lift_append_only()
    _backfill_accounts(bind)
    _backfill_orders(bind)
    _backfill_payouts_and_training(bind)
    _restore_append_only()


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_index(f"ix_ledger_postings_{name}", table_name="ledger_postings")
        # A plain DROP COLUMN (SQLite ≥ 3.35 and PostgreSQL) keeps the table and its triggers.
        op.execute(f"ALTER TABLE ledger_postings DROP COLUMN {name}")
