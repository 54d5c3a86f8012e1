"""Schemas of the telephony API: transfers, consultations, conferences, supervisors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from acd.call import Call

TARGET = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+@-]+$",
               description="agent id, queue name, or number (digits, optional leading +)")


class TransferIn(BaseModel):
    """Hand the call on: `blind` (at once), `attended` (consult first; then complete or
    cancel), or `conference` (the third party joins the caller and the agent)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["blind", "attended", "conference"]
    to: Literal["agent", "queue", "number"]
    target: str = TARGET
    priority: int | None = Field(None, ge=0, le=100,
                                 description="supervisors only: the call's new priority (blind, to a queue)")


class ConsultIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["complete", "cancel", "conference"] = Field(
        description="complete: the consulted party takes the call; cancel: back to the caller; "
                    "conference: all three talk")


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    agent_id: str | None = Field(None, max_length=64, description="who leaves (default: the caller's agent)")


class PartyRemoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    party: str = Field(min_length=1, max_length=80, description="agent id or tel:<number>")


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    mode: Literal["listen", "whisper", "barge"] = Field(
        description="listen: silent; whisper: the agent alone hears the supervisor; barge: both do")
    phone: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                              description="the supervisor's phone (an endpoint id); default their own id")


class MonitorStopIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    phone: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                              description="the supervisor's phone that listens (default their own id)")


class PartyOut(BaseModel):
    id: str
    kind: str
    target: str
    role: str
    state: str
    since: float


class MonitorOut(BaseModel):
    supervisor: str
    mode: str
    since: float


class CallPartiesOut(BaseModel):
    """Who is on the call now (an ended or transferred-out call: `state` ended)."""

    call_id: str
    state: str
    queue: str
    agent_id: str
    parties: list[PartyOut]
    monitors: list[MonitorOut]

    @classmethod
    def of(cls, call: Call | None, call_id: str) -> CallPartiesOut:
        if call is None:
            return cls(call_id=call_id, state="ended", queue="", agent_id="", parties=[], monitors=[])
        parties = [PartyOut(id=p.id, kind=p.kind, target=p.target, role=p.role, state=p.state, since=p.since)
                   for p in (call.parties or {}).values()]
        monitors = [MonitorOut(supervisor=s, mode=m, since=t) for s, (m, t) in (call.monitors or {}).items()]
        return cls(call_id=call.id, state=call.state.value, queue=call.queue, agent_id=call.agent_id,
                   parties=parties, monitors=monitors)
