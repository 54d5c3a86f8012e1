"""Schemas of the live view."""

from __future__ import annotations

from pydantic import BaseModel


class LiveCall(BaseModel):
    id: str
    queue: str
    state: str
    caller: str
    priority: int
    tier: str
    agent_id: str | None
    waiting: float


class QueueNow(BaseModel):
    waiting: int
    longest_wait: float


class LiveView(BaseModel):
    """Queues, agents by state and calls now (callers masked as the role requires)."""

    at: float
    queues: dict[str, QueueNow]
    agents: dict[str, int]
    calls: list[LiveCall]
    available_agents: int
