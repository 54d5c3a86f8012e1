"""Callbacks over the API: what a supervisor needs to see of the callbacks promised to
customers (held for the queue's hours or a chosen slot, or already in the queue)."""

from __future__ import annotations

from typing import Literal

from acd.call import CallState
from acd.held import due_at
from hotline.privacy import mask_phone
from hotline.roles import STAFF
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import ACD_KEY
from hotline.web.callbacks.schemas import CallbackNow, CallbacksView

routes = ApiRegistry()
CALLBACK_SOURCE_SUFFIX = "-callback"  # the ACD source of every channel's callbacks
IN_QUEUE: dict[CallState, Literal["queued", "ringing", "on_call"]] = {
    CallState.QUEUED: "queued", CallState.RINGING: "ringing", CallState.ON_CALL: "on_call",
}


@routes.get(
    "/api/callbacks", roles=STAFF, response=CallbacksView, tag="live",
    summary="Callback requests not yet done: held for later and in the queue",
)
async def callbacks_view(call: ApiCall[None, None]) -> CallbacksView:
    """Numbers are masked except for admins."""
    acd = call.request.app[ACD_KEY]
    show = (lambda n: n) if call.principal.sees_personal_data else mask_phone
    held = []
    for request in acd.held.requests.values():
        held.append(CallbackNow(
            call_id=request.call_id, queue=request.queue, number=show(request.number), state="held",
            arrived_at=request.arrived_at, requested_at=request.requested_at, slot=request.slot,
            due_at=due_at(acd, request), merged=len(request.merged), agent_id=None,
        ))
    held.sort(key=lambda c: (c.due_at is None, c.due_at or 0.0, c.arrived_at))
    live = [
        CallbackNow(
            call_id=c.id, queue=c.queue, number=show(c.caller), state=IN_QUEUE[c.state],
            arrived_at=c.arrived_at, requested_at=None, slot=None, due_at=None, merged=0,
            agent_id=c.agent_id or None,
        )
        for c in sorted(acd.calls.values(), key=lambda c: c.seq)
        if c.source.endswith(CALLBACK_SOURCE_SUFFIX)
        and c.state in IN_QUEUE
    ]
    return CallbacksView(at=acd.clock.now(), held=len(held), in_queue=len(live), callbacks=held + live)
