"""The agent's desktop as data: state, pending changes, the current call with its screen pop
(casestore's screen-pop query for the customer, the stored IVR path, the caller's last calls
and open cases) and the codes of the config. The agent's own call is shown in the clear."""

from __future__ import annotations

import asyncio

from aiohttp import web

from acd.agent import AgentState
from acd.call import Call, CallState
from casestore.casework_views import CallFilter, CaseFilter
from casestore.errors import NotFound
from hotline.roles import Principal
from hotline.web.agents.schemas import AgentOut
from hotline.web.base.keys import ACD_KEY, STORE_KEY
from hotline.web.cases.service import (
    Viewer,
    call_detail,
    call_out,
    case_out,
    customer_out,
    summary_out,
)
from hotline.web.cases.settings import DESK_KEY
from hotline.web.desktop.schemas import CurrentCall, DesktopOut, ScreenPopOut

DRAIN_WAIT = 1.0


async def desktop(request: web.Request, who: Principal) -> DesktopOut:
    acd = request.app[ACD_KEY]
    desk = request.app[DESK_KEY]
    agent = acd.agent(who.agent_id)
    now = acd.clock.now()
    current: Call | None = None
    live = acd.calls.get(agent.call_id) if agent.call_id else None
    if live is not None and live.agent_id == agent.id and live.state is not CallState.QUEUED:
        # (not a call that rang out and waits again, or rings elsewhere)
        current = live
    elif agent.last_ended is not None and agent.last_ended.id == agent.call_id and agent.state is AgentState.WRAP_UP:
        current = agent.last_ended
    wrap_limit = None
    if agent.state is AgentState.WRAP_UP and agent.last_ended is not None:
        wrap_limit = acd.queues[agent.last_ended.queue].wrap_up
    return DesktopOut(
        agent=AgentOut.of(acd, agent.id), logout_pending=agent.logout_pending,
        pause_pending=agent.pause_pending, now=now, wrap_up_limit=wrap_limit,
        call=await _current_call(request, who, current, agent.state_since) if current is not None else None,
        pause_reasons=list(desk.pause_reasons), dispositions=list(desk.dispositions),
        categories=list(desk.categories), resolution_codes=list(desk.resolution_codes),
    )


async def _settled(request: web.Request) -> None:
    """What the IVR told the writer is in the store before the pop reads it (at most
    `DRAIN_WAIT` seconds: a slow store shows the pop without it; the next event refreshes)."""
    writer = request.app[STORE_KEY].writer_instance
    if writer is None or not writer.backlog:
        return
    try:
        async with asyncio.timeout(DRAIN_WAIT):
            await writer.drain()
    except TimeoutError:
        pass


async def _current_call(request: web.Request, who: Principal, call: Call, since: float) -> CurrentCall:
    work = request.app[STORE_KEY].casework
    cases = request.app[STORE_KEY].cases
    own = Viewer.of(who, own_call=True)  # the agent's own caller, in the clear
    now = work.clock()
    await _settled(request)
    customer = None
    if call.caller:
        pop = await cases.screen_pop(call.caller)
        customer = customer_out(own, pop.customer) if pop is not None else None
    try:
        detail, _ = await work.call(call.id)
        stored = call_detail(own, detail, None)
        ivr_path, collected = stored.ivr_path, stored.collected
    except NotFound:  # not flushed to the store yet: the next event refreshes the pop
        ivr_path, collected = [], {}
    last_calls, open_cases = [], []
    if call.caller:
        masked = Viewer.of(who)  # other calls and cases of this caller: as everywhere else
        last_calls = [call_out(own, r.call, r.case_number)
                      for r in await work.calls(CallFilter(phone=call.caller, limit=6)) if r.call.id != call.id][:5]
        open_cases = [summary_out(masked, r, now)
                      for r in await work.cases(CaseFilter(phone=call.caller, active_only=True, limit=10))]
    case = await work.case_of_call(call.id)
    state = call.state.value if call.id in request.app[ACD_KEY].calls else "ended"
    ended_at = since if state == "ended" else None
    return CurrentCall(
        id=call.id, state=state, caller=own.phone(call.caller), queue=call.queue, language=call.language,
        tier=call.tier, answered_at=call.answered_at or None, ended_at=ended_at,
        case=case_out(own, case, now) if case is not None else None,
        pop=ScreenPopOut(customer=customer, ivr_path=ivr_path, collected=collected,
                         last_calls=last_calls, open_cases=open_cases),
        consulting=next((p.id for p in (call.parties or {}).values() if p.role == "consult"), ""),
        conference=[p.id for p in (call.parties or {}).values() if p.role == "conference"],
    )
