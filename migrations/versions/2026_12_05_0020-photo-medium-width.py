"""photo medium width: a 720 px rendition of each product photo, for phones (`srcset`).

Existing photos keep their two renditions (the column is empty; pages offer those two).

Revision ID: 0020
Revises: 0021 (chained after main's 0021 at the rebase)
Create Date: 2026-12-05 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("product_photos", sa.Column("medium_path", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("product_photos", "medium_path")
