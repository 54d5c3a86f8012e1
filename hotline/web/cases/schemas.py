"""Schemas of the cases and calls API: what goes out is already masked for the caller's role
(`hotline.web.cases.service.Viewer`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from casestore.sla import PRIORITIES

Priority = Literal["urgent", "major", "complex", "common", "general"]
assert set(PRIORITIES) == {"urgent", "major", "complex", "common", "general"}
Status = Literal["open", "in_progress", "resolved", "closed"]


class CustomerOut(BaseModel):
    phone: str = Field(description="masked unless the role may see it")
    name: str
    tier: str
    language: str
    id_number: str


class NoteOut(BaseModel):
    author: str
    at: float
    body: str


class StatusChangeOut(BaseModel):
    at: float
    actor: str
    from_status: str
    to_status: str
    resolution_code: str | None


class IvrStepOut(BaseModel):
    at: float
    node: str
    kind: str
    input: str | None = Field(description="the caller's digits or words (masked for roles that may not see them)")


class RecordingLink(BaseModel):
    id: int
    format: str
    duration: float | None
    url: str = Field(description="the authorised audio stream ('' for roles that may not hear it)")


class CallOut(BaseModel):
    id: str
    caller: str
    queue: str
    agent_id: str
    language: str
    tier: str
    started_at: float | None
    answered_at: float | None
    ended_at: float | None
    wait_seconds: float | None
    talk_seconds: float | None
    outcome: str
    disposition: str
    direction: str = Field("inbound", description="inbound (the customer called) or outbound (a follow-up call)")
    case_number: str | None = None


class CallDetail(CallOut):
    ivr_path: list[IvrStepOut]
    collected: dict[str, str] = Field(description="every value the caller gave the IVR, by node")
    recordings: list[RecordingLink]


class CaseOut(BaseModel):
    number: str
    category: str
    priority: str
    status: str
    subject: str
    opened_at: float
    due_at: float
    updated_at: float
    resolved_at: float | None
    closed_at: float | None
    resolution_code: str | None
    assigned_agent: str | None
    origin_call_id: str | None
    overdue: bool
    due_in: float = Field(description="seconds until the SLA due time (negative: overdue)")
    customer_phone: str = ""
    customer_tier: str = ""


class CaseDetail(CaseOut):
    customer: CustomerOut | None
    notes: list[NoteOut]
    calls: list[CallDetail]
    changes: list[StatusChangeOut]
    transitions: list[str] = Field(description="statuses the workflow allows from here")


class CaseList(BaseModel):
    cases: list[CaseOut]


class CallList(BaseModel):
    calls: list[CallOut]


class Attention(BaseModel):
    """Across the hotline: active cases past their SLA, and active cases nobody owns."""

    overdue: list[CaseOut]
    unassigned: list[CaseOut]


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(
        None, max_length=64, pattern=r"^(open|in_progress|resolved|closed)(,(open|in_progress|resolved|closed))*$",
        description="one status or several, comma-separated (open,in_progress)",
    )
    category: str | None = Field(None, max_length=32)
    priority: Priority | None = None
    overdue: bool = False
    assignee: str | None = Field(None, max_length=64, description="an agent id, or 'none' for nobody")
    phone: str | None = Field(None, max_length=32)
    number: str | None = Field(None, max_length=20)
    q: str | None = Field(None, max_length=100, description="search subject, number and notes")
    limit: int = Field(100, ge=1, le=500)


class CallQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(None, max_length=32)
    since: float | None = Field(None, description="epoch seconds")
    until: float | None = Field(None, description="epoch seconds")
    queue: str | None = Field(None, max_length=64)
    agent: str | None = Field(None, max_length=64)
    outcome: str | None = Field(None, max_length=16)
    limit: int = Field(100, ge=1, le=500)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    category: str = Field(min_length=1, max_length=32)
    priority: Priority
    subject: str = Field("", max_length=500)
    call_id: str | None = Field(None, max_length=64, description="the call this case is about")


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    category: str | None = Field(None, min_length=1, max_length=32)
    priority: Priority | None = None
    subject: str | None = Field(None, max_length=500)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    agent_id: str | None = Field(max_length=64, description="the agent, or null for nobody")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    body: str = Field(min_length=1, max_length=4000)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    status: Status
    resolution_code: str | None = Field(None, max_length=64, description="needed to resolve")
