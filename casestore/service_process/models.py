"""Tables of the service process (migration 0008_service): teams and members, the routing of
each case, messages to customers, survey invitations, contact preferences, message templates,
follow-up call tasks."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from casestore.models import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Double)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skills: Mapped[str] = mapped_column(Text, default="")  # space separated
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_email: Mapped[str | None] = mapped_column(String(254))  # e-mail notices if set


class CaseRouting(Base):
    """Where a case's work order is: its team, its assignee, when it was escalated."""

    __tablename__ = "case_routing"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    assignee_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    assigned_at: Mapped[float] = mapped_column(Double)
    escalated_at: Mapped[float | None] = mapped_column(Double)


class ContactPreference(Base):
    __tablename__ = "contact_preferences"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    channel: Mapped[str | None] = mapped_column(String(8))  # sms / email
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[float] = mapped_column(Double)


class ServiceMessage(Base):
    """One message to a customer and its delivery status."""

    __tablename__ = "service_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(16))  # the status that triggered it
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued / sent / delivered / failed
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    due_by: Mapped[float] = mapped_column(Double)
    sent_at: Mapped[float | None] = mapped_column(Double)


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str | None] = mapped_column(String(254), index=True)
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    used_at: Mapped[float | None] = mapped_column(Double)


class MessageTemplate(Base):
    """An admin-edited text per event, channel and language; every edit is a new version."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        UniqueConstraint("event", "channel", "language", "version", name="uq_message_templates_key"),
    )


class FollowUpTask(Base):
    __tablename__ = "follow_up_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))  # open / taken / done
    taken_by: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Double)
    done_at: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (Index("ix_follow_up_tasks_status_due", "status", "due_at"),)


class Answer(Base):
    """One version of a common answer or standard phrasing; the newest version is `current`.
    Full-text search: FTS5 table `answers_fts` (SQLite) or a GIN tsvector index (PostgreSQL),
    both made by migration 0008_service."""

    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(16))  # answer / phrasing
    queue: Mapped[str] = mapped_column(String(64))  # * for every queue
    category: Mapped[str] = mapped_column(String(32))  # * for every category
    language: Mapped[str] = mapped_column(String(16))
    ivr_nodes: Mapped[str] = mapped_column(Text, default="")  # IVR nodes that suggest it, space separated
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (
        UniqueConstraint("answer_key", "version", name="uq_answers_key_version"),
        Index("ix_answers_current_language", "current", "language"),
    )


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


TEAMS = _table(Team)
TEAM_MEMBERS = _table(TeamMember)
CASE_ROUTING = _table(CaseRouting)
CONTACT_PREFERENCES = _table(ContactPreference)
SERVICE_MESSAGES = _table(ServiceMessage)
SURVEY_INVITATIONS = _table(SurveyInvitation)
MESSAGE_TEMPLATES = _table(MessageTemplate)
FOLLOW_UP_TASKS = _table(FollowUpTask)
ANSWERS = _table(Answer)
