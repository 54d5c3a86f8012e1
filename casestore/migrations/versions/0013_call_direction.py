"""call direction: inbound (the customer called) or outbound (Hotline called them: follow-ups)

Revision ID: 0013_call_direction
Revises: 0012_call_segments
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_call_direction'
down_revision = '0012_call_segments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.add_column(sa.Column('direction', sa.String(length=8), server_default='inbound', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('calls') as batch:
        batch.drop_column('direction')
