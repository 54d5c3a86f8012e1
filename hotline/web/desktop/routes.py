"""The desktop API (agents, on their own agent): the desktop as data, state actions with the
config's pause reasons (logout when free included), wrap-up with a disposition and a note.
Changes are audited; the ACD's events reach the desktop over the event stream."""

from __future__ import annotations

from hotline.roles import Role
from hotline.web.accounts.service import actor_of
from hotline.web.agents.schemas import Done
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, STORE_KEY, WEB_KEY
from hotline.web.cases.settings import DESK_KEY
from hotline.web.desktop.schemas import DeskAction, DesktopOut, WrapUpIn
from hotline.web.desktop.service import desktop

routes = ApiRegistry()
AGENTS = frozenset({Role.AGENT})


@routes.get(
    "/api/desktop", roles=AGENTS, response=DesktopOut, tag="desktop", errors=(404,),
    summary="The signed-in agent's desktop: state, pending changes, the call and its screen pop, codes",
)
async def get_desktop(call: ApiCall[None, None]) -> DesktopOut:
    return await desktop(call.request, call.principal)


@routes.post(
    "/api/desktop/state", roles=AGENTS, body=DeskAction, response=DesktopOut, tag="desktop",
    summary="Ready, pause (with a reason code), log out (now or when free), end wrap-up",
    errors=(404, 409), invalid_code="bad_action",
)
async def change_state(call: ApiCall[DeskAction, None]) -> DesktopOut:
    who = call.principal
    acd = call.request.app[ACD_KEY]
    agent = acd.agent(who.agent_id)
    action, reason = call.body.action, call.body.reason
    before = {"state": agent.state.value, "pause_reason": agent.pause_reason,
              "logout_pending": agent.logout_pending}
    if action == "pause":
        if reason not in call.request.app[DESK_KEY].pause_reasons:
            raise ApiError(400, "unknown_reason", f"pause reason {reason!r} is not in the config")
        acd.pause(agent.id, reason)
    elif action == "ready":
        if agent.state.value == "logged_out":
            acd.login(agent.id)
        else:
            acd.unpause(agent.id)
    elif action == "logout":
        acd.logout(agent.id)
    elif action == "logout_when_free":
        acd.logout(agent.id, when_free=True)
    elif action == "cancel_logout":
        acd.cancel_logout(agent.id)
    else:
        acd.wrap_done(agent.id)
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor_of(who), f"desktop.{action}", f"agent:{agent.id}", before=before,
        after={"state": agent.state.value, "pause_reason": agent.pause_reason,
               "logout_pending": agent.logout_pending},
    )
    return await desktop(call.request, who)


@routes.post(
    "/api/desktop/wrapup", roles=AGENTS, body=WrapUpIn, response=Done, tag="desktop",
    summary="Wrap up the call: a disposition code, a note on its case, and end wrap-up if done",
    errors=(404, 409), invalid_code="bad_code",
)
async def wrap_up(call: ApiCall[WrapUpIn, None]) -> Done:
    who = call.principal
    acd = call.request.app[ACD_KEY]
    agent = acd.agent(who.agent_id)
    b = call.body
    if b.disposition not in call.request.app[DESK_KEY].dispositions:
        raise ApiError(400, "unknown_disposition", f"disposition {b.disposition!r} is not in the config")
    call_id = agent.call_id
    acd.set_disposition(agent.id, b.disposition)
    actor = actor_of(who)
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor, "agent.disposition", f"agent:{agent.id}", after={"call_id": call_id, "code": b.disposition},
    )
    if b.note.strip():
        work = call.request.app[STORE_KEY].casework
        case = await work.case_of_call(call_id)
        if case is None:
            raise ApiError(409, "no_case", "this call has no case yet: open one first")
        await work.add_note(actor, case.number, b.note)
        call.request.app[WEB_KEY].live.case_changed(case.number, case.status, case.assigned_agent)
    if b.done:
        acd.wrap_done(agent.id)
        await call.request.app[WEB_KEY].accounts.repo.record(actor, "desktop.wrap_done", f"agent:{agent.id}")
    return Done()
