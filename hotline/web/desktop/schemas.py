"""Schemas of the desktop API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.web.agents.schemas import AgentOut
from hotline.web.cases.schemas import CallOut, CaseOut, CustomerOut, IvrStepOut


class ScreenPopOut(BaseModel):
    """Who is calling: their record, what they told the IVR, their last calls and open cases."""

    customer: CustomerOut | None
    ivr_path: list[IvrStepOut]
    collected: dict[str, str]
    last_calls: list[CallOut]
    open_cases: list[CaseOut]


class CurrentCall(BaseModel):
    id: str
    state: str = Field(description="ringing, on_call, or ended (wrap-up)")
    caller: str
    queue: str
    language: str
    tier: str
    answered_at: float | None
    ended_at: float | None
    case: CaseOut | None = Field(description="the case of this call, if it has one yet")
    pop: ScreenPopOut
    consulting: str = Field("", description="the party being consulted ('' none): complete or cancel")
    conference: list[str] = Field(default_factory=list, description="third parties in conference with the call")


class DesktopOut(BaseModel):
    agent: AgentOut
    logout_pending: bool
    pause_pending: str
    now: float
    wrap_up_limit: float | None = Field(description="seconds of wrap-up the queue allows (null: until done)")
    call: CurrentCall | None
    pause_reasons: list[str]
    dispositions: list[str]
    categories: list[str]
    resolution_codes: list[str]


class DeskAction(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["ready", "pause", "logout", "logout_when_free", "cancel_logout", "wrap_done"]
    reason: str = Field("", max_length=64, description="a pause reason code from the config")


class WrapUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    disposition: str = Field(min_length=1, max_length=64, description="a disposition code from the config")
    note: str = Field("", max_length=4000, description="a note added to the call's case")
    done: bool = Field(False, description="end wrap-up too")
