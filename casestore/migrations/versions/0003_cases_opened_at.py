"""cases.opened_at index: the service report reads the cases opened in a time range

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cases_opened_at', 'cases', ['opened_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_opened_at', table_name='cases')
