"""Schemas of the wallboard API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.web.wallboard.service import Wallboard


class AlertOut(BaseModel):
    queue: str
    kind: Literal["sl_breach", "long_wait"]
    value: float = Field(description="service level today (0-1) or longest wait (seconds)")
    threshold: float = Field(description="the queue's target (0-1) or the configured wait")


class QueueOut(BaseModel):
    name: str
    waiting: int
    longest_wait: float
    sl_target: float
    sl_seconds: float
    offered: int = Field(description="calls today that reached the queue (as `hotline report`)")
    answered: int
    abandoned: int
    short_abandons: int = Field(description="abandoned within the short-abandon seconds (also in abandoned)")
    service_level: float | None
    asa: float | None
    agents: dict[str, int] = Field(description="agents able to take the queue's calls, by state")
    callbacks_held: int = Field(0, description="callbacks promised, held for the queue's hours or a chosen slot")


class AgentRowOut(BaseModel):
    id: str
    name: str
    state: str
    in_state: float
    pause_reason: str
    call_id: str
    call_queue: str
    calls_today: int
    pending: str


class WaitingOut(BaseModel):
    id: str
    queue: str
    priority: int
    tier: str
    waiting: float
    position: int


class IntervalOut(BaseModel):
    start: float
    offered: int
    answered: int
    service_level: float | None


class WallboardOut(BaseModel):
    """The wallboard now: queues and agents, today's 15-minute intervals, alerts. Callers'
    numbers are never part of it."""

    at: float
    day_start: float
    sl_target: float = Field(description="the standard the interval chart is drawn against")
    queues: list[QueueOut]
    agents: list[AgentRowOut]
    waiting: list[WaitingOut]
    intervals: list[IntervalOut]
    alerts: list[AlertOut]

    @classmethod
    def of(cls, board: Wallboard) -> WallboardOut:
        return cls(
            at=board.at, day_start=board.day_start, sl_target=board.sl_target,
            queues=[QueueOut(**asdict(q)) for q in board.queues],
            agents=[AgentRowOut(**asdict(a)) for a in board.agents],
            waiting=[WaitingOut(**asdict(w)) for w in board.waiting],
            intervals=[IntervalOut(start=b.start, offered=b.offered, answered=b.answered,
                                   service_level=b.service_level) for b in board.series],
            alerts=[AlertOut(**a.to_dict()) for a in board.alerts],
        )


class AlertList(BaseModel):
    alerts: list[AlertOut]


class ForceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["pause", "logout"]
    reason: str = Field("", max_length=64, description="pause reason (default: supervisor)")


class ForceOut(BaseModel):
    agent_id: str
    state: str
    pause_reason: str
    pending: str = Field(description="'logout' or a pause reason waiting for the agent's calls to end")


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    priority: int = Field(ge=0, le=100)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    queue: str = Field(min_length=1, max_length=64)


class WaitingCallOut(BaseModel):
    call_id: str
    queue: str
    priority: int
    state: str
    position: int
