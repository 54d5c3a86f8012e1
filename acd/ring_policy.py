"""Ring-no-answer policy of a queue: when an agent who let calls ring out is paused, and whether
the call that rang out may be offered to the same agent again straight away.

- `pause_after`: the agent is paused (reason `ring_no_answer`) after this many consecutive
  ring-outs (1: the first, as before this policy existed). Consecutive: an answer resets the
  count, and so does the pause it leads to. The threshold is that of the queue of the call
  that rang out. The ACD's `pause_on_ring_no_answer: false` still means never.
- `reoffer_same_agent`: when the agent is not paused, may the call go straight back to it
  (true, as before) when nobody else is free? When false the agent takes any other waiting
  call it can, and that call is held from it for `reoffer_delay` seconds or until the agent
  is offered another call, whichever comes first (other agents may take it meanwhile); when
  the delay ends the call is offered again as if it had just come back (event
  `call_reoffered`), to whoever is best, the same agent included. Anything else that re-places
  the call (an escalation step, a supervisor's `set_priority` or `move`) may offer it to that
  agent too (the hold-out only keeps it out of that agent's own next offers).
  While a call is held from an idle agent eligible for it, that pair is the one exception to
  work conservation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acd.agent import Agent
    from acd.call import Call
    from acd.engine import Acd


@dataclass(frozen=True, slots=True)
class RingPolicy:
    pause_after: int = 1
    reoffer_same_agent: bool = True
    reoffer_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.pause_after < 1:
            raise ValueError("ring_no_answer: 'pause_after' must be at least 1")
        if not (math.isfinite(self.reoffer_delay) and self.reoffer_delay > 0):
            raise ValueError("ring_no_answer: 'reoffer_delay' must be a positive number of seconds")

    def pauses(self, ring_outs: int) -> bool:
        """Whether an agent with `ring_outs` consecutive ring-outs (this one counted) pauses."""
        return ring_outs >= self.pause_after


DEFAULT = RingPolicy()


def pausing(acd: Acd, agent: Agent, call: Call, pause_reason: str | None) -> bool:
    """An offer of `call` to `agent` came back: count the ring-out (an offer that failed to
    reach the phone, `pause_reason` given, always pauses and is not counted) and say whether
    the agent pauses now."""
    if pause_reason is not None:
        agent.ring_outs = 0
        return True
    return rang_out(agent, acd.queues[call.queue].ring_policy, acd.pause_on_ring_no_answer)


def rang_out(agent: Agent, policy: RingPolicy, pause_on_ring_no_answer: bool) -> bool:
    """`agent` let an offer ring out under `policy` (its queue's; for a consult or conference
    offer, the queue it was chosen from or the call's): count it, say whether it pauses now."""
    agent.ring_outs += 1
    if pause_on_ring_no_answer and policy.pauses(agent.ring_outs):
        agent.ring_outs = 0
        return True
    return False


def holds(acd: Acd, call: Call) -> bool:
    """Whether a call that rang out (and is waiting again) is held from that agent."""
    from acd.call import CallState

    return call.state is CallState.QUEUED and not acd.queues[call.queue].ring_policy.reoffer_same_agent


def hold_from(acd: Acd, call: Call, agent: Agent, free: Callable[[], None]) -> None:
    """Run `free` (the agent takes its next call, or idles) with `call` out of the index of
    waiting calls, so the agent is not offered it again now; then hold it from the agent for
    the queue's `reoffer_delay` (other agents may take it meanwhile)."""
    req = acd._requirement(call)
    acd.waiting.discard(call)
    try:
        free()
    finally:
        acd.waiting.push(call, req)
    call.held_from = agent.id
    call.held_until = acd.clock.now() + acd.queues[call.queue].ring_policy.reoffer_delay
    arm(acd, call)


def arm(acd: Acd, call: Call) -> None:
    """Arm the end of the call's hold-out, if it is held."""
    if call.held_from:
        call.add_timer(acd.clock.call_later(call.held_until - acd.clock.now(), lambda: acd._reoffer(call)))


def reoffer(acd: Acd, call: Call) -> None:
    """The hold-out is over: offer the call again as if it had just come back to its place."""
    from acd.call import CallState
    from acd.events import CallReoffered

    if call.state is not CallState.QUEUED or not call.held_from:
        return
    agent_id, call.held_from = call.held_from, ""
    if CallReoffered in acd._wants:
        acd._emit(CallReoffered(acd.clock.now(), call.id, call.queue, agent_id))
    acd._unqueue(call)
    call.cancel_timers()
    acd._place(call, requeue=True)
