"""Request and response schemas of the work-order API (teams, routing, customer messages,
follow-up tasks, message templates)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from casestore.service_process.outreach_store import MessageView, TaskView
from casestore.service_process.routing_store import MemberView, RoutingView, TeamView
from hotline.privacy import mask_phone
from hotline.roles import Principal

NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TeamIn(Strict):
    name: str = Field(pattern=NAME)
    title: str = Field(min_length=1, max_length=128)


class MemberIn(Strict):
    skills: list[str] = Field(default_factory=list, max_length=32)
    lead: bool = False
    notify_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


class MemberOut(BaseModel):
    login: str
    skills: list[str]
    lead: bool
    open_cases: int
    notify_email: bool  # only whether e-mail notices are on

    @classmethod
    def of(cls, m: MemberView) -> MemberOut:
        return cls(login=m.login, skills=list(m.skills), lead=m.lead, open_cases=m.open_cases,
                   notify_email=bool(m.notify_email))


class TeamOut(BaseModel):
    name: str
    title: str
    members: list[MemberOut]

    @classmethod
    def of(cls, t: TeamView) -> TeamOut:
        return cls(name=t.name, title=t.title, members=[MemberOut.of(m) for m in t.members])


class TeamsOut(BaseModel):
    teams: list[TeamOut]


class ReassignIn(Strict):
    login: str = Field(min_length=1, max_length=64)
    team: str | None = Field(default=None, pattern=NAME)


class StatusIn(Strict):
    status: Literal["in_progress", "resolved", "closed", "open"]


class RoutingOut(BaseModel):
    case: str
    team: str
    assignee: str | None
    assignee_agent_id: str | None
    assigned_at: float
    escalated_at: float | None

    @classmethod
    def of(cls, v: RoutingView) -> RoutingOut:
        return cls(case=v.case_number, team=v.team, assignee=v.assignee, assignee_agent_id=v.assignee_agent_id,
                   assigned_at=v.assigned_at, escalated_at=v.escalated_at)


def _mask_recipient(value: str) -> str:
    if "@" in value:
        user, _, domain = value.partition("@")
        return f"{user[:1]}***@{domain}"
    return mask_phone(value)


class MessageOut(BaseModel):
    event: str
    channel: str
    recipient: str  # masked unless the role sees personal data
    language: str
    body: str
    status: str
    error: str | None
    created_at: float
    due_by: float
    sent_at: float | None
    on_time: bool | None

    @classmethod
    def of(cls, m: MessageView, who: Principal) -> MessageOut:
        return cls(
            event=m.event, channel=m.channel,
            recipient=m.recipient if who.sees_personal_data else _mask_recipient(m.recipient),
            language=m.language, body=m.body, status=m.status, error=m.error, created_at=m.created_at,
            due_by=m.due_by, sent_at=m.sent_at, on_time=None if m.sent_at is None else m.sent_at <= m.due_by,
        )


class WorkOrderOut(BaseModel):
    """A case's work order: where it is, what the customer was told, their score."""

    case: str
    status: str
    routing: RoutingOut | None
    messages: list[MessageOut]
    score: int | None
    score_channel: str | None


class StatusOut(BaseModel):
    case: str
    status: str
    customer: str  # what telling the customer did: sent, failed, opted_out, no_contact, not_needed


class TaskOut(BaseModel):
    id: int
    case: str
    due_at: float
    status: str
    taken_by: int | None
    outcome: str | None
    phone: str | None  # masked unless the role sees personal data, or the task is the caller's own

    @classmethod
    def of(cls, t: TaskView, who: Principal) -> TaskOut:
        own = t.taken_by is not None and t.taken_by == who.user_id
        phone = t.phone if (who.sees_personal_data or own) or t.phone is None else mask_phone(t.phone)
        return cls(id=t.id, case=t.case_number, due_at=t.due_at, status=t.status, taken_by=t.taken_by,
                   outcome=t.outcome, phone=phone)


class TasksOut(BaseModel):
    tasks: list[TaskOut]


class OutcomeIn(Strict):
    outcome: Literal["reached", "no_answer", "busy", "wrong_number", "declined"]


class TemplateIn(Strict):
    event: Literal["resolved", "in_progress", "closed"]
    channel: Literal["sms", "email"]
    language: str = Field(pattern=r"^[a-z]{2}$")
    body: str = Field(min_length=1, max_length=2000)


class TemplateOut(BaseModel):
    event: str
    channel: str
    language: str
    version: int
    body: str
