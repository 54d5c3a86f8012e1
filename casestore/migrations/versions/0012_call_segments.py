"""call segments: who talked when on a call (transfers, consultations, conferences)

Revision ID: 0012_call_segments
Revises: 0010_acd_config
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012_call_segments'
down_revision = '0010_acd_config'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_segments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('call_id', sa.String(length=64), nullable=False),
        sa.Column('party', sa.String(length=80), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=True),
        sa.Column('started_at', sa.Double(), nullable=False),
        sa.Column('ended_at', sa.Double(), nullable=False),
        sa.Column('talk_seconds', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_segments')),
        sa.UniqueConstraint('call_id', 'party', 'started_at', name='uq_call_segments_key'),
    )
    op.create_index(op.f('ix_call_segments_call_id'), 'call_segments', ['call_id'], unique=False)
    op.create_index(op.f('ix_call_segments_started_at'), 'call_segments', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_segments_started_at'), table_name='call_segments')
    op.drop_index(op.f('ix_call_segments_call_id'), table_name='call_segments')
    op.drop_table('call_segments')
