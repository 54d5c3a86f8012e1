"""Live-call actions over the API: pause and resume a call's recording.

An agent pauses the recording while the caller reads out a card number, then resumes it.
Each call source (asterisk, twilio, ...) registers the adapter that can do it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from aiohttp import web

from hotline.api_auth import Role
from hotline.http_input import choice_field
from hotline.server import ACD_KEY, ApiError, principal, read_json

log = logging.getLogger("hotline.api")


class RecordingControl(Protocol):
    async def pause_recording(self, call_id: str) -> None: ...

    async def resume_recording(self, call_id: str) -> None: ...


RECORDING_CONTROLS_KEY = web.AppKey("recording_controls", dict[str, RecordingControl])


async def recording_action(request: web.Request) -> web.Response:
    who = principal(request)
    call = request.app[ACD_KEY].call(request.match_info["call_id"])
    if who.role is Role.AGENT and call.agent_id != who.agent_id:
        raise ApiError(403, "forbidden", "agents may only control the recording of their own call")
    body = await read_json(request)
    action = choice_field(body, "action", ("pause", "resume"))
    control = request.app[RECORDING_CONTROLS_KEY].get(call.source)
    if control is None:
        raise ApiError(
            409, "not_supported", f"recordings of {call.source or 'unknown'} calls cannot be paused"
        )
    try:
        if action == "pause":
            await control.pause_recording(call.id)
        else:
            await control.resume_recording(call.id)
    except Exception as exc:  # adapter errors (CallControlError, ...) carry their own message
        log.warning("recording %s of call %s failed: %s", action, call.id, exc)
        raise ApiError(502, "recording_control_failed", str(exc)) from exc
    return web.json_response({"call_id": call.id, "recording": "paused" if action == "pause" else "recording"})


def add_call_routes(app: web.Application) -> None:
    app[RECORDING_CONTROLS_KEY] = {}
    app.router.add_post("/api/calls/{call_id}/recording", recording_action)
