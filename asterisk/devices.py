"""Asterisk device states, as AMI spells them, reduced to what the agent state machine needs."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from acd.agent import AgentState
from acd.errors import AcdError

if TYPE_CHECKING:
    from acd.engine import Acd

log = logging.getLogger("hotline.asterisk.control")


class Presence(StrEnum):
    FREE = "free"  # NOT_INUSE: the phone is registered and idle
    BUSY = "busy"  # in use, ringing, on hold: a call Hotline may not know about
    OFFLINE = "offline"  # unavailable / unregistered / invalid
    UNKNOWN = "unknown"


_BY_STATE = {
    # DeviceStateChange / DeviceStateList `State:`
    "NOT_INUSE": Presence.FREE,
    "INUSE": Presence.BUSY,
    "BUSY": Presence.BUSY,
    "RINGING": Presence.BUSY,
    "RINGINUSE": Presence.BUSY,
    "ONHOLD": Presence.BUSY,
    "UNAVAILABLE": Presence.OFFLINE,
    "INVALID": Presence.OFFLINE,
    "UNKNOWN": Presence.UNKNOWN,
    # PJSIPShowEndpoints `DeviceState:` (human spelling)
    "Not in use": Presence.FREE,
    "In use": Presence.BUSY,
    "Busy": Presence.BUSY,
    "Ringing": Presence.BUSY,
    "Ring+Inuse": Presence.BUSY,
    "On Hold": Presence.BUSY,
    "Unavailable": Presence.OFFLINE,
    "Invalid": Presence.OFFLINE,
    "Unknown": Presence.UNKNOWN,
}


def presence(state: str) -> Presence:
    return _BY_STATE.get(state.strip(), Presence.UNKNOWN)


LINK_DOWN = "pbx_link_down"  # pause reason: an offer could not reach the PBX
DEVICE_REASONS = {Presence.OFFLINE: "device_offline", Presence.BUSY: "device_busy"}  # pause reasons


def apply_presence(acd: Acd, agent_id: str, now: Presence) -> None:
    """An agent's phone is offline or busy outside Hotline: pause the agent (available or in
    wrap-up); free again: unpause it, when Hotline paused it for its phone."""
    agent = acd.agents[agent_id]
    try:
        if now in DEVICE_REASONS and agent.state in (AgentState.AVAILABLE, AgentState.WRAP_UP):
            if now is Presence.BUSY and agent.state is AgentState.WRAP_UP:
                return  # still hanging up after Hotline's own call
            acd.pause(agent_id, DEVICE_REASONS[now])
            log.info("agent %s paused: phone %s", agent_id, now.value)
        elif now is Presence.FREE and agent.state is AgentState.PAUSED and (
            agent.pause_reason in DEVICE_REASONS.values()
        ):
            acd.unpause(agent_id)
            log.info("agent %s available again: phone free", agent_id)
    except AcdError as exc:
        log.warning("agent %s: device state %s not applied: %s", agent_id, now.value, exc)
