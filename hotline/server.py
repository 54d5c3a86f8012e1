"""The HTTP side of Hotline: the agents' panel API and the supervisors' live view
(health and readiness are `hotline.health`, metrics `hotline.metrics`).

Adapters (case store, Asterisk, Twilio) are attached by `hotline.wiring.build_app`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from acd.agent import AgentState
from acd.engine import Acd
from acd.errors import AcdError, IllegalTransition, UnknownAgent, UnknownCall
from hotline.api_auth import ApiSettings, Principal, Role
from hotline.config import HotlineConfig
from hotline.http_input import InputError, choice_field, read_json_object, text_field
from hotline.privacy import mask_phone
from ivr.emergency import EmergencyState
from state.errors import StateError

log = logging.getLogger("hotline.api")

ACD_KEY = web.AppKey("acd", Acd)
CONFIG_KEY = web.AppKey("config", HotlineConfig)
API_SETTINGS_KEY = web.AppKey("api_settings", ApiSettings)
EMERGENCY_KEY = web.AppKey("emergency", EmergencyState)
PRINCIPAL = web.RequestKey("principal", Principal)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Runs an ACD operation by name where the ACD lives (`state.mode: cluster`: on the leader).
AcdCommand = Callable[..., Awaitable[None]]
ACD_COMMAND_KEY: web.AppKey[AcdCommand] = web.AppKey("acd_command")


async def run_acd(request: web.Request, op: str, **args: Any) -> None:
    """An ACD operation asked for over the API: on this node's ACD, or sent to the leader."""
    command = request.app.get(ACD_COMMAND_KEY)
    if command is not None:
        await command(op, **args)
        return
    getattr(request.app[ACD_KEY], op)(args.pop("agent_id"), **args)


class ApiError(web.HTTPException):
    """An API error with a stable id and details, rendered as JSON."""

    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        self.status_code = status
        super().__init__(
            text=json.dumps({"error": error, "message": message, "details": details}),
            content_type="application/json",
        )


def principal(request: web.Request) -> Principal:
    value: Principal = request[PRINCIPAL]
    return value


