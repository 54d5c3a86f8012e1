"""Telephony operations asked for over the API: who may ask, the ACD operation (on this node's
ACD, or the leader's), and the audit record of each."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from acd.call import Call
from acd.transfer import CONFERENCE, CONSULT
from hotline.phone import to_e164
from hotline.privacy import mask_phone
from hotline.roles import Principal, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_COMMAND_KEY, ACD_KEY, WEB_KEY
from hotline.web.telephony.schemas import ConsultIn, MonitorIn, TransferIn

log = logging.getLogger("hotline.api")


def live_call(request: web.Request, call_id: str) -> Call:
    return request.app[ACD_KEY].call(call_id)  # UnknownCall: 404


def own_call_only(who: Principal, call: Call, what: str) -> None:
    """Agents act on the calls they hold (as its agent or as a party); staff on any."""
    if who.role is Role.AGENT and who.agent_id != call.agent_id and who.agent_id not in (call.parties or {}):
        raise ApiError(403, "forbidden", f"agents may only {what} their own calls")


async def run(request: web.Request, op: str, call_id: str, **args: Any) -> None:
    command = request.app.get(ACD_COMMAND_KEY)
    if command is not None:
        await command(op, call_id=call_id, **args)
        return
    getattr(request.app[ACD_KEY], op)(call_id, **args)


async def audit(request: web.Request, who: Principal, action: str, call_id: str,
                after: dict[str, Any]) -> None:
    await request.app[WEB_KEY].accounts.repo.record(actor_of(who), action, f"call:{call_id}", after=after)


def _number(value: str) -> str:
    number = to_e164(value)
    if number is None:
        raise ApiError(422, "bad_number", f"not a phone number: {mask_phone(value)}")
    return number


async def transfer(request: web.Request, who: Principal, call_id: str, body: TransferIn) -> None:
    call = live_call(request, call_id)
    own_call_only(who, call, "transfer")
    if body.priority is not None and (who.role is Role.AGENT or body.mode != "blind" or body.to != "queue"):
        raise ApiError(403 if who.role is Role.AGENT else 422, "priority_not_allowed",
                       "only a supervisor changes the priority, of a blind transfer to a queue")
    target = _number(body.target) if body.to == "number" else body.target
    shown = mask_phone(target) if body.to == "number" else target
    if body.mode == "blind":
        await run(request, "transfer", call_id, **{body.to: target}, priority=body.priority)
    else:
        role = CONSULT if body.mode == "attended" else CONFERENCE
        await run(request, "add_party", call_id, **{body.to: target}, role=role)
    log.info("call %s: %s transfer to %s %s by %s", call_id, body.mode, body.to, shown, who.actor)
    await audit(request, who, f"call.{body.mode}_transfer", call_id,
                {"to": body.to, "target": shown, "priority": body.priority})


async def consult(request: web.Request, who: Principal, call_id: str, body: ConsultIn) -> None:
    call = live_call(request, call_id)
    own_call_only(who, call, "complete or cancel transfers of")
    consulting = [p for p in (call.parties or {}).values() if p.role == CONSULT]
    if body.action == "complete":
        await run(request, "complete_transfer", call_id)
    elif body.action == "conference":
        await run(request, "merge", call_id)
    else:
        if not consulting:
            raise ApiError(409, "illegal_transition", f"call {call_id!r} is not consulting anyone")
        await run(request, "remove_party", call_id, party=consulting[0].id, reason="cancelled")
    await audit(request, who, f"call.consult_{body.action}", call_id,
                {"party": consulting[0].id if consulting else ""})


async def leave(request: web.Request, who: Principal, call_id: str, agent_id: str | None) -> None:
    call = live_call(request, call_id)
    agent_id = agent_id or (who.agent_id if who.role is Role.AGENT else call.agent_id)
    if who.role is Role.AGENT and agent_id != who.agent_id:
        raise ApiError(403, "forbidden", "agents may only leave a conference themselves")
    own_call_only(who, call, "leave")
    await run(request, "leave", call_id, agent_id=agent_id)
    await audit(request, who, "call.leave", call_id, {"agent_id": agent_id})


async def remove_party(request: web.Request, who: Principal, call_id: str, party: str) -> None:
    call = live_call(request, call_id)
    own_call_only(who, call, "remove parties of")
    await run(request, "remove_party", call_id, party=party, reason="cancelled")
    await audit(request, who, "call.remove_party", call_id, {"party": party})


def supervisor_of(who: Principal, body: MonitorIn | None) -> str:
    phone = body.phone if body is not None and body.phone else (who.agent_id or who.login)
    if not phone:
        raise ApiError(422, "no_phone", "name the phone to ring (`phone`): this account has none")
    return phone


async def monitor(request: web.Request, who: Principal, call_id: str, body: MonitorIn) -> str:
    live_call(request, call_id)
    supervisor = supervisor_of(who, body)
    await run(request, "monitor", call_id, supervisor=supervisor, mode=body.mode)
    log.info("call %s: %s by %s (phone %s)", call_id, body.mode, who.actor, supervisor)
    await audit(request, who, f"call.monitor_{body.mode}", call_id, {"phone": supervisor, "mode": body.mode})
    return supervisor


async def unmonitor(request: web.Request, who: Principal, call_id: str, phone: str | None) -> None:
    call = live_call(request, call_id)
    supervisor = phone or supervisor_of(who, None)
    if supervisor not in (call.monitors or {}):
        raise ApiError(409, "illegal_transition", f"{supervisor!r} is not monitoring call {call_id!r}")
    await run(request, "unmonitor", call_id, supervisor=supervisor)
    await audit(request, who, "call.monitor_stop", call_id, {"phone": supervisor})
