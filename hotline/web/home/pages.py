"""Each role's home page: an agent sees their own state in the ACD (pushed live), staff see the
floor (queues and agents by state, pushed live), admins also the people and the latest changes.
The feature folders (desktop, cases, wallboard, admin) add their own pages and navigation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.errors import UnknownAgent
from hotline.roles import ALL_ROLES, STAFF, Role
from hotline.web.agents.schemas import AgentOut
from hotline.web.base.keys import ACD_KEY, PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem
from hotline.web.base.room import WebRoom

FLOOR_EVENTS = "sse:agent_state, sse:call_queued, sse:call_offered, sse:call_answered, sse:call_ended, sse:call_abandoned"


def _agent_context(request: web.Request) -> dict[str, Any]:
    who = request[PRINCIPAL]
    acd = request.app[ACD_KEY]
    try:
        agent = AgentOut.of(acd, who.agent_id)
    except UnknownAgent:
        return {"agent": None, "agent_id": who.agent_id, "seconds": 0}
    return {"agent": agent, "agent_id": who.agent_id, "seconds": int(acd.clock.now() - agent.since)}


def _floor_context(request: web.Request) -> dict[str, Any]:
    snapshot = request.app[ACD_KEY].snapshot()
    return {"queues": snapshot["queues"], "agents": snapshot["agents"]}


async def home(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    who = request[PRINCIPAL]
    if who.role is Role.AGENT:
        return room.pages.render(request, "home/agent.html", **_agent_context(request))
    context: dict[str, Any] = {"floor_events": FLOOR_EVENTS, **_floor_context(request)}
    if who.role is Role.ADMIN:
        repo = room.accounts.repo
        context["people"] = len(await repo.users())
        context["changes"] = await repo.audit(limit=8)
    return room.pages.render(request, "home/staff.html", **context)


async def agent_state_partial(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    return room.pages.render(request, "home/_agent_state.html", **_agent_context(request))


async def floor_partial(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    return room.pages.render(request, "home/_floor.html", **_floor_context(request))


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("home.nav", "/", ALL_ROLES, order=0))
    room.pages.nav(NavItem("reference.nav", "/docs/api", frozenset({Role.ADMIN}), order=900))
    room.pages.route("GET", "/", home, roles=ALL_ROLES)
    room.pages.route("GET", "/home/agent-state", agent_state_partial, roles={Role.AGENT})
    room.pages.route("GET", "/home/floor", floor_partial, roles=STAFF)
