"""Aging priority: a waiting call's effective priority rises with its wait, so low-priority
calls never starve behind a stream of higher ones.

A queue with `aging` raises each waiting call's priority by one every `every` seconds it has
waited since it arrived (its first arrival, so a callback or an overflowed call keeps what it
earned), at most `cap` in all. Each raise is one step of the routing order, applied by the
engine when the step falls due (event `call_aged`), so routing stays exact: the index of
waiting calls only ever holds whole priorities, and the freed agent takes the first call in
(effective priority, arrival) order as always. Nothing here touches the engine's state; the
engine asks `next_raise_at` when it arms a call's timers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acd.call import Call
    from acd.engine import Acd


@dataclass(frozen=True, slots=True)
class Aging:
    """+1 priority per `every` seconds waited, at most `cap` above the call's own priority."""

    every: float
    cap: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.every) and self.every > 0):
            raise ValueError("aging: 'every' must be a positive number of seconds")
        if self.cap < 1:
            raise ValueError("aging: 'cap' must be at least 1")

    @classmethod
    def per_minute(cls, rate: float, cap: int) -> Aging:
        """`rate` priority points per minute of waiting (configuration's form)."""
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError("aging: 'rate' must be a positive number of points per minute")
        return cls(60.0 / rate, cap)

    def raises_after(self, waited: float) -> int:
        """How many raises a call has earned after waiting `waited` seconds."""
        if waited <= 0:
            return 0
        return min(self.cap, int(waited // self.every))


def next_raise_at(aging: Aging | None, call: Call) -> float | None:
    """When `call` earns its next raise (its clock is its first arrival), or None."""
    if aging is None or call.aged >= aging.cap:
        return None
    return call.arrived_at + aging.every * (call.aged + 1)


def raise_priority(acd: Acd, call: Call) -> bool:
    """The aging timer of a waiting call fired: one raise, re-filed in the index of waiting
    calls under its new priority (same arrival position, same requirement). No agent can take
    it now (routing is work-conserving), so nothing is routed. Its timers are armed afresh (the
    next raise, escalation and max wait from the same times), as after an escalation: a replay,
    which runs `_age` from the stream instead of the timer, then drops the timer that fired.
    Returns whether it was raised."""
    from acd.call import CallState
    from acd.events import CallAged

    aging = acd.queues[call.queue].aging
    if call.state is not CallState.QUEUED or aging is None or call.aged >= aging.cap:
        return False
    req = acd._requirement(call)
    acd.waiting.discard(call)
    call.aged += 1
    call.priority += 1
    acd.waiting.push(call, req)
    if CallAged in acd._wants:
        acd._emit(CallAged(acd.clock.now(), call.id, call.queue, call.priority))
    call.cancel_timers()
    acd._schedule(call)
    return True


def arm(acd: Acd, call: Call) -> None:
    """Arm the waiting call's next raise, if it has one to earn in its queue."""
    due = next_raise_at(acd.queues[call.queue].aging, call)
    if due is not None:
        call.add_timer(acd.clock.call_later(due - acd.clock.now(), lambda: acd._age(call)))
