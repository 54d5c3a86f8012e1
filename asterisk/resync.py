"""Resync: after every AMI login (an outage, a restart of Asterisk or of Hotline) the core
is made to match Asterisk again: calls gone or answered meanwhile, callers parked by an
earlier Hotline process adopted with their wait, every agent phone's state, agents paused
because an offer could not reach the PBX released. `CallControl.resync` runs it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from acd.agent import AgentState
from acd.call import CallState
from acd.errors import AcdError
from asterisk.ami_parser import AmiMessage
from asterisk.channel_vars import (
    VAR_LANGUAGE,
    VAR_PRIORITY,
    VAR_QUEUE,
    VAR_QUEUED_AT,
    VAR_SKILLS,
    VAR_TIER,
    decode_skills,
)
from asterisk.devices import DEVICE_REASONS, LINK_DOWN, apply_presence
from asterisk.errors import AmiActionError, AmiTimeout, CallControlError

if TYPE_CHECKING:
    from asterisk.control import ActionSender, CallControl

log = logging.getLogger("hotline.asterisk.control")  # one logger with the call control's


async def resync(control: CallControl, ami: ActionSender) -> bool:
    """Make the core match Asterisk again: calls gone or answered during an outage,
    callers parked by a previous Hotline process, and every agent phone's state.
    False when Asterisk refused a list (still booting): the caller resyncs again later."""
    listed = set(control.calls)  # a call that comes in after the list is not judged by it
    channels = await ami.action("CoreShowChannels")
    live = {m.get("Uniqueid"): m for m in channels.items}
    refused: list[str] = []
    bridges = await _optional_list(ami, "BridgeList", refused)
    bridge_ids = {m.get("BridgeUniqueid") for m in bridges}
    endpoints = await _optional_list(ami, "PJSIPShowEndpoints", refused)
    devices = await _optional_list(ami, "DeviceStateList", refused)
    meanwhile = set(control.calls) - listed  # queued while the lists were read (slow while Asterisk boots)
    control._reattach(live)
    for call_id, call in list(control.calls.items()):
        item = live.get(call_id)
        if item is None and call_id in meanwhile:
            continue  # the channel list is older than the call
        if item is None:
            log.info("resync: call %s ended while AMI was down", call_id)
            control._caller_gone(call_id)
            continue
        if not call.channel:  # queued by another node's IVR while the link was down
            call.channel = item.get("Channel")
        if item.get("Application") in ("Dial", "MusicOnHold", "AGI"):
            call.in_app.set()  # a DialBegin may have been missed while AMI was down
        acd_call = control.acd.calls.get(call_id)
        if acd_call is not None and acd_call.state is CallState.QUEUED and item.get("Application") == "Dial":
            log.info("resync: call %s rings an agent the core took it from; back to hold", call_id)
            control._spawn(call_id, control._to_hold(call))
            continue
        if acd_call is None or acd_call.state is not CallState.RINGING:
            continue
        if item.get("BridgeId") and item.get("BridgeId") in bridge_ids:
            log.info("resync: call %s was answered while AMI was down", call_id)
            call.bridge = item.get("BridgeId")
            control.acd.answer(call_id)
        elif item.get("Application") != "Dial":
            log.info("resync: call %s stopped ringing while AMI was down", call_id)
            call.ring_failed_in_asterisk = True
            control.acd.ring_no_answer(call_id)
    control.callbacks.resync(live)
    for call_id, item in live.items():
        if call_id not in control.calls and _waiting(control, item):
            await _adopt(control, ami, call_id, item)
    for item in endpoints:
        control.device_state(f"PJSIP/{item.get('ObjectName')}", item.get("DeviceState"))
    for item in devices:
        control.device_state(item.get("Device"), item.get("State"))
    _link_back(control)
    log.info("resync: %d channels, %d bridges, %d calls tracked%s", len(live), len(bridge_ids),
             len(control.calls), f"; refused: {', '.join(refused)}" if refused else "")
    return not refused


def _link_back(control: CallControl) -> None:
    """Agents paused because an offer could not reach the PBX take calls again. Last in
    the resync: the calls are settled by then, so nothing is offered twice."""
    for agent_id, agent in control.acd.agents.items():
        if agent.state is AgentState.PAUSED and agent.pause_reason == LINK_DOWN:
            try:
                control.acd.unpause(agent_id)
                if control.devices.get(agent_id) in DEVICE_REASONS:  # its phone is offline or busy
                    apply_presence(control.acd, agent_id, control.devices[agent_id])
            except AcdError as exc:
                log.warning("resync: agent %s not unpaused: %s", agent_id, exc)


def _waiting(control: CallControl, item: AmiMessage) -> bool:
    """A channel waiting with music in one of Hotline's contexts (a caller to adopt)."""
    ctx = control.settings.contexts
    if item.get("Context") == ctx.hold:
        return True
    return item.get("Context") in (ctx.incoming, ctx.connect) and item.get("Application") == "MusicOnHold"


async def _optional_list(ami: ActionSender, action: str, refused: list[str]) -> list[AmiMessage]:
    """A list this Asterisk may refuse or leave unanswered (module not loaded, still
    booting): log it, carry on; the resync is repeated (FullyBooted, retries)."""
    try:
        return (await ami.action(action)).items
    except AmiActionError as exc:
        log.warning("resync: %s refused (%s); skipped", action, exc.message)
    except AmiTimeout as exc:  # not a dead link: CoreShowChannels was answered just before
        log.warning("resync: %s; skipped", exc)
    refused.append(action)
    return []


async def _adopt(control: CallControl, ami: ActionSender, call_id: str, item: AmiMessage) -> None:
    """A caller parked by an earlier Hotline process: queue it again from its variables."""
    channel = item.get("Channel")
    values: dict[str, str] = {}
    for var in (VAR_QUEUE, VAR_PRIORITY, VAR_TIER, VAR_LANGUAGE, VAR_SKILLS, VAR_QUEUED_AT):
        try:
            result = await ami.action("Getvar", {"Channel": channel, "Variable": var})
        except AmiActionError:
            return
        values[var] = result.response.get("Value")
    queue = values[VAR_QUEUE]
    if not queue or queue not in control.acd.queues or call_id in control.acd.calls:
        return
    try:
        priority = int(values[VAR_PRIORITY] or 0)
    except ValueError:
        priority = 0
    try:
        waited = max(0.0, control.acd.clock.now() - float(values[VAR_QUEUED_AT]))
    except ValueError:
        waited = 0.0
    try:
        control.enqueue(
            call_id, channel, queue, caller=item.get("CallerIDNum"), dialed=item.get("Exten"),
            language=values[VAR_LANGUAGE], priority=priority, tier=values[VAR_TIER] or "regular",
            skills=decode_skills(values[VAR_SKILLS]), waited=waited,
        )
        log.info("resync: adopted waiting call %s in %s (waiting %.1f s)", call_id, queue, waited)
    except CallControlError as exc:
        log.warning("resync: %s", exc)