def require(request: web.Request, *roles: Role) -> Principal:
    who = principal(request)
    if who.role not in roles:
        raise ApiError(403, "forbidden", f"role {who.role.value} may not do this")
    return who


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        who = request.app[API_SETTINGS_KEY].principal(token) if token else None
        if who is None:
            raise ApiError(401, "unauthorized", "a valid bearer token is required")
        request[PRINCIPAL] = who
    try:
        return await handler(request)
    except (UnknownAgent, UnknownCall) as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc), current=exc.current, wanted=exc.wanted) from exc
    except AcdError as exc:
        raise ApiError(400, "bad_request", str(exc)) from exc
    except InputError as exc:
        raise ApiError(exc.status, exc.error, exc.message, **exc.details) from exc
    except StateError as exc:  # a follower could not reach the ACD leader
        raise ApiError(503, "leader_unavailable", str(exc)) from exc


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body, size, charset and depth checked (`hotline.http_input`)."""
    return await read_json_object(request)


def agent_view(acd: Acd, agent_id: str) -> dict[str, Any]:
    agent = acd.agent(agent_id)
    return {
        "id": agent.id,
        "name": agent.config.name,
        "state": agent.state.value,
        "since": agent.state_since,
        "pause_reason": agent.pause_reason,
        "call_id": agent.call_id,
        "calls": sorted(agent.calls),
        "capacity": agent.capacity,
        "skills": dict(agent.config.skills),
        "groups": sorted(agent.config.groups),
    }


async def list_agents(request: web.Request) -> web.Response:
    require(request, Role.ADMIN, Role.SUPERVISOR)
    acd = request.app[ACD_KEY]
    return web.json_response({"agents": [agent_view(acd, a) for a in sorted(acd.agents)]})


async def get_agent(request: web.Request) -> web.Response:
    who = principal(request)
    agent_id = request.match_info["agent_id"]
    if who.role is Role.AGENT and who.agent_id != agent_id:
        raise ApiError(403, "forbidden", "agents may only see their own state")
    return web.json_response(agent_view(request.app[ACD_KEY], agent_id))


ACTIONS = {"login", "logout", "pause", "unpause", "wrap_done"}


async def change_agent_state(request: web.Request) -> web.Response:
    who = principal(request)
    agent_id = request.match_info["agent_id"]
    if who.role is Role.AGENT and who.agent_id != agent_id:
        raise ApiError(403, "forbidden", "agents may only change their own state")
    body = await read_json(request)
    action = choice_field(body, "action", ACTIONS)
    acd = request.app[ACD_KEY]
    if action == "pause":
        await run_acd(request, "pause", agent_id=agent_id, reason=text_field(body, "reason", max_length=200))
    else:
        await run_acd(request, action, agent_id=agent_id)
    log.info("agent %s: %s by %s", agent_id, action, who.role.value)
    return web.json_response(agent_view(acd, agent_id))


async def set_disposition(request: web.Request) -> web.Response:
    who = principal(request)
    agent_id = request.match_info["agent_id"]
    if who.role is Role.AGENT and who.agent_id != agent_id:
        raise ApiError(403, "forbidden", "agents may only set their own dispositions")
    body = await read_json(request)
    code = body.get("code")
    if not isinstance(code, str) or not code:
        raise ApiError(400, "bad_code", "'code' must be a non-empty string")
    await run_acd(request, "set_disposition", agent_id=agent_id, code=code)
    return web.json_response({"ok": True})


async def live_view(request: web.Request) -> web.Response:
    """Queues and calls as a supervisor's wallboard shows them."""
    who = require(request, Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
    acd = request.app[ACD_KEY]
    now = acd.clock.now()
    calls = []
    for call in sorted(acd.calls.values(), key=lambda c: c.seq):
        own = who.role is Role.AGENT and call.agent_id == who.agent_id
        calls.append(
            {
                "id": call.id,
                "queue": call.queue,
                "state": call.state.value,
                "caller": call.caller if (who.sees_personal_data or own) else mask_phone(call.caller),
                "priority": call.priority,
                "tier": call.tier,
                "agent_id": call.agent_id,
                "waiting": now - call.arrived_at,
            }
        )
    snapshot = acd.snapshot()
    snapshot["calls"] = calls
    snapshot["available_agents"] = sum(
        1 for a in acd.agents.values() if a.state is AgentState.AVAILABLE
    )
    return web.json_response(snapshot)


def emergency_view(state: EmergencyState) -> dict[str, Any]:
    current = state.current()
    return {
        "active": current.active,
        "announcement": dict(current.announcement),
        "since": current.since,
        "by": current.by,
        "scope": sorted(current.scope),
    }


async def get_emergency(request: web.Request) -> web.Response:
    require(request, Role.ADMIN, Role.SUPERVISOR, Role.AGENT)
    return web.json_response(emergency_view(request.app[EMERGENCY_KEY]))


async def set_emergency(request: web.Request) -> web.Response:
    """Switch the emergency override (mass disruption: storms, cancellations) on or off."""
    who = require(request, Role.ADMIN, Role.SUPERVISOR)
    body = await read_json(request)
    active = body.get("active")
    if not isinstance(active, bool):
        raise ApiError(400, "bad_emergency", "'active' must be true or false")
    state = request.app[EMERGENCY_KEY]
    if not active:
        state.clear()
    else:
        announcement = body.get("announcement") or {}
        scope = body.get("scope") or []
        if not isinstance(announcement, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in announcement.items()
        ):
            raise ApiError(400, "bad_emergency", "'announcement' maps a language to a text")
        if not isinstance(scope, list) or not all(isinstance(n, str) for n in scope):
            raise ApiError(400, "bad_emergency", "'scope' is a list of emergency node names")
        state.activate(
            request.app[ACD_KEY].clock.now(),
            who.agent_id or who.role.value,
            announcement,
            frozenset(scope),
        )
    log.warning("emergency override %s by %s", "ON" if active else "off", who.role.value)
    return web.json_response(emergency_view(state))


def add_api_routes(app: web.Application) -> None:
    app.router.add_get("/api/agents", list_agents)
    app.router.add_get("/api/agents/{agent_id}", get_agent)
    app.router.add_post("/api/agents/{agent_id}/state", change_agent_state)
    app.router.add_post("/api/agents/{agent_id}/disposition", set_disposition)
    app.router.add_get("/api/live", live_view)
    app.router.add_get("/api/emergency", get_emergency)
    app.router.add_post("/api/emergency", set_emergency)
