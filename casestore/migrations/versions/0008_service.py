"""service process: teams and members, case routing, customer messages, survey invitations,
contact preferences, message templates, follow-up tasks; survey answers gain their channel

Revision ID: 0008_service
Revises: 0004_accounts
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_service'
down_revision = '0007_casework'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('name', name=op.f('uq_teams_name')),
    )
    op.create_table(
        'team_members',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('skills', sa.Text(), nullable=False),
        sa.Column('lead', sa.Boolean(), nullable=False),
        sa.Column('notify_email', sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_members_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_members')),
    )
    op.create_table(
        'case_routing',
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('assignee_user_id', sa.Integer(), nullable=True),
        sa.Column('assigned_at', sa.Double(), nullable=False),
        sa.Column('escalated_at', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_routing_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_case_routing_team_id_teams')),
        sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_routing')),
    )
    op.create_index(op.f('ix_case_routing_team_id'), 'case_routing', ['team_id'], unique=False)
    op.create_index(op.f('ix_case_routing_assignee_user_id'), 'case_routing', ['assignee_user_id'], unique=False)
    op.create_table(
        'contact_preferences',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=True),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contact_preferences_customer_id_customers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_contact_preferences')),
    )
    op.create_table(
        'service_messages',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.Column('due_by', sa.Double(), nullable=False),
        sa.Column('sent_at', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_service_messages_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_messages')),
    )
    op.create_index(op.f('ix_service_messages_case_id'), 'service_messages', ['case_id'], unique=False)
    op.create_index(op.f('ix_service_messages_provider_id'), 'service_messages', ['provider_id'], unique=False)
    op.create_table(
        'survey_invitations',
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.Column('expires_at', sa.Double(), nullable=False),
        sa.Column('used_at', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_survey_invitations_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('nonce', name=op.f('pk_survey_invitations')),
    )
    op.create_index(op.f('ix_survey_invitations_case_id'), 'survey_invitations', ['case_id'], unique=False)
    op.create_index(op.f('ix_survey_invitations_recipient'), 'survey_invitations', ['recipient'], unique=False)
    op.create_table(
        'message_templates',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('event', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
        sa.UniqueConstraint('event', 'channel', 'language', 'version', name='uq_message_templates_key'),
    )
    op.create_table(
        'follow_up_tasks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.Double(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('taken_by', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.Column('done_at', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_follow_up_tasks_case_id_cases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_tasks')),
    )
    op.create_index(op.f('ix_follow_up_tasks_case_id'), 'follow_up_tasks', ['case_id'], unique=False)
    op.create_index('ix_follow_up_tasks_status_due', 'follow_up_tasks', ['status', 'due_at'], unique=False)
    op.create_table(
        'answers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('answer_key', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('current', sa.Boolean(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('queue', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('ivr_nodes', sa.Text(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
        sa.UniqueConstraint('answer_key', 'version', name='uq_answers_key_version'),
    )
    op.create_index('ix_answers_current_language', 'answers', ['current', 'language'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE INDEX ix_answers_fulltext ON answers USING gin "
            "(to_tsvector('simple', title || ' ' || body))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE answers_fts USING fts5("
            "title, body, content='answers', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER answers_fts_insert AFTER INSERT ON answers BEGIN "
            "INSERT INTO answers_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER answers_fts_delete AFTER DELETE ON answers BEGIN "
            "INSERT INTO answers_fts(answers_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END"
        )
    with op.batch_alter_table('survey_answers') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=16), server_default='ivr', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('survey_answers') as batch:
        batch.drop_column('channel')
    if op.get_bind().dialect.name != 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS answers_fts_insert")
        op.execute("DROP TRIGGER IF EXISTS answers_fts_delete")
        op.execute("DROP TABLE IF EXISTS answers_fts")
    for table in (
        'answers', 'follow_up_tasks', 'message_templates', 'survey_invitations', 'service_messages',
        'contact_preferences', 'case_routing', 'team_members', 'teams',
    ):
        op.drop_table(table)
