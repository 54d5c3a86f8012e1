"""queues and agents edited live: every version of each, the newest one running

Revision ID: 0010_acd_config
Revises: 0009_admin_config
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_acd_config'
down_revision = '0009_admin_config'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'acd_config_versions',
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.CheckConstraint("kind IN ('queue', 'agent')", name=op.f('ck_acd_config_versions_kind_known')),
        sa.PrimaryKeyConstraint('kind', 'name', 'version', name=op.f('pk_acd_config_versions')),
    )


def downgrade() -> None:
    op.drop_table('acd_config_versions')
