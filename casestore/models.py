"""Tables of the case store (SQLAlchemy 2.0 declarative). Times are epoch seconds (float),
as in the core, so SQLite and PostgreSQL store and compare them the same way."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CallRecord(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str | None] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(64))
    dialed: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[float | None] = mapped_column(Double)
    queued_at: Mapped[float | None] = mapped_column(Double)
    answered_at: Mapped[float | None] = mapped_column(Double)
    ended_at: Mapped[float | None] = mapped_column(Double)
    wait_seconds: Mapped[float | None] = mapped_column(Double)
    talk_seconds: Mapped[float | None] = mapped_column(Double)
    outcome: Mapped[str | None] = mapped_column(String(16))
    disposition: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # inbound (the customer called), outbound (Hotline called them: a follow-up call); the
    # call writer never sets it (casestore/service_process/follow_up_store.py does)
    direction: Mapped[str] = mapped_column(String(8), server_default="inbound")

    __table_args__ = (
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_ended_at", "ended_at"),
        Index("ix_calls_caller", "caller"),
        Index("ix_calls_case_id", "case_id"),
    )


class IvrStep(Base):
    __tablename__ = "ivr_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Double)
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # entered / dtmf / speech / timeout / ...
    input: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Double)
    # the interpreter's node visit (entered), attempt (input) or step count (outcome); keeps
    # apart steps of one call with the same node, kind and time (see casestore.ivr_feed)
    seq: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (UniqueConstraint("call_id", "at", "node", "kind", "seq", name="uq_ivr_steps_key"),)


class CallSegment(Base):
    """One person's part of a call (acd `segment_ended` and the final `call_ended`): an agent
    holding it (`agent`), a consulted or conferenced party (`consult`, `conference`; an agent
    id or tel:<number>). A transferred call keeps one `calls` row and several segments, so
    reports count it once and split its handle time per agent."""

    __tablename__ = "call_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    party: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[float] = mapped_column(Double, index=True)
    ended_at: Mapped[float] = mapped_column(Double)
    talk_seconds: Mapped[float] = mapped_column(Double)

    __table_args__ = (UniqueConstraint("call_id", "party", "started_at", name="uq_call_segments_key"),)


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    uri: Mapped[str] = mapped_column(String(512), unique=True)
    format: Mapped[str] = mapped_column(String(16))
    duration: Mapped[float | None] = mapped_column(Double)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    retain_until: Mapped[float] = mapped_column(Double, index=True)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str | None] = mapped_column(String(64), unique=True)
    # clear text, or AES-GCM ciphertext with its key id when encryption is on (docs/security.md)
    name: Mapped[str | None] = mapped_column(Text)
    id_number: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Double)
    last_seen_at: Mapped[float] = mapped_column(Double, index=True)


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[float] = mapped_column(Double)
    due_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)
    resolved_at: Mapped[float | None] = mapped_column(Double)
    closed_at: Mapped[float | None] = mapped_column(Double)
    assigned_agent: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    origin_call_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    resolution_code: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_cases_customer_opened", "customer_id", "opened_at"),
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_opened_at", "opened_at"),
    )


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Double)
    body: Mapped[str] = mapped_column(Text)


class CaseStatusChange(Base):
    """One move of a case along the workflow: who, when, from and to (and the resolution code)."""

    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    resolution_code: Mapped[str | None] = mapped_column(String(64))


class CaseCounter(Base):
    """One row per year: the last case number handed out (HL-<year>-<value>)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(Integer)


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    login_at: Mapped[float] = mapped_column(Double, primary_key=True)
    logout_at: Mapped[float | None] = mapped_column(Double)


class AgentPause(Base):
    __tablename__ = "agent_pauses"

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[float] = mapped_column(Double, primary_key=True)
    ended_at: Mapped[float | None] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(String(64), default="")


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Double)
    # where the answer came from: ivr (the IVR survey), web (the survey link), sms (a reply)
    channel: Mapped[str] = mapped_column(String(16), server_default="ivr")

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class MenuVersionRecord(Base):
    """Every published version of an IVR menu (the YAML text as written), never changed."""

    __tablename__ = "menu_versions"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(512), default="")
    author: Mapped[str] = mapped_column(String(128), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Double)


class MenuActive(Base):
    """Which version of each menu is active (every node reads this row)."""

    __tablename__ = "menu_active"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[float] = mapped_column(Double)
    changed_by: Mapped[str] = mapped_column(String(128), default="")


class RuntimeSetting(Base):
    """Written by nothing since the emergency override moved to `LiveSetting` (kept until a
    migration drops the table)."""

    __tablename__ = "runtime_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[float] = mapped_column(Double)


class User(Base):
    """A person who signs in: admin, supervisor or agent (an agent is bound to an ACD agent)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (CheckConstraint("role IN ('admin', 'supervisor', 'agent')", name="role_known"),)


class ApiToken(Base):
    """A person's token for machines: only the SHA-256 of the secret part is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    last_used_at: Mapped[float | None] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double)


class WebSession(Base):
    """A browser session: the cookie's SHA-256, its CSRF token and its times."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    last_seen_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double, index=True)


class AuditEntry(Base):
    """One change made through the API or the command line: who, when, what, before/after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Double, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(128))
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON


class LiveSetting(Base):
    """A setting changed while running that must survive a restart (the emergency override):
    one JSON value per key, with who changed it and when."""

    __tablename__ = "live_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[float] = mapped_column(Double)
    updated_by: Mapped[str] = mapped_column(String(64))


class AcdConfigVersion(Base):
    """One version of a queue or an agent as edited live (casestore/acd_config.py): the data
    is the item as the configuration file writes it (JSON); the newest version is the one the
    ACD runs."""

    __tablename__ = "acd_config_versions"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # queue | agent
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)

    __table_args__ = (CheckConstraint("kind IN ('queue', 'agent')", name="kind_known"),)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


CALLS = _table(CallRecord)
IVR_STEPS = _table(IvrStep)
RECORDINGS = _table(Recording)
CALL_SEGMENTS = _table(CallSegment)
CUSTOMERS = _table(Customer)
CASES = _table(Case)
CASE_NOTES = _table(CaseNote)
CASE_COUNTERS = _table(CaseCounter)
CASE_STATUS_CHANGES = _table(CaseStatusChange)
AGENT_SESSIONS = _table(AgentSession)
AGENT_PAUSES = _table(AgentPause)
SURVEY_ANSWERS = _table(SurveyAnswer)
MENU_VERSIONS = _table(MenuVersionRecord)
MENU_ACTIVE = _table(MenuActive)
RUNTIME_SETTINGS = _table(RuntimeSetting)


USERS = _table(User)
API_TOKENS = _table(ApiToken)
WEB_SESSIONS = _table(WebSession)
AUDIT_LOG = _table(AuditEntry)
LIVE_SETTINGS = _table(LiveSetting)
ACD_CONFIG_VERSIONS = _table(AcdConfigVersion)
