"""Calls reserved for one agent: a follow-up call placed for the agent who took the task.

A targeted call (`Call.target`, set by `TargetedCalls.arrive`) is an ACD call like any other
(its queue, events, call record) with one difference, who may be offered it:

- only its agent, whatever its skills and the queue's requirement; never another agent, even
  one free and eligible (`engine._route_call` -> `offer`; the index of waiting calls,
  `routing.WaitingCalls.first_for`, hides it from everybody else);
- when the agent is routable (available, or on calls with a free slot) it is offered at once;
  when the agent is busy (ringing, talking, in wrap-up, paused) the call waits, and the agent
  takes it before any other waiting call the moment they are free;
- a ring-no-answer sends it back to wait for the same agent (who follows the queue's
  ring-no-answer rule);
- once answered the reservation has served: the call is an ordinary call (a transfer to a
  queue goes to whoever is best there).

The fallback (named in docs/acd.md and docs/service.md): the call leaves the ACD with
`CallAbandoned` reason `target_logged_out` when its agent logs out (or is disabled) before
taking it, or `target_wait_over` when it has waited `wait` seconds since it arrived without
being offered (a call ringing the agent at that moment gets to ring out first). The channel
adapter then hands the task back (hotline/service_process/follow_up_calls.py). An agent
that is logged out when the call would arrive is refused (`IllegalTransition`).

Pure: the ACD's injected clock, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acd.agent import AgentState
from acd.call import Call, CallState
from acd.clock import Timer
from acd.errors import IllegalTransition
from acd.events import AgentStateChanged, CallAbandoned, CallAnswered, CallEnded, Event

if TYPE_CHECKING:
    from acd.engine import Acd

LOGGED_OUT = "target_logged_out"  # abandon reasons of the fallback
WAIT_OVER = "target_wait_over"
DEFAULT_WAIT = 600.0


def offer(acd: Acd, call: Call) -> bool:
    """Route the targeted `call`: to its agent when that agent is routable now, else False
    (the call waits in its place, hidden from other agents)."""
    agent = acd.agents.get(call.target)
    if agent is None or not agent.indexed or len(agent.calls) >= agent.capacity:
        return False
    acd._assign(call, agent)
    return True


class TargetedCalls:
    """Places calls reserved for one agent and applies the fallback (logout, wait over)."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self._timers: dict[str, Timer] = {}  # call id -> its wait timer
        self.unsubscribe = acd.subscribe(
            self._on_event, kinds=(AgentStateChanged, CallAnswered, CallAbandoned, CallEnded)
        )

    def arrive(self, call_id: str, queue: str, agent_id: str, *, wait: float = DEFAULT_WAIT,
               **details: Any) -> Call:
        """A call for `agent_id` only enters `queue` (`details` as `Acd.arrive` takes them)."""
        if not wait > 0:
            raise ValueError(f"call {call_id}: the wait for agent {agent_id} must be positive")
        agent = self.acd.agent(agent_id)
        if agent.state is AgentState.LOGGED_OUT:
            raise IllegalTransition("agent", agent_id, agent.state.value, "targeted call (logged out)")
        call = self.acd.arrive(call_id, queue, target=agent_id, **details)
        if self.acd.calls.get(call_id) is call and call.target:
            self._arm(call, wait)
        return call

    def waiting_for(self, agent_id: str) -> list[Call]:
        """The calls reserved for `agent_id` still waiting (not ringing), in arrival order."""
        return sorted(
            (c for c in self.acd.calls.values() if c.target == agent_id and c.state is CallState.QUEUED),
            key=lambda c: c.seq,
        )

    def _arm(self, call: Call, delay: float) -> None:
        self._timers[call.id] = self.acd.clock.call_later(delay, lambda: self._wait_over(call))

    def _wait_over(self, call: Call) -> None:
        self._timers.pop(call.id, None)
        if self.acd.calls.get(call.id) is not call or not call.target:
            return
        if call.state is CallState.QUEUED:
            self.acd.abandon(call.id, reason=WAIT_OVER)
        elif call.state is CallState.RINGING:  # let this offer ring out (or be answered) first
            self._arm(call, self.acd.queues[call.queue].ring_timeout or 1.0)

    def _forget(self, call_id: str) -> None:
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, AgentStateChanged):
            if event.new == AgentState.LOGGED_OUT.value:
                for call in self.waiting_for(event.agent_id):
                    self._forget(call.id)
                    self.acd.abandon(call.id, reason=LOGGED_OUT)
        elif isinstance(event, CallAnswered):
            answered = self.acd.calls.get(event.call_id)
            if answered is not None and answered.target:
                answered.target = ""  # talking: an ordinary call from now on
                self._forget(answered.id)
        elif isinstance(event, CallAbandoned | CallEnded):
            self._forget(event.call_id)
