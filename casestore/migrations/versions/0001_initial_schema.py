"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('agent_pauses',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.Double(), nullable=False),
    sa.Column('ended_at', sa.Double(), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('agent_id', 'started_at', name=op.f('pk_agent_pauses'))
    )
    op.create_table('agent_sessions',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('login_at', sa.Double(), nullable=False),
    sa.Column('logout_at', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('agent_id', 'login_at', name=op.f('pk_agent_sessions'))
    )
    op.create_table('case_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_case_counters'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=128), nullable=True),
    sa.Column('id_number', sa.String(length=64), nullable=True),
    sa.Column('tier', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('last_seen_at', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('phone', name=op.f('uq_customers_phone'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_last_seen_at'), ['last_seen_at'], unique=False)

    op.create_table('ivr_steps',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('input', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_steps')),
    sa.UniqueConstraint('call_id', 'at', 'node', 'kind', name='uq_ivr_steps_key')
    )
    op.create_table('recordings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.String(length=512), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('duration', sa.Double(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Double(), nullable=False),
    sa.Column('retain_until', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
    sa.UniqueConstraint('uri', name=op.f('uq_recordings_uri'))
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recordings_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_retain_until'), ['retain_until'], unique=False)

    op.create_table('survey_answers',
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('question', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_survey_answers_score_range')),
    sa.PrimaryKeyConstraint('call_id', 'question', name=op.f('pk_survey_answers'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.Double(), nullable=False),
    sa.Column('due_at', sa.Double(), nullable=False),
    sa.Column('updated_at', sa.Double(), nullable=False),
    sa.Column('resolved_at', sa.Double(), nullable=True),
    sa.Column('closed_at', sa.Double(), nullable=True),
    sa.Column('assigned_agent', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('origin_call_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cases_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number')),
    sa.UniqueConstraint('origin_call_id', name=op.f('uq_cases_origin_call_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_customer_opened', ['customer_id', 'opened_at'], unique=False)
        batch_op.create_index('ix_cases_status_due', ['status', 'due_at'], unique=False)

    op.create_table('calls',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=True),
    sa.Column('caller', sa.String(length=64), nullable=True),
    sa.Column('dialed', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('tier', sa.String(length=32), nullable=True),
    sa.Column('started_at', sa.Double(), nullable=True),
    sa.Column('queued_at', sa.Double(), nullable=True),
    sa.Column('answered_at', sa.Double(), nullable=True),
    sa.Column('ended_at', sa.Double(), nullable=True),
    sa.Column('wait_seconds', sa.Double(), nullable=True),
    sa.Column('talk_seconds', sa.Double(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('disposition', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_calls_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_caller', ['caller'], unique=False)
        batch_op.create_index('ix_calls_case_id', ['case_id'], unique=False)
        batch_op.create_index('ix_calls_ended_at', ['ended_at'], unique=False)
        batch_op.create_index('ix_calls_started_at', ['started_at'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('at', sa.Double(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_started_at')
        batch_op.drop_index('ix_calls_ended_at')
        batch_op.drop_index('ix_calls_case_id')
        batch_op.drop_index('ix_calls_caller')

    op.drop_table('calls')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_due')
        batch_op.drop_index('ix_cases_customer_opened')

    op.drop_table('cases')
    op.drop_table('survey_answers')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_retain_until'))
        batch_op.drop_index(batch_op.f('ix_recordings_call_id'))

    op.drop_table('recordings')
    op.drop_table('ivr_steps')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_last_seen_at'))

    op.drop_table('customers')
    op.drop_table('case_counters')
    op.drop_table('agent_sessions')
    op.drop_table('agent_pauses')

