"""The state of a call moved into its Twilio conference (twilio_gateway/conference.py): who is
in the room, what waits until agent and caller have joined, the participants Hotline dialled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

ROOM_PREFIX = "hotline-"
ANSWERED = frozenset({"in-progress", "answered"})
ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# A supervisor's participant per mode (create: only the true ones; update: all of them).
MODES: dict[str, dict[str, object]] = {
    "listen": {"muted": True, "coaching": False},
    "whisper": {"muted": False, "coaching": True},
    "barge": {"muted": False, "coaching": False},
}


@dataclass(slots=True)
class Leg:
    """A participant Hotline dialled into a room: a third party or a supervisor."""

    n: int  # in its webhook's URL (`leg=`), known before Twilio names its CallSid
    who: str  # party id, or supervisor id
    supervisor: bool = False
    mode: str = ""  # a supervisor's
    sid: str = ""  # its CallSid, once Twilio created it
    up: bool = False
    gone: bool = False


@dataclass(slots=True)
class Room:
    """A call moved into its Twilio conference."""

    call_id: str
    agent_id: str
    agent_leg: str  # CallSid of the agent holding the call ("" once it left)
    conference_sid: str = ""
    moving: bool = True  # the caller's <Dial> action has not brought the caller in yet
    joined: set[str] = field(default_factory=set)
    pending: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    legs: dict[int, Leg] = field(default_factory=dict)
    parties: dict[str, Leg] = field(default_factory=dict)  # party id -> leg
    spies: dict[str, Leg] = field(default_factory=dict)  # supervisor -> leg
    held: bool = False  # the caller is on hold (a consult)
    external: bool = False  # handed to an outside number: the ACD is done, Hotline cleans up
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # its REST requests one at a time

    @property
    def name(self) -> str:
        return f"{ROOM_PREFIX}{self.call_id}"

    @property
    def ready(self) -> bool:
        return bool(self.conference_sid) and {self.call_id, self.agent_leg} <= self.joined
