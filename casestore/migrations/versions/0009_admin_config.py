"""admin config: live settings that survive a restart (the emergency override)

Revision ID: 0009_admin_config
Revises: 0004_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_admin_config'
down_revision = '0008_service'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'live_settings',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.Double(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_live_settings')),
    )


def downgrade() -> None:
    op.drop_table('live_settings')
