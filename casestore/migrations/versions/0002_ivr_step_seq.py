"""ivr_steps.seq: the interpreter's step / attempt number in the steps' unique key

Two steps of one call with the same node, kind and time (a virtual clock, a retry answered
at once) were taken as one. `seq` is the node visit's number for `entered`, the attempt for
an input, the step count for `outcome` (0 for steps written without one), and joins the key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('uq_ivr_steps_key', type_='unique')
        batch_op.create_unique_constraint('uq_ivr_steps_key', ['call_id', 'at', 'node', 'kind', 'seq'])


def downgrade() -> None:
    # Steps told apart only by `seq` would break the old key: keep the first of each.
    op.execute(
        "DELETE FROM ivr_steps WHERE id NOT IN "
        "(SELECT MIN(id) FROM ivr_steps GROUP BY call_id, at, node, kind)"
    )
    with op.batch_alter_table('ivr_steps', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ivr_steps_key', type_='unique')
        batch_op.create_unique_constraint('uq_ivr_steps_key', ['call_id', 'at', 'node', 'kind'])
        batch_op.drop_column('seq')
