"""coop bank account: where a cooperative that receives bank transfers directly is paid.

Existing cooperatives get empty values (they use the marketplace's account from the settings).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-04 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("bank_payee", 100), ("bank_name", 100), ("bank_account", 50))


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite ≥ 3.35 has both): a batch copy would drop and re-create
    # `coops`, which every other table references, and fail on a database with data.
    for name, length in COLUMNS:
        op.add_column(
            "coops", sa.Column(name, sa.String(length=length), nullable=False, server_default="")
        )


def downgrade() -> None:
    for name, _length in reversed(COLUMNS):
        op.drop_column("coops", name)
