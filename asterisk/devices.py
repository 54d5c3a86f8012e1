"""Asterisk device states, as AMI spells them, reduced to what the agent state machine needs."""

from __future__ import annotations

from enum import StrEnum


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
