"""The telephony API: transfers (blind, attended, conference) and their consult steps for the
agent on the call (or staff), listen/whisper/barge for supervisors. Every change is audited;
the answer is who is on the call afterwards."""

from __future__ import annotations

from typing import Any

from hotline.roles import ALL_ROLES, STAFF
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import ACD_KEY
from hotline.web.telephony import service
from hotline.web.telephony.schemas import (
    CallPartiesOut,
    ConsultIn,
    LeaveIn,
    MonitorIn,
    MonitorStopIn,
    PartyRemoveIn,
    TransferIn,
)

routes = ApiRegistry()


def parties(call: ApiCall[Any, None]) -> CallPartiesOut:
    call_id = call.params["call_id"]
    return CallPartiesOut.of(call.request.app[ACD_KEY].calls.get(call_id), call_id)


@routes.get("/api/calls/{call_id}/parties", roles=ALL_ROLES, response=CallPartiesOut, tag="telephony",
            summary="Who is on a call: its agent, third parties, supervisors", errors=(403, 404))
async def get_parties(call: ApiCall[None, None]) -> CallPartiesOut:
    service.own_call_only(call.principal, service.live_call(call.request, call.params["call_id"]), "see")
    return parties(call)


@routes.post("/api/calls/{call_id}/transfer", roles=ALL_ROLES, body=TransferIn, response=CallPartiesOut,
             tag="telephony", errors=(403, 404, 409), invalid_code="bad_transfer",
             summary="Transfer a talking call: blind, attended (consult first) or conference")
async def transfer(call: ApiCall[TransferIn, None]) -> CallPartiesOut:
    await service.transfer(call.request, call.principal, call.params["call_id"], call.body)
    return parties(call)


@routes.post("/api/calls/{call_id}/consult", roles=ALL_ROLES, body=ConsultIn, response=CallPartiesOut,
             tag="telephony", errors=(403, 404, 409), invalid_code="bad_action",
             summary="Complete or cancel an attended transfer, or turn it into a conference")
async def consult(call: ApiCall[ConsultIn, None]) -> CallPartiesOut:
    await service.consult(call.request, call.principal, call.params["call_id"], call.body)
    return parties(call)


@routes.post("/api/calls/{call_id}/leave", roles=ALL_ROLES, body=LeaveIn, response=CallPartiesOut,
             tag="telephony", errors=(403, 404, 409), invalid_code="bad_agent",
             summary="Leave a conference to the others (agents: themselves)")
async def leave(call: ApiCall[LeaveIn, None]) -> CallPartiesOut:
    await service.leave(call.request, call.principal, call.params["call_id"], call.body.agent_id)
    return parties(call)


@routes.post("/api/calls/{call_id}/parties/remove", roles=ALL_ROLES, body=PartyRemoveIn,
             response=CallPartiesOut, tag="telephony", errors=(403, 404, 409), invalid_code="bad_party",
             summary="Drop a third party from the call (a consult or conference member)")
async def remove_party(call: ApiCall[PartyRemoveIn, None]) -> CallPartiesOut:
    await service.remove_party(call.request, call.principal, call.params["call_id"], call.body.party)
    return parties(call)


@routes.post("/api/calls/{call_id}/monitor", roles=STAFF, body=MonitorIn, response=CallPartiesOut,
             tag="telephony", errors=(403, 404, 409), invalid_code="bad_mode",
             summary="Listen to, whisper to the agent of, or barge into a call (supervisors)")
async def monitor(call: ApiCall[MonitorIn, None]) -> CallPartiesOut:
    await service.monitor(call.request, call.principal, call.params["call_id"], call.body)
    return parties(call)


@routes.post("/api/calls/{call_id}/monitor/stop", roles=STAFF, body=MonitorStopIn, response=CallPartiesOut,
             tag="telephony", errors=(403, 404, 409), invalid_code="bad_mode",
             summary="Stop listening to a call")
async def unmonitor(call: ApiCall[MonitorStopIn, None]) -> CallPartiesOut:
    await service.unmonitor(call.request, call.principal, call.params["call_id"], call.body.phone)
    return parties(call)
