"""Schemas of the agents API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from acd.engine import Acd


class AgentOut(BaseModel):
    """An agent as the ACD sees it now."""

    id: str
    name: str
    state: str
    since: float = Field(description="epoch seconds of the last state change")
    pause_reason: str
    call_id: str = Field(description="the call last offered or ended ('' for none)")
    calls: list[str]
    capacity: int
    skills: dict[str, int]
    groups: list[str]

    @classmethod
    def of(cls, acd: Acd, agent_id: str) -> AgentOut:
        agent = acd.agent(agent_id)
        return cls(
            id=agent.id, name=agent.config.name, state=agent.state.value, since=agent.state_since,
            pause_reason=agent.pause_reason, call_id=agent.call_id or "", calls=sorted(agent.calls),
            capacity=agent.capacity, skills=dict(agent.config.skills),
            groups=sorted(agent.config.groups),
        )


class AgentList(BaseModel):
    """Every agent."""

    agents: list[AgentOut]


class StateChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["login", "logout", "pause", "unpause", "wrap_done"]
    reason: str = Field("", max_length=64, description="pause reason code")


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(min_length=1, max_length=64)


class Done(BaseModel):
    """Done."""

    ok: bool = True
