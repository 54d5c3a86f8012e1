"""Schemas of the callbacks view."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class CallbackNow(BaseModel):
    call_id: str
    queue: str
    number: str  # masked except for admins
    state: Literal["held", "queued", "ringing", "on_call"]
    arrived_at: float  # the caller's first arrival: the request's place
    requested_at: float | None  # when the callback was asked for (held requests)
    slot: tuple[float, float] | None  # the time slot the customer chose, if any
    due_at: float | None  # when a held request will be placed (None: its queue's hours never open)
    merged: int  # later requests of the same number folded into this one
    agent_id: str | None


class CallbacksView(BaseModel):
    """Callback requests not yet done, held ones first in the order they will be placed."""

    at: float
    held: int
    in_queue: int
    callbacks: list[CallbackNow]
