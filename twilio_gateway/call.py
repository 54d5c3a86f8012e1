"""A Twilio call as the gateway tracks it, and the caller's number as Twilio gives it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import StrEnum

from acd.clock import Timer
from hotline.phone import normalize_number
from ivr.events import IvrOutcome
from twilio_gateway.channel import TwilioChannel

TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
# What Twilio puts in `From` when the caller withheld their number (and "anonymous" itself).
WITHHELD = frozenset({"+266696687", "+7378742833", "+2562533", "+86282452253", "+8656696687", "anonymous"})
_E164 = re.compile(r"^\+?[0-9]{3,15}$")


def caller_number(value: str) -> str:
    """The caller's number as the IVR and the ACD may use it, "" when withheld or not a
    phone number (a Twilio Client or SIP caller)."""
    value = value.strip()
    if value.lower() in WITHHELD or not _E164.match(value):
        return ""
    return normalize_number(value)


class Phase(StrEnum):
    IVR = "ivr"
    WAITING = "waiting"  # in an ACD queue (also while an agent's phone rings)
    TALKING = "talking"
    CALLBACK = "callback"  # the caller hung up, a virtual call keeps their place
    OVER = "over"


@dataclass(slots=True)
class TwilioCall:
    sid: str
    caller: str
    dialed: str
    channel: TwilioChannel
    phase: Phase = Phase.IVR
    language: str = ""
    agent_id: str = ""
    in_transfer: bool = False  # our transfer handler is inside Acd.arrive
    dial_answered: bool = False  # the <Dial> action is settling a ring-no-answer itself
    callback_number: str = ""
    callback_leg: str = ""
    task: asyncio.Task[None] | None = None
    outcome: IvrOutcome | None = None
    watchdog: Timer | None = None  # while waiting: no hold webhook for hold_timeout -> lost
