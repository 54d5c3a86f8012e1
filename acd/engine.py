"""The ACD: accepts calls, tracks agents, routes each call to the best eligible agent.

Routing runs when a call arrives (or escalates, or returns after ring-no-answer) and when
an agent becomes free. It is work-conserving: after every operation no routable agent is
eligible for a waiting call. Routable: available, or (capacity above 1) on a call with a free
slot, with no logout or pause pending. Order among calls: higher priority first, then earlier
arrival. Among agents: the queue's policy (longest idle, least occupied, best skill).

Events are built only for kinds somebody subscribed to, so an ACD nobody listens to (a
benchmark, a simulation that reads a few kinds) does no work for the rest. They are delivered
when the operation that caused them is complete, so a subscriber always sees a consistent ACD
and may call back into it.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from acd.agent import LEGAL_TRANSITIONS, Agent, AgentConfig, AgentState
from acd.call import Call, CallState
from acd.clock import Clock
from acd.errors import DuplicateCall, IllegalTransition, UnknownAgent, UnknownCall, UnknownQueue
from acd.events import (
    EVENT_TYPES,
    AgentLoggedIn,
    AgentPendingChanged,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallbackOffered,
    CallDispositioned,
    CallEnded,
    CallEscalated,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    Event,
    Subscriber,
)
from acd.queue import QueueConfig, Requirement, RoutingPolicy, requirement_at_step
from acd.routing import AvailableAgents, BucketKey, CallBucket, ProfilePool, WaitingCalls

P = ParamSpec("P")
R = TypeVar("R")


def _operation(method: Callable[Concatenate[Acd, P], R]) -> Callable[Concatenate[Acd, P], R]:
    """Mark an entry point (a public operation or a timer): the events it emits are delivered
    once it is complete, not half-way through while the ACD is in between states."""

    @functools.wraps(method)
    def run(self: Acd, *args: P.args, **kwargs: P.kwargs) -> R:
        self._depth += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending and not self._dispatching:
                self._flush()

    return run


class Acd:
    def __init__(
        self,
        clock: Clock,
        queues: Iterable[QueueConfig],
        *,
        pause_on_ring_no_answer: bool = True,
        occupancy_window: float = 3600.0,
    ) -> None:
        self.clock = clock
        self.queues: dict[str, QueueConfig] = {}
        for queue in queues:
            if queue.name in self.queues:
                raise ValueError(f"queue {queue.name!r} is defined twice")
            self.queues[queue.name] = queue
        for queue in self.queues.values():
            if queue.overflow is not None and queue.overflow not in self.queues:
                raise ValueError(f"queue {queue.name!r}: overflow target {queue.overflow!r} is unknown")
        self.pause_on_ring_no_answer = pause_on_ring_no_answer
        self.occupancy_window = occupancy_window
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, Call] = {}
        self.waiting = WaitingCalls()
        self.available = AvailableAgents()
        self._subscribers: tuple[tuple[Subscriber, frozenset[type[Event]] | None], ...] = ()
        self._wants: frozenset[type[Event]] = frozenset()
        self._waiting_in: dict[str, dict[str, Call]] = {name: {} for name in self.queues}
        self._pending: deque[Event] = deque()
        self._dispatching = False
        self._depth = 0
        self._seq = itertools.count()
        self._requirements: dict[BucketKey, Requirement] = {}
        self._eligible: dict[tuple[Any, Requirement], bool] = {}
        self._takes: dict[tuple[Any, BucketKey], bool] = {}
        self._least_occupied: dict[Any, list[tuple[float, float, float, int, Agent]]] = {}
        self._avail_token: dict[str, int] = {}  # unique per stretch of availability
        self._avail_seq = itertools.count(1)

    # -- subscribers ---------------------------------------------------------------------

    def subscribe(
        self, subscriber: Subscriber, kinds: Iterable[type[Event]] | None = None
    ) -> Callable[[], None]:
        """Deliver events to `subscriber` in order (all kinds, or only `kinds`).

        Events reach subscribers once the operation that caused them is complete. A
        subscriber may call back into the ACD; the events that causes are delivered after the
        current ones, still in order.
        """
        entry = (subscriber, None if kinds is None else frozenset(kinds))
        self._subscribers = (*self._subscribers, entry)
        self._update_wants()

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not entry)
            self._update_wants()

        return unsubscribe

    def _update_wants(self) -> None:
        wants: set[type[Event]] = set()
        for _, kinds in self._subscribers:
            wants |= set(EVENT_TYPES.values()) if kinds is None else kinds
        self._wants = frozenset(wants)

    def _emit(self, event: Event) -> None:
        self._pending.append(event)
        if self._depth == 0 and not self._dispatching:
            self._flush()

    def _flush(self) -> None:
        self._dispatching = True
        try:
            pending = self._pending
            while pending:
                event = pending.popleft()
                cls = type(event)
                for subscriber, kinds in self._subscribers:  # a tuple: safe to (un)subscribe
                    if kinds is None or cls in kinds:
                        subscriber(event)
        finally:
            self._dispatching = False

    # -- agents --------------------------------------------------------------------------

    def add_agent(self, config: AgentConfig) -> Agent:
        if config.id in self.agents:
            raise ValueError(f"agent {config.id!r} is already known")
        agent = self.agents[config.id] = Agent(config, self.clock.now())
        return agent

    @_operation
    def update_agent(self, config: AgentConfig) -> Agent:
        """Edit a known agent live (skills and levels, groups, capacity, name): its state and
        calls in progress stay; a free agent is offered at once a waiting call it can now take.
        A capacity below its current calls takes effect as they end."""
        agent = self.agent(config.id)
        if agent.indexed:
            self.available.remove(agent)
        agent.config = config
        agent.profile = config.profile
        agent.capacity = config.capacity
        if agent.state is AgentState.AVAILABLE:
            self._agent_free(agent)
        elif agent.state is AgentState.ON_CALL:
            self._on_call_changed(agent)
        return agent

    def agent(self, agent_id: str) -> Agent:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None

    @_operation
    def login(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT:
            raise IllegalTransition("agent", agent.id, agent.state.value, "login")
        agent.logout_pending = False
        agent.pause_pending = ""
        if AgentLoggedIn in self._wants:
            self._emit(
                AgentLoggedIn(
                    self.clock.now(),
                    agent.id,
                    tuple(sorted(agent.config.skills.items())),
                    tuple(sorted(agent.config.groups)),
                )
            )
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @_operation
    def logout(self, agent_id: str, *, when_free: bool = False) -> None:
        """Log the agent out; with `when_free`, an agent busy with calls (ringing, talking)
        logs out when they are over (after wrap-up) instead of taking another."""
        agent = self.agent(agent_id)
        if when_free and agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            if agent.logout_pending:
                return
            agent.logout_pending = True
            self.available.remove(agent)  # an agent on calls with a free slot takes no more
            self._pending_changed(agent)
            return
        if when_free and agent.state is AgentState.LOGGED_OUT:
            return
        self._set_state(agent, AgentState.LOGGED_OUT)  # refused: a pending logout stays
        agent.logout_pending = False
        agent.pause_pending = ""

    @_operation
    def cancel_logout(self, agent_id: str) -> None:
        """Withdraw a pending `logout(when_free=True)`: the agent keeps working (and, on calls
        with a free slot, becomes routable again)."""
        agent = self.agent(agent_id)
        if not agent.logout_pending:
            return
        agent.logout_pending = False
        self._pending_changed(agent)
        if agent.state is AgentState.ON_CALL:
            self._on_call_changed(agent)

    @_operation
    def pause(self, agent_id: str, reason: str = "") -> None:
        agent = self.agent(agent_id)
        if agent.state is AgentState.RINGING:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.PAUSED.value)
        self._set_state(agent, AgentState.PAUSED, reason)
        agent.pause_pending = ""

    @_operation
    def pause_when_free(self, agent_id: str, reason: str = "") -> None:
        """A supervisor's pause: at once when the agent has no call, else once its calls and
        wrap-up are over (it takes no new call meanwhile). A pending logout wins."""
        agent = self.agent(agent_id)
        if agent.state not in (AgentState.RINGING, AgentState.ON_CALL):
            self.pause(agent_id, reason)
            return
        if agent.logout_pending:
            return
        agent.pause_pending = reason or "supervisor"
        self.available.remove(agent)
        self._pending_changed(agent)

    @_operation
    def unpause(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.PAUSED:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @_operation
    def wrap_done(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.WRAP_UP:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        if agent.pause_pending and not agent.logout_pending:
            reason, agent.pause_pending = agent.pause_pending, ""
            self._set_state(agent, AgentState.PAUSED, reason)
            return
        agent.pause_pending = ""
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @_operation
    def set_disposition(self, agent_id: str, code: str, call_id: str | None = None) -> None:
        """Record the disposition of the agent's current or last call, or of `call_id` (one
        of the agent's active calls or its last ended one: agents of capacity > 1 name it)."""
        agent = self.agent(agent_id)
        if call_id is None:
            call_id = agent.call_id
            if not call_id:
                raise IllegalTransition("agent", agent.id, agent.state.value, "disposition (no call)")
        elif call_id not in agent.calls and (agent.last_ended is None or agent.last_ended.id != call_id):
            raise IllegalTransition(
                "agent", agent.id, agent.state.value, f"disposition of {call_id!r} (not its call)"
            )
        if CallDispositioned in self._wants:
            self._emit(CallDispositioned(self.clock.now(), call_id, agent.id, code))

    def _set_state(self, agent: Agent, new: AgentState, reason: str = "", call_id: str = "") -> None:
        old = agent.state
        if new not in LEGAL_TRANSITIONS[old]:
            raise IllegalTransition("agent", agent.id, old.value, new.value)
        now = self.clock.now()
        if agent.indexed:
            self.available.remove(agent)
        agent.seconds[old] += now - agent.state_since
        agent.state = new
        agent.state_since = now
        agent.pause_reason = reason if new is AgentState.PAUSED else ""
        if new is AgentState.AVAILABLE:
            agent.idle_since = now
        if AgentStateChanged in self._wants:
            self._emit(AgentStateChanged(now, agent.id, old.value, new.value, reason, call_id))

    def _pending_changed(self, agent: Agent) -> None:
        if AgentPendingChanged in self._wants:
            self._emit(
                AgentPendingChanged(self.clock.now(), agent.id, agent.logout_pending, agent.pause_pending)
            )

    def _agent_free(self, agent: Agent) -> None:
        """`agent` just became available: give it the best waiting call, or let it idle."""
        if agent.logout_pending:
            agent.logout_pending = False
            self._set_state(agent, AgentState.LOGGED_OUT)
            return
        if not self._route_agent(agent):
            self._index(agent)

    def _index(self, agent: Agent) -> None:
        """`agent` becomes routable: the newest idle of its pool."""
        self.available.add(agent)
        token = self._avail_token[agent.id] = next(self._avail_seq)
        if agent.profile in self._least_occupied:
            self._push_occupancy(agent, token)

    def _reindex(self, agent: Agent) -> None:
        """The load of `agent` (in the index) changed: renew its least-occupied entry."""
        token = self._avail_token[agent.id] = next(self._avail_seq)
        if agent.profile in self._least_occupied:
            self._push_occupancy(agent, token)

    def _on_call_changed(self, agent: Agent) -> None:
        """`agent` is on_call and its load or its pending requests changed: fill its free slots
        with waiting calls, and keep it routable while a slot stays free."""
        if agent.logout_pending or agent.pause_pending:
            self.available.remove(agent)
            return
        calls = agent.calls
        capacity = agent.capacity
        if len(calls) >= capacity:
            self.available.remove(agent)
            return
        was_indexed = agent.indexed
        offered = False
        while len(calls) < capacity and self._route_agent(agent):
            offered = True
        if len(calls) >= capacity:
            return  # `_assign` took it out of the index if it was in
        if not agent.indexed:
            agent.idle_since = self.clock.now()
            self._index(agent)
        elif was_indexed and not offered:
            self._reindex(agent)

    def _calls_gone(self, agent: Agent) -> None:
        """The last active call of the on_call `agent` went away (it had talked on another one
        before, which ended): wrap-up of that call follows."""
        last = agent.last_ended
        assert last is not None, "on_call with no call left and none ended"
        self._wrap_up(agent, last)

    # -- calls ---------------------------------------------------------------------------

    def call(self, call_id: str) -> Call:
        try:
            return self.calls[call_id]
        except KeyError:
            raise UnknownCall(call_id) from None

    @_operation
    def arrive(
        self,
        call_id: str,
        queue: str,
        *,
        caller: str = "",
        language: str = "",
        priority: int = 0,
        tier: str = "regular",
        skills: Mapping[str, int] | None = None,
        source: str = "",
        dialed: str = "",
    ) -> Call:
        """A call enters `queue`. It is routed at once if an eligible agent is free."""
        if call_id in self.calls:
            raise DuplicateCall(call_id)
        config = self.queues.get(queue)
        if config is None:
            raise UnknownQueue(queue)
        now = self.clock.now()
        priority += config.tier_priority.get(tier, 0)
        skill_tuple = tuple(sorted(skills.items())) if skills else ()
        call = Call(
            call_id,
            queue,
            arrived_at=now,
            seq=next(self._seq),
            caller=caller,
            language=language,
            priority=priority,
            tier=tier,
            skills=skill_tuple,
            source=source,
            dialed=dialed,
        )
        self.calls[call_id] = call
        if CallArrived in self._wants:
            self._emit(
                CallArrived(
                    now, call_id, queue, caller, language, priority, tier, skill_tuple, source, dialed
                )
            )
        self._place(call)
        return call

    @_operation
    def answer(self, call_id: str) -> None:
        """The agent's phone was answered: the caller and agent are talking."""
        call = self._call_in(call_id, CallState.RINGING, CallState.ON_CALL)
        agent = self.agents[call.agent_id]
        call.cancel_timers()
        now = self.clock.now()
        call.state = CallState.ON_CALL
        call.answered_at = now
        first = agent.state is AgentState.RINGING  # else on_call already (capacity > 1)
        if first:
            self._set_state(agent, AgentState.ON_CALL, call_id=call.id)
        if CallAnswered in self._wants:
            self._emit(CallAnswered(now, call.id, agent.id, call.queue, now - call.arrived_at))
        if first and agent.capacity > 1:
            self._on_call_changed(agent)

    @_operation
    def ring_no_answer(self, call_id: str) -> None:
        """The agent did not pick up: the call goes back to its place, the agent is paused
        (after its other calls and wrap-up, when it has some: see `_ring_no_answer_on_call`)."""
        call = self._call_in(call_id, CallState.RINGING, CallState.QUEUED)
        agent = self.agents[call.agent_id]
        call.cancel_timers()
        if CallRingNoAnswer in self._wants:
            self._emit(CallRingNoAnswer(self.clock.now(), call.id, agent.id, call.queue))
        call.state = CallState.QUEUED
        call.agent_id = ""
        del agent.calls[call.id]
        if agent.state is AgentState.ON_CALL:
            self._ring_no_answer_on_call(agent, call)
        elif agent.logout_pending:
            agent.logout_pending = False
            self._set_state(agent, AgentState.AVAILABLE)
            self._set_state(agent, AgentState.LOGGED_OUT)
            self._place(call, requeue=True)
        elif self.pause_on_ring_no_answer:
            self._set_state(agent, AgentState.PAUSED, "ring_no_answer")
            self._place(call, requeue=True)
        else:
            self._set_state(agent, AgentState.AVAILABLE)
            self._place(call, requeue=True)
            self._agent_free(agent)

    def _ring_no_answer_on_call(self, agent: Agent, call: Call) -> None:
        """An extra offer to an agent busy on other calls rang out. The call goes back to its
        place; the agent keeps its calls, takes no new one when pausing on ring-no-answer, and
        is paused once its last call and wrap-up are over."""
        self.available.remove(agent)  # so the call does not come straight back to it
        if self.pause_on_ring_no_answer and not agent.logout_pending and not agent.pause_pending:
            agent.pause_pending = "ring_no_answer"
            self._pending_changed(agent)
        self._place(call, requeue=True)
        if agent.calls:
            self._on_call_changed(agent)
        else:
            self._calls_gone(agent)

    @_operation
    def abandon(self, call_id: str, reason: str = "caller_hangup") -> None:
        """The caller hung up (or was dropped) before reaching an agent."""
        call = self.call(call_id)
        if call.state is CallState.QUEUED:
            self._unqueue(call)
        elif call.state is not CallState.RINGING:
            raise IllegalTransition("call", call.id, call.state.value, CallState.ABANDONED.value)
        call.cancel_timers()
        ringing_agent = self.agents[call.agent_id] if call.state is CallState.RINGING else None
        call.state = CallState.ABANDONED
        del self.calls[call.id]
        now = self.clock.now()
        if CallAbandoned in self._wants:
            self._emit(CallAbandoned(now, call.id, call.queue, now - call.arrived_at, reason))
        if ringing_agent is None:
            return
        del ringing_agent.calls[call.id]
        if ringing_agent.state is AgentState.RINGING:
            self._set_state(ringing_agent, AgentState.AVAILABLE)
            self._agent_free(ringing_agent)
        elif ringing_agent.calls:
            self._on_call_changed(ringing_agent)
        else:
            self._calls_gone(ringing_agent)

    @_operation
    def end(self, call_id: str, disposition: str = "") -> None:
        """The conversation is over: the agent goes to wrap-up (once its last call is over)."""
        call = self._call_in(call_id, CallState.ON_CALL, CallState.ENDED)
        agent = self.agents[call.agent_id]
        now = self.clock.now()
        call.state = CallState.ENDED
        del self.calls[call.id]
        calls = agent.calls
        del calls[call.id]
        log = agent.talk_log
        log.append((call.answered_at, now))
        horizon = now - self.occupancy_window
        while log and log[0][1] <= horizon:  # keep only what least-occupied can still see
            log.popleft()
        agent.call_id = call.id
        agent.last_ended = call
        if calls:  # capacity > 1, other calls go on: on_call still, one more free slot
            if CallEnded in self._wants:
                self._emit(
                    CallEnded(now, call.id, agent.id, call.queue, now - call.answered_at, disposition)
                )
            self._on_call_changed(agent)
            return
        self._set_state(agent, AgentState.WRAP_UP, call_id=call.id)
        if CallEnded in self._wants:
            self._emit(
                CallEnded(now, call.id, agent.id, call.queue, now - call.answered_at, disposition)
            )
        self._schedule_wrap(agent, call)

    def _wrap_up(self, agent: Agent, last: Call) -> None:
        """on_call -> wrap_up after `last`, the agent's last ended call."""
        agent.call_id = last.id
        self._set_state(agent, AgentState.WRAP_UP, call_id=last.id)
        self._schedule_wrap(agent, last)

    def _schedule_wrap(self, agent: Agent, call: Call) -> None:
        wrap = self.queues[call.queue].wrap_up
        if wrap is None:
            return
        if wrap <= 0:
            self._auto_wrap(agent, call.id)
        else:
            self.clock.call_later(wrap, lambda: self._auto_wrap(agent, call.id))

    @_operation
    def _auto_wrap(self, agent: Agent, call_id: str) -> None:
        if agent.state is AgentState.WRAP_UP and agent.call_id == call_id:
            self.wrap_done(agent.id)

    def _call_in(self, call_id: str, state: CallState, wanted: CallState) -> Call:
        call = self.call(call_id)
        if call.state is not state:
            raise IllegalTransition("call", call.id, call.state.value, wanted.value)
        return call

    # -- queueing ------------------------------------------------------------------------

    def _requirement(self, call: Call) -> Requirement:
        key = (call.queue, call.skills, call.step)
        req = self._requirements.get(key)
        if req is None:
            req = self._requirements[key] = requirement_at_step(
                self.queues[call.queue], call.skills, call.step
            )
        return req

    def _bucket(self, call: Call) -> CallBucket:
        key = (call.queue, call.skills, call.step)
        return self.waiting.bucket(key, self._requirement(call))

    def requirement(self, call_id: str) -> Requirement:
        """What an agent needs now to take this call (after escalation)."""
        return self._requirement(self.call(call_id))

    def eligible(self, agent: Agent, call: Call) -> bool:
        req = self._requirement(call)
        return req.satisfied_by(agent.config.skills, agent.config.groups)

    def _pool_eligible(self, pool: ProfilePool, req: Requirement) -> bool:
        key = (pool.key, req)
        ok = self._eligible.get(key)
        if ok is None:
            ok = self._eligible[key] = req.satisfied_by(pool.skills, pool.config_groups)
        return ok

    def _place(self, call: Call, requeue: bool = False) -> None:
        """Route `call` to an agent, or queue it (at its original place when re-queued)."""
        if self._route_call(call):
            return
        self.waiting.push(self._bucket(call), call)
        self._waiting_in[call.queue][call.id] = call
        if not requeue and CallQueued in self._wants:
            self._emit(
                CallQueued(self.clock.now(), call.id, call.queue, call.priority, self.position(call.id))
            )
        self._schedule(call)

    def _unqueue(self, call: Call) -> None:
        """`call` stops waiting in its bucket and queue."""
        self.waiting.discard(self._bucket(call), call)
        del self._waiting_in[call.queue][call.id]

    def _schedule(self, call: Call) -> None:
        config = self.queues[call.queue]
        now = self.clock.now()
        if call.step < len(config.escalation):
            due = call.enqueued_at + config.escalation[call.step].after
            call.timers.append(self.clock.call_later(due - now, lambda: self._escalate(call)))
        if config.max_wait is not None:
            due = call.enqueued_at + config.max_wait
            call.timers.append(self.clock.call_later(due - now, lambda: self._max_wait(call)))

    @_operation
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
        self._place(call, requeue=True)

    @_operation
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
        call.enqueued_at = now
        self._place(call, requeue=True)

    # -- supervisor operations on waiting calls -----------------------------------------

    @_operation
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

    @_operation
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
        call.enqueued_at = now
        self._place(call, requeue=True)

    # -- routing -------------------------------------------------------------------------

    def _route_call(self, call: Call) -> bool:
        """Offer `call` to the best available eligible agent under its queue's policy."""
        pools = self.available.nonempty
        if not pools:
            return False
        req = self._requirement(call)
        policy = self.queues[call.queue].policy
        best: Agent | None = None
        best_key: tuple[float, ...] = ()
        for pool in pools.values():
            if not self._pool_eligible(pool, req):
                continue
            if policy is RoutingPolicy.LONGEST_IDLE:
                agent = pool.oldest()
                key: tuple[float, ...] = (agent.idle_since,)
            elif policy is RoutingPolicy.BEST_SKILL:
                agent = pool.oldest()
                key = (-req.score(pool.skills), agent.idle_since)
            else:
                agent, load, occupancy = self._least_occupied_in(pool)
                key = (load, occupancy, agent.idle_since)
            if best is None or key < best_key:
                best, best_key = agent, key
        if best is None:
            return False
        self._assign(call, best)
        return True

    def _route_agent(self, agent: Agent) -> bool:
        """Give the free `agent` the highest-priority, longest-waiting call it can take."""
        nonempty = self.waiting.nonempty
        if not nonempty:
            return False
        best: CallBucket | None = None
        best_key: tuple[int, int] = (0, 0)
        profile = agent.profile
        takes = self._takes
        for key, bucket in nonempty.items():
            ok = takes.get((profile, key))
            if ok is None:
                ok = takes[(profile, key)] = bucket.requirement.satisfied_by(
                    agent.config.skills, agent.config.groups
                )
            if not ok:
                continue
            head = bucket.head()
            if head is None:
                continue
            order = (-head.priority, head.seq)
            if best is None or order < best_key:
                best, best_key = bucket, order
        if best is None:
            return False
        call = heapq.heappop(best.heap)[3]
        self.waiting.discard(best, call)
        del self._waiting_in[call.queue][call.id]
        self._assign(call, agent)
        return True

    def _assign(self, call: Call, agent: Agent) -> None:
        if call.timers:
            call.cancel_timers()
        call.state = CallState.RINGING
        call.agent_id = agent.id
        agent.call_id = call.id
        agent.calls[call.id] = call
        now = self.clock.now()
        if agent.state is AgentState.ON_CALL:  # an extra call for an agent of capacity > 1
            if not agent.indexed:
                pass  # `_on_call_changed` is filling its slots and indexes it after
            elif len(agent.calls) >= agent.capacity:
                self.available.remove(agent)
            else:
                agent.idle_since = now
                self.available.to_back(agent)
                self._reindex(agent)
        else:
            self._set_state(agent, AgentState.RINGING, call_id=call.id)
        if CallAssigned in self._wants:
            self._emit(
                CallAssigned(now, call.id, agent.id, call.queue, call.priority, now - call.arrived_at)
            )
        timeout = self.queues[call.queue].ring_timeout
        if timeout is not None and call.state is CallState.RINGING and call.agent_id == agent.id:
            call.timers.append(self.clock.call_later(timeout, lambda: self._ring_timeout(call, agent)))

    @_operation
    def _ring_timeout(self, call: Call, agent: Agent) -> None:
        if call.state is CallState.RINGING and call.agent_id == agent.id:
            self.ring_no_answer(call.id)

    # -- least-occupied index --------------------------------------------------------------

    def _least_occupied_in(self, pool: ProfilePool) -> tuple[Agent, float, float]:
        """The least occupied routable agent of `pool`, with its load (share of its capacity
        in use) and occupancy: the fewest calls for its capacity first, then the least talk.

        Both are taken when the agent enters the index or its load changes (one heap per
        profile, stale entries dropped lazily), so an idle agent's figure does not decay
        while it waits.
        """
        heap = self._least_occupied.get(pool.key)
        if heap is None:
            heap = self._least_occupied[pool.key] = []
            for agent in pool.agents.values():
                self._push_occupancy(agent, self._avail_token.get(agent.id, 0))
        while heap:
            load, occupancy, _, token, agent = heap[0]
            if agent.id in pool.agents and self._avail_token.get(agent.id) == token:
                return agent, load, occupancy
            heapq.heappop(heap)
        raise AssertionError("least-occupied index out of step with the available pool")

    def _push_occupancy(self, agent: Agent, token: int) -> None:
        occupancy = agent.occupancy(self.clock.now(), self.occupancy_window)
        load = len(agent.calls) / agent.capacity
        heap = self._least_occupied.setdefault(agent.profile, [])
        heapq.heappush(heap, (load, occupancy, agent.idle_since, token, agent))
        if len(heap) > 4 * len(self.available.pools[agent.profile].agents) + 64:
            # Entries left behind by a load change of an agent that stayed routable sit below
            # the top and are never popped: drop every stale entry now and then.
            tokens = self._avail_token
            heap[:] = [e for e in heap if e[4].indexed and tokens.get(e[4].id) == e[3]]
            heapq.heapify(heap)

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
