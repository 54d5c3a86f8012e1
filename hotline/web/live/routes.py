"""Live: the supervisors' view of queues and calls, and the event stream pushed to browsers
(server-sent events from the one publisher, filtered per role and agent)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from acd.agent import AgentState
from hotline.privacy import mask_phone
from hotline.roles import ALL_ROLES, Role
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import ACD_KEY, WEB_KEY
from hotline.web.base.live import LiveEvent
from hotline.web.base.security import SESSION_COOKIE
from hotline.web.live.schemas import LiveCall, LiveView, QueueNow

routes = ApiRegistry()


@routes.get(
    "/api/live", roles=ALL_ROLES, response=LiveView, tag="live",
    summary="Queues and calls now, as a wallboard shows them",
)
async def live_view(call: ApiCall[None, None]) -> LiveView:
    """Callers are masked except for admins, and for an agent on their own call."""
    who = call.principal
    acd = call.request.app[ACD_KEY]
    now = acd.clock.now()
    calls = []
    for c in sorted(acd.calls.values(), key=lambda c: c.seq):
        own = who.role is Role.AGENT and c.agent_id == who.agent_id
        calls.append(
            LiveCall(
                id=c.id, queue=c.queue, state=c.state.value,
                caller=c.caller if (who.sees_personal_data or own) else mask_phone(c.caller),
                priority=c.priority, tier=c.tier, agent_id=c.agent_id, waiting=now - c.arrived_at,
            )
        )
    snapshot = acd.snapshot()
    return LiveView(
        at=snapshot["at"],
        queues={name: QueueNow(**q) for name, q in snapshot["queues"].items()},
        agents=snapshot["agents"], calls=calls,
        available_agents=sum(1 for a in acd.agents.values() if a.state is AgentState.AVAILABLE),
    )


async def _still_signed_in(request: web.Request) -> bool:
    """Re-check the stream's session or token without counting it as activity."""
    accounts = request.app[WEB_KEY].accounts
    bearer = request.headers.get("Authorization", "")
    if bearer.lower().startswith("bearer "):
        return await accounts.token(bearer[7:].strip(), touch=False) is not None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return bool(cookie) and await accounts.session(cookie, touch=False) is not None


def _frame(event: LiveEvent) -> bytes:
    data = json.dumps({"kind": event.kind, **event.data}, separators=(",", ":"))
    return f"event: {event.kind}\ndata: {data}\n\n".encode()


@routes.get(
    "/api/events", roles=ALL_ROLES, tag="live", stream="text/event-stream",
    summary="Live events (server-sent events)",
)
async def events(call: ApiCall[None, None]) -> web.StreamResponse:
    """Events `agent_state`, `call_offered`, `call_ring_no_answer`, `call_answered`,
    `call_ended`, `call_queued`, `call_abandoned`, `case_changed`; each `data` is JSON with ids
    and states only. Agents receive the events of their own agent; staff receive all. A
    connection that falls behind is ended with a `reset` event: reconnect and re-read. A stream
    whose session or token ended is closed with a `signed_out` event (checked at every keep-alive,
    `web.live_heartbeat`; an open stream does not keep a session alive)."""
    request = call.request
    room = request.app[WEB_KEY]
    publisher, heartbeat = room.live, room.settings.live_heartbeat
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no", "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    conn = publisher.connect(call.principal)
    try:
        await response.write(b"retry: 3000\n: connected\n\n")
        while not conn.closed.is_set():
            get = asyncio.ensure_future(conn.queue.get())
            closed = asyncio.ensure_future(conn.closed.wait())
            done, pending = await asyncio.wait({get, closed}, timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if get in done:
                await response.write(_frame(get.result()))
            elif not done:
                if not await _still_signed_in(request):  # signed out, idle, disabled, revoked
                    await response.write(b"event: signed_out\ndata: {}\n\n")
                    break
                await response.write(b": keep-alive\n\n")
        if conn.dropped:
            await response.write(b"event: reset\ndata: {}\n\n")
    except ConnectionResetError:  # the browser went away
        pass
    finally:
        publisher.disconnect(conn)
    return response
