"""How a follow-up call ended (issue 15), from what the channel reported. Pure.

A follow-up call is reserved for the agent who took its task (acd/targeted.py). Its outcome,
written on the task and the case by hotline/service_process/follow_up_calls.py:

- `reached`: the customer answered and was connected to the agent;
- `no_answer`: the customer did not pick up (after every attempt);
- `busy`: every attempt found the customer's line busy;
- `failed`: the customer's number could not be reached (unavailable, congestion, the call
  could not be placed), or the agent hung up before the customer answered;
- `released`: the call never reached the agent (the fallback of acd/targeted.py: the agent
  logged out, or the wait was over): the task is handed back, open for anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class FollowUpOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    RELEASED = "released"


def from_dial_statuses(statuses: Sequence[str]) -> FollowUpOutcome:
    """Asterisk: the `DialStatus` of every attempt at the customer (DialEnd)."""
    if "ANSWER" in statuses:
        return FollowUpOutcome.REACHED
    if statuses and all(s == "BUSY" for s in statuses):
        return FollowUpOutcome.BUSY
    if "NOANSWER" in statuses:
        return FollowUpOutcome.NO_ANSWER
    return FollowUpOutcome.FAILED


def from_call_status(status: str, answered: bool) -> FollowUpOutcome:
    """Twilio: the customer leg's final `CallStatus`, and whether it was answered before."""
    if answered or status == "completed":
        return FollowUpOutcome.REACHED
    if status == "busy":
        return FollowUpOutcome.BUSY
    if status == "no-answer":
        return FollowUpOutcome.NO_ANSWER
    return FollowUpOutcome.FAILED  # failed, canceled
