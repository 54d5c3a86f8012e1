"""casework: resolution codes of cases and the history of their status changes

Revision ID: 0007_casework
Revises: 0004_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007_casework'
down_revision = '0006_durable_state'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('resolution_code', sa.String(length=64), nullable=True))
    op.create_table(
        'case_status_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.Double(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=False),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('resolution_code', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ['case_id'], ['cases.id'], name=op.f('fk_case_status_changes_case_id_cases'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_changes')),
    )
    op.create_index(
        op.f('ix_case_status_changes_case_id'), 'case_status_changes', ['case_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_case_status_changes_case_id'), table_name='case_status_changes')
    op.drop_table('case_status_changes')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('resolution_code')
