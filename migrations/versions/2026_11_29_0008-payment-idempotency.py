"""payment idempotency: manual payments keep their Idempotency-Key and request hash on the payment
row (unique per order) instead of as "manual" notices in the webhook inbox.

Legacy notices (provider "manual", id "manual:<order>:<key hash>") only kept a hash of the key, so
they move over with that id as their key: the payment keeps its request hash and the key stays
unique, but a retry of such a key after the upgrade is not recognised. Downgrade moves keys back
into the inbox in the old form.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 02:30:00.000000
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

payments = sa.table(
    "order_payments",
    sa.column("id", sa.Integer()),
    sa.column("order_id", sa.Integer()),
    sa.column("idempotency_key", sa.String()),
    sa.column("request_hash", sa.String()),
    sa.column("created_at", ledger.base.UTCDateTime()),
)
inbox = sa.table(
    "payment_webhook_events",
    sa.column("provider", sa.String()),
    sa.column("event_id", sa.String()),
    sa.column("type", sa.String()),
    sa.column("payload", sa.Text()),
    sa.column("received_at", ledger.base.UTCDateTime()),
    sa.column("handled_at", ledger.base.UTCDateTime()),
)


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX: SQLite needs no table rebuild (a rebuild would drop
    # order_payments, which order_refunds references, and fail its foreign key).
    op.add_column("order_payments", sa.Column("idempotency_key", sa.String(length=255)))
    op.add_column("order_payments", sa.Column("request_hash", sa.String(length=64)))
    op.create_index(
        "uq_order_payments_order_id_idempotency_key",
        "order_payments",
        ["order_id", "idempotency_key"],
        unique=True,
    )

    connection = op.get_bind()
    notices = connection.execute(
        sa.select(inbox.c.event_id, inbox.c.payload).where(inbox.c.provider == "manual")
    ).all()
    for event_id, payload in notices:
        stored = json.loads(payload)
        connection.execute(
            payments.update()
            .where(payments.c.id == int(stored["payment_id"]))
            .values(idempotency_key=event_id, request_hash=stored["request_hash"])
        )
    connection.execute(inbox.delete().where(inbox.c.provider == "manual"))


def downgrade() -> None:
    connection = op.get_bind()
    keyed = connection.execute(
        sa.select(
            payments.c.id,
            payments.c.order_id,
            payments.c.idempotency_key,
            payments.c.request_hash,
            payments.c.created_at,
        ).where(payments.c.idempotency_key.is_not(None))
    ).all()
    for payment_id, order_id, key, digest, created_at in keyed:
        if key.startswith(f"manual:{order_id}:"):
            event_id = key  # moved here by upgrade(); goes back as it was
        else:
            event_id = f"manual:{order_id}:{hashlib.sha256(key.encode()).hexdigest()[:48]}"
        connection.execute(
            inbox.insert().values(
                provider="manual",
                event_id=event_id,
                type="manual_payment",
                payload=json.dumps({"request_hash": digest, "payment_id": payment_id}),
                received_at=created_at,
                handled_at=created_at,
            )
        )

    op.drop_index("uq_order_payments_order_id_idempotency_key", table_name="order_payments")
    op.drop_column("order_payments", "request_hash")
    op.drop_column("order_payments", "idempotency_key")
