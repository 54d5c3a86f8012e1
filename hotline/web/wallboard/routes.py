"""The wallboard API (staff): the board, its alerts, and the supervisor actions on agents and
waiting calls (each audited). Alert changes are also pushed as `wallboard_alert` events on
`/api/events`."""

from __future__ import annotations

import logging

from aiohttp import web

from casestore.accounts import Actor
from hotline.roles import STAFF
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import STORE_KEY
from hotline.web.wallboard.schemas import (
    AlertList,
    AlertOut,
    ForceIn,
    ForceOut,
    MoveIn,
    PriorityIn,
    WaitingCallOut,
    WallboardOut,
)
from hotline.web.wallboard.service import WallboardService, audit

log = logging.getLogger("hotline.api")
routes = ApiRegistry()
WALLBOARD_KEY = web.AppKey("wallboard", WallboardService)


@routes.get("/api/wallboard", roles=STAFF, response=WallboardOut, tag="wallboard",
            summary="The wallboard: queues, agents, waiting calls, today's intervals, alerts")
async def get_wallboard(call: ApiCall[None, None]) -> WallboardOut:
    return WallboardOut.of(await call.request.app[WALLBOARD_KEY].view())


@routes.get("/api/wallboard/alerts", roles=STAFF, response=AlertList, tag="wallboard",
            summary="Alerts now: queues under their service-level target today, waits over the threshold")
async def get_alerts(call: ApiCall[None, None]) -> AlertList:
    board = await call.request.app[WALLBOARD_KEY].view()
    return AlertList(alerts=[AlertOut(**a.to_dict()) for a in board.alerts])


async def force_agent(request: web.Request, actor: Actor, agent_id: str, body: ForceIn) -> ForceOut:
    service = request.app[WALLBOARD_KEY]
    agent = service.acd.agent(agent_id)  # 404 when unknown
    before = {"state": agent.state.value, "pause_reason": agent.pause_reason}
    after = service.force(agent_id, body.action, body.reason)
    await audit(request.app[STORE_KEY], actor, f"wallboard.force_{body.action}", f"agent:{agent_id}",
                before, after)
    return ForceOut(agent_id=agent_id, **after)


@routes.post("/api/wallboard/agents/{agent_id}/force", roles=STAFF, body=ForceIn, response=ForceOut,
             tag="wallboard", errors=(404, 409), invalid_code="bad_action",
             summary="Force an agent's pause or logout (now, or once its calls are over)")
async def force(call: ApiCall[ForceIn, None]) -> ForceOut:
    who = call.principal
    out = await force_agent(call.request, actor_of(who), call.params["agent_id"], call.body)
    log.info("agent %s: forced %s by %s", out.agent_id, call.body.action, who.actor)
    return out


async def change_call(request: web.Request, actor: Actor, call_id: str, *, priority: int | None = None,
                      queue: str | None = None) -> WaitingCallOut:
    service = request.app[WALLBOARD_KEY]
    before = service.call_state(call_id)  # 404 when unknown
    if priority is not None:
        service.acd.set_priority(call_id, priority)
        action = "wallboard.call_priority"
    else:
        assert queue is not None
        service.acd.move(call_id, queue)
        action = "wallboard.call_move"
    after = service.call_state(call_id)
    await audit(request.app[STORE_KEY], actor, action, f"call:{call_id}", before, after)
    return WaitingCallOut(call_id=call_id, **after)


@routes.post("/api/wallboard/calls/{call_id}/priority", roles=STAFF, body=PriorityIn, response=WaitingCallOut,
             tag="wallboard", errors=(404, 409), invalid_code="bad_priority",
             summary="Change a waiting call's priority")
async def set_priority(call: ApiCall[PriorityIn, None]) -> WaitingCallOut:
    return await change_call(call.request, actor_of(call.principal), call.params["call_id"],
                             priority=call.body.priority)


@routes.post("/api/wallboard/calls/{call_id}/move", roles=STAFF, body=MoveIn, response=WaitingCallOut,
             tag="wallboard", errors=(404, 409), invalid_code="bad_queue",
             summary="Move a waiting call to another queue")
async def move(call: ApiCall[MoveIn, None]) -> WaitingCallOut:
    return await change_call(call.request, actor_of(call.principal), call.params["call_id"],
                             queue=call.body.queue)
