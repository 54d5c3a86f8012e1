"""customers.name and customers.id_number as text: they hold AES-GCM ciphertext (key id,
nonce, tag, base64) when encryption is on, longer than the clear values (docs/security.md)

Revision ID: 0005_encryption
Revises: 0004_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005_encryption'
down_revision = '0004_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.alter_column('name', existing_type=sa.String(128), type_=sa.Text())
        batch.alter_column('id_number', existing_type=sa.String(64), type_=sa.Text())


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.alter_column('name', existing_type=sa.Text(), type_=sa.String(128))
        batch.alter_column('id_number', existing_type=sa.Text(), type_=sa.String(64))
