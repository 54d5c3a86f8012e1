"""menus and their versions, the active version per menu, runtime settings (emergency)

Revision ID: 0006_durable_state
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006_durable_state'
down_revision = '0005_encryption'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'menu_versions',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=512), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'version', name=op.f('pk_menu_versions')),
    )
    op.create_table(
        'menu_active',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.Double(), nullable=False),
        sa.Column('changed_by', sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_menu_active')),
    )
    op.create_table(
        'runtime_settings',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('changed_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_runtime_settings')),
    )


def downgrade() -> None:
    op.drop_table('runtime_settings')
    op.drop_table('menu_active')
    op.drop_table('menu_versions')
