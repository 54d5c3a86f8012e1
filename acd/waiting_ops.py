"""What happens to calls while they wait, and the views of them: escalation and maximum
wait (overflow) as their timers fire, a supervisor's priority change or move, a call's
place and the queue snapshot. Mixed into `Acd` (which provides what is declared here)."""

from __future__ import annotations

from typing import Any

from acd.agent import Agent, AgentState
from acd.call import Call, CallState
from acd.clock import Clock
from acd.dispatch import EventDispatch, operation
from acd.errors import UnknownQueue
from acd.events import CallbackOffered, CallEscalated, CallOverflowed
from acd.queue import QueueConfig, Requirement
from acd.routing import WaitingCalls


class WaitingOps(EventDispatch):
    """Operations on waiting calls; mixed into `Acd`."""

    agents: dict[str, Agent]
    calls: dict[str, Call]
    queues: dict[str, QueueConfig]
    clock: Clock
    waiting: WaitingCalls
    _waiting_in: dict[str, dict[str, Call]]

    # -- provided by the engine ------------------------------------------------------------

    def call(self, call_id: str) -> Call:
        raise NotImplementedError

    def abandon(self, call_id: str, reason: str = "caller_hangup") -> None:
        raise NotImplementedError

    def _call_in(self, call_id: str, state: CallState, wanted: CallState) -> Call:
        raise NotImplementedError

    def _requirement(self, call: Call) -> Requirement:
        raise NotImplementedError

    def _place(self, call: Call, requeue: bool = False) -> None:
        raise NotImplementedError

    def _unqueue(self, call: Call) -> None:
        raise NotImplementedError

    # -- what an agent needs ---------------------------------------------------------------

    def requirement(self, call_id: str) -> Requirement:
        """What an agent needs now to take this call (after escalation)."""
        return self._requirement(self.call(call_id))

    def eligible(self, agent: Agent, call: Call) -> bool:
        req = self._requirement(call)
        return req.satisfied_by(agent.config.skills, agent.config.groups)

    # -- timers of waiting calls -----------------------------------------------------------

    @operation
    def _escalate(self, call: Call) -> None:
        if call.state is not CallState.QUEUED:
            return
        config = self.queues[call.queue]
        step = config.escalation[call.step]
        now = self.clock.now()
        if CallEscalated in self._wants:
            self._emit(
                CallEscalated(
                    now, call.id, call.queue, call.step + 1, step.min_level, tuple(sorted(step.groups))
                )
            )
        if step.offer_callback and CallbackOffered in self._wants:
            self._emit(CallbackOffered(now, call.id, call.queue, now - call.arrived_at))
        self._unqueue(call)
        call.cancel_timers()
        call.step += 1
        call.requirement = None
        self._place(call, requeue=True)

    @operation
    def _max_wait(self, call: Call) -> None:
        if call.state is not CallState.QUEUED:
            return
        config = self.queues[call.queue]
        if config.overflow is None:
            self.abandon(call.id, reason="max_wait")
            return
        now = self.clock.now()
        if CallOverflowed in self._wants:
            self._emit(CallOverflowed(now, call.id, call.queue, config.overflow))
        self._unqueue(call)
        call.cancel_timers()
        call.queue = config.overflow
        call.step = 0
        call.requirement = None
        call.enqueued_at = now
        self._place(call, requeue=True)

    # -- supervisor operations on waiting calls -----------------------------------------

    @operation
    def set_priority(self, call_id: str, priority: int) -> None:
        """A supervisor changes a waiting call's priority: it keeps its arrival order among
        calls of the same priority and its escalation and max-wait times."""
        call = self._call_in(call_id, CallState.QUEUED, CallState.QUEUED)
        if call.priority == priority:
            return
        self._unqueue(call)
        call.cancel_timers()
        call.priority = priority
        self._place(call, requeue=True)

    @operation
    def move(self, call_id: str, queue: str) -> None:
        """A supervisor moves a waiting call to another queue: it starts there at escalation
        step 0 with that queue's timers (as an overflow does), and is routed at once if an
        agent of that queue is free."""
        call = self._call_in(call_id, CallState.QUEUED, CallState.QUEUED)
        if queue not in self.queues:
            raise UnknownQueue(queue)
        if queue == call.queue:
            return
        now = self.clock.now()
        if CallOverflowed in self._wants:
            self._emit(CallOverflowed(now, call.id, call.queue, queue))
        self._unqueue(call)
        call.cancel_timers()
        call.queue = queue
        call.step = 0
        call.requirement = None  # that queue's skills apply
        call.enqueued_at = now
        self._place(call, requeue=True)

    # -- views ---------------------------------------------------------------------------

    def position(self, call_id: str) -> int:
        """1-based place of a waiting call in its queue (0 when not waiting)."""
        call = self.call(call_id)
        if call.state is not CallState.QUEUED:
            return 0
        priority, seq = call.priority, call.seq
        ahead = sum(
            1
            for other in self._waiting_in[call.queue].values()
            if other.priority > priority or (other.priority == priority and other.seq < seq)
        )
        return ahead + 1

    def waiting_calls(self, queue: str | None = None) -> list[Call]:
        """Waiting calls (of one queue, or all) in routing order."""
        if queue is None:
            calls = [c for waiting in self._waiting_in.values() for c in waiting.values()]
        elif queue in self._waiting_in:
            calls = list(self._waiting_in[queue].values())
        else:
            raise UnknownQueue(queue)
        return sorted(calls, key=lambda c: (-c.priority, c.seq))

    def snapshot(self) -> dict[str, Any]:
        """A supervisor's view: waiting calls per queue, agents per state."""
        now = self.clock.now()
        queues: dict[str, dict[str, Any]] = {}
        for name in self.queues:
            waiting = self.waiting_calls(name)
            queues[name] = {
                "waiting": len(waiting),
                "longest_wait": max((now - c.arrived_at for c in waiting), default=0.0),
            }
        states: dict[str, int] = {state.value: 0 for state in AgentState}
        for agent in self.agents.values():
            states[agent.state.value] += 1
        return {"at": now, "queues": queues, "agents": states}
