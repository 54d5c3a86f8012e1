"""The agents API: list, one agent's state, state actions (login, pause, ...), dispositions.
Agents may only see and change themselves; every change is audited."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from hotline.roles import ALL_ROLES, STAFF, Principal, Role
from hotline.web.accounts.service import actor_of
from hotline.web.agents.schemas import AgentList, AgentOut, DispositionIn, Done, StateChange
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_COMMAND_KEY, ACD_KEY, WEB_KEY

log = logging.getLogger("hotline.api")
routes = ApiRegistry()


async def run_acd(request: web.Request, op: str, **args: Any) -> None:
    """An ACD operation asked for over the API: on this node's ACD, or sent to the leader
    (a leader out of reach is a StateError: 503 `leader_unavailable`)."""
    command = request.app.get(ACD_COMMAND_KEY)
    if command is not None:
        await command(op, **args)
        return
    getattr(request.app[ACD_KEY], op)(args.pop("agent_id"), **args)


def own_agent_only(who: Principal, agent_id: str, what: str) -> None:
    if who.role is Role.AGENT and who.agent_id != agent_id:
        raise ApiError(403, "forbidden", f"agents may only {what} their own state")


@routes.get("/api/agents", roles=STAFF, response=AgentList, tag="agents", summary="List agents")
async def list_agents(call: ApiCall[None, None]) -> AgentList:
    acd = call.request.app[ACD_KEY]
    return AgentList(agents=[AgentOut.of(acd, a) for a in sorted(acd.agents)])


@routes.get(
    "/api/agents/{agent_id}", roles=ALL_ROLES, response=AgentOut, tag="agents",
    summary="One agent's state (agents: only their own)", errors=(404,),
)
async def get_agent(call: ApiCall[None, None]) -> AgentOut:
    agent_id = call.params["agent_id"]
    own_agent_only(call.principal, agent_id, "see")
    return AgentOut.of(call.request.app[ACD_KEY], agent_id)


@routes.post(
    "/api/agents/{agent_id}/state", roles=ALL_ROLES, body=StateChange, response=AgentOut,
    tag="agents", summary="Log in, log out, pause, unpause, end wrap-up", errors=(404, 409),
    invalid_code="bad_action",
)
async def change_agent_state(call: ApiCall[StateChange, None]) -> AgentOut:
    who = call.principal
    agent_id = call.params["agent_id"]
    own_agent_only(who, agent_id, "change")
    acd = call.request.app[ACD_KEY]
    before = AgentOut.of(acd, agent_id)
    action = call.body.action
    if action == "pause":
        await run_acd(call.request, "pause", agent_id=agent_id, reason=call.body.reason)
    else:
        await run_acd(call.request, action, agent_id=agent_id)
    after = AgentOut.of(acd, agent_id)
    log.info("agent %s: %s by %s", agent_id, action, who.actor)
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor_of(who), f"agent.{action}", f"agent:{agent_id}",
        before={"state": before.state, "pause_reason": before.pause_reason},
        after={"state": after.state, "pause_reason": after.pause_reason},
    )
    return after


@routes.post(
    "/api/agents/{agent_id}/disposition", roles=ALL_ROLES, body=DispositionIn, response=Done,
    tag="agents", summary="Set the disposition code of the agent's current call", errors=(404, 409),
    invalid_code="bad_code",
)
async def set_disposition(call: ApiCall[DispositionIn, None]) -> Done:
    who = call.principal
    agent_id = call.params["agent_id"]
    own_agent_only(who, agent_id, "set dispositions for")
    acd = call.request.app[ACD_KEY]
    call_id = acd.agent(agent_id).call_id
    await run_acd(call.request, "set_disposition", agent_id=agent_id, code=call.body.code)
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor_of(who), "agent.disposition", f"agent:{agent_id}",
        after={"call_id": call_id, "code": call.body.code},
    )
    return Done()
