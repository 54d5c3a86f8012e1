"""Live-call actions over the API: pause and resume a call's recording.

An agent pauses the recording while the caller reads out a card number, then resumes it.
Each call source (asterisk, twilio, ...) registers the adapter that can do it under
`RECORDING_CONTROLS_KEY`.
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from hotline.roles import ALL_ROLES, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, WEB_KEY

log = logging.getLogger("hotline.api")
routes = ApiRegistry()


class RecordingControl(Protocol):
    async def pause_recording(self, call_id: str) -> None: ...

    async def resume_recording(self, call_id: str) -> None: ...


RECORDING_CONTROLS_KEY = web.AppKey("recording_controls", dict[str, RecordingControl])


class RecordingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["pause", "resume"]


class RecordingOut(BaseModel):
    """The recording's state after the action."""

    call_id: str
    recording: Literal["paused", "recording"]


@routes.post(
    "/api/calls/{call_id}/recording", roles=ALL_ROLES, body=RecordingIn, response=RecordingOut,
    tag="calls", summary="Pause or resume a call's recording (agents: their own call)",
    errors=(404, 409, 502), invalid_code="bad_action",
)
async def recording_action(call: ApiCall[RecordingIn, None]) -> RecordingOut:
    who = call.principal
    app = call.request.app
    live_call = app[ACD_KEY].call(call.params["call_id"])
    if who.role is Role.AGENT and live_call.agent_id != who.agent_id:
        raise ApiError(403, "forbidden", "agents may only control the recording of their own call")
    control = app[RECORDING_CONTROLS_KEY].get(live_call.source)
    if control is None:
        raise ApiError(
            409, "not_supported", f"recordings of {live_call.source or 'unknown'} calls cannot be paused"
        )
    action = call.body.action
    try:
        if action == "pause":
            await control.pause_recording(live_call.id)
        else:
            await control.resume_recording(live_call.id)
    except Exception as exc:  # adapter errors (CallControlError, ...) carry their own message
        log.warning("recording %s of call %s failed: %s", action, live_call.id, exc)
        raise ApiError(502, "recording_control_failed", str(exc)) from exc
    await app[WEB_KEY].accounts.repo.record(
        actor_of(who), f"call.recording_{action}", f"call:{live_call.id}", after={"action": action}
    )
    return RecordingOut(call_id=live_call.id, recording="paused" if action == "pause" else "recording")


def setup_recording_controls(app: web.Application) -> None:
    app[RECORDING_CONTROLS_KEY] = {}
