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

import itertools
from collections.abc import Iterable, Mapping
from functools import partial

from acd import aging, ring_policy, targeted
from acd.agent import (
    LEGAL_TRANSITIONS,
    STATE_SLOT,
    Agent,
    AgentConfig,
    AgentState,
    drop_talks_before,
)
from acd.agent_index import RoutableAgents
from acd.call import Call, CallState
from acd.clock import Clock
from acd.dispatch import operation
from acd.errors import DuplicateCall, IllegalTransition, UnknownAgent, UnknownCall, UnknownQueue
from acd.events import (
    AgentLoggedIn,
    AgentPendingChanged,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallDispositioned,
    CallEnded,
    CallQueued,
    CallRingNoAnswer,
)
from acd.held import HeldCallbacks
from acd.queue import QueueConfig, Requirement, RoutingPolicy, requirement_at_step
from acd.routing import WaitingCalls
from acd.transfer import TransferOps
from acd.waiting_ops import WaitingOps

# Members read on every event, bound to globals: `AgentState.ON_CALL` costs about five global
# reads on Python 3.11 (EnumType's __getattr__ defeats the attribute cache).
_AVAILABLE, _RINGING, _ON_CALL, _WRAP_UP, _PAUSED = (
    AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.PAUSED)
_CALL_RINGING, _TALKING, _ENDED = CallState.RINGING, CallState.ON_CALL, CallState.ENDED
_WAITING, _GONE = CallState.QUEUED, CallState.ABANDONED
_STATE_VALUE = {state: state.value for state in AgentState}  # `.value` is a Python-level property


class Acd(TransferOps, WaitingOps):  # transfers: acd/transfer.py; waiting calls: acd/waiting_ops.py
    def __init__(
        self,
        clock: Clock,
        queues: Iterable[QueueConfig],
        *,
        pause_on_ring_no_answer: bool = True,
        occupancy_window: float = 3600.0,
    ) -> None:
        super().__init__()
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
        self.held = HeldCallbacks()  # callback requests kept for later (acd/held.py)
        self.available = RoutableAgents(self._figures)
        self._waiting_in: dict[str, dict[str, Call]] = {name: {} for name in self.queues}
        self._seq = itertools.count()
        self._armed = itertools.count()  # order of arming wait timers: equal due times fire so
        # Requirements of calls without skills of their own, per (queue, step); a call with
        # its own keeps its requirement on itself (`Call.requirement`) while it is in the ACD.
        self._requirements: dict[tuple[str, int], Requirement] = {}
        self._pairs: dict[tuple[str, int], tuple[str, int]] = {}  # one (skill, level) of each

    # -- agents --------------------------------------------------------------------------

    def add_agent(self, config: AgentConfig) -> Agent:
        if config.id in self.agents:
            raise ValueError(f"agent {config.id!r} is already known")
        agent = self.agents[config.id] = Agent(config, self.clock.now())
        return agent

    @operation
    def update_agent(self, config: AgentConfig) -> Agent:
        """Edit a known agent live (skills and levels, groups, capacity, name): its state and
        calls in progress stay; a free agent is offered at once a waiting call it can now take.
        A capacity below its current calls takes effect as they end."""
        agent = self.agent(config.id)
        if agent.indexed:
            self.available.remove(agent)
        agent.config = config
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

    @operation
    def login(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.LOGGED_OUT or agent.config.disabled:
            raise IllegalTransition("agent", agent.id, "disabled" if agent.config.disabled else agent.state.value,
                                    "login")
        agent.logout_pending = False
        agent.pause_pending = ""
        agent.ring_outs = 0
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

    @operation
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

    @operation
    def cancel_logout(self, agent_id: str) -> None:
        """Withdraw a pending `logout(when_free=True)`: the agent keeps working (and, on calls
        with a free slot, becomes routable again)."""
        agent = self.agent(agent_id)
        if not agent.logout_pending or agent.config.disabled:  # a disabled agent goes (live_config)
            return
        agent.logout_pending = False
        self._pending_changed(agent)
        if agent.state is AgentState.ON_CALL:
            self._on_call_changed(agent)

    @operation
    def pause(self, agent_id: str, reason: str = "") -> None:
        """Pause (from available or wrap-up). A disabled agent (logged out once its calls are
        over) pausing in its wrap-up is logged out instead: it may not stay on."""
        agent = self.agent(agent_id)
        if agent.state is AgentState.RINGING:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.PAUSED.value)
        if agent.config.disabled and agent.logout_pending and not agent.calls and agent.state is _WRAP_UP:
            agent.logout_pending = False
            agent.pause_pending = ""
            self._set_state(agent, AgentState.LOGGED_OUT)
            return
        self._set_state(agent, AgentState.PAUSED, reason)
        agent.pause_pending = ""

    @operation
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

    @operation
    def unpause(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not AgentState.PAUSED:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        self._set_state(agent, AgentState.AVAILABLE)
        self._agent_free(agent)

    @operation
    def wrap_done(self, agent_id: str) -> None:
        agent = self.agent(agent_id)
        if agent.state is not _WRAP_UP:
            raise IllegalTransition("agent", agent.id, agent.state.value, AgentState.AVAILABLE.value)
        self._wrap_over(agent)

    def _wrap_over(self, agent: Agent) -> None:
        """The wrap-up of `agent` (in wrap_up) is over: it pauses if a pause is pending, else
        it is free."""
        if agent.pause_pending and not agent.logout_pending:
            reason, agent.pause_pending = agent.pause_pending, ""
            self._set_state(agent, AgentState.PAUSED, reason)
            return
        agent.pause_pending = ""
        self._set_state(agent, _AVAILABLE)
        self._agent_free(agent)

    @operation
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
        agent.seconds[STATE_SLOT[old]] += now - agent.state_since
        agent.state = new
        agent.state_since = now
        agent.pause_reason = reason if new is _PAUSED else ""
        if new is _AVAILABLE:
            agent.idle_since = now
        if AgentStateChanged in self._wants:
            self._emit(AgentStateChanged(now, agent.id, _STATE_VALUE[old], _STATE_VALUE[new], reason, call_id))

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
        if agent.pause_pending:  # a supervisor's pause while its offer rang (caller gone, rang out)
            reason, agent.pause_pending = agent.pause_pending, ""
            self._set_state(agent, AgentState.PAUSED, reason)
            return
        if not self._route_agent(agent):
            self._index(agent)

    def _index(self, agent: Agent) -> None:
        """`agent` becomes routable: the newest idle."""
        self.available.add(agent)

    def _figures(self, agent: Agent) -> tuple[float, float]:
        """What least-occupied routing orders agents by: load for the capacity, occupancy."""
        return len(agent.calls) / agent.capacity, agent.occupancy(self.clock.now(), self.occupancy_window)

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
            self.available.refigure(agent)

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

    @operation
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
        waited: float = 0.0,
        target: str = "",
    ) -> Call:
        """A call enters `queue`. It is routed at once if an eligible agent is free.

        `waited`: seconds the caller already waited before this process saw it (a call adopted
        after a restart), so its wait and escalations count from its first arrival.
        `target`: the only agent it may be offered to (acd/targeted.py)."""
        if call_id in self.calls or call_id in self.held.requests:  # held: acd/held.py
            raise DuplicateCall(call_id)
        config = self.queues.get(queue)
        if config is None:
            raise UnknownQueue(queue)
        now = self.clock.now()
        arrived = now - waited if waited > 0 else now  # (no new float per call when it did not wait)
        priority += config.tier_priority.get(tier, 0)
        if skills:
            pairs = self._pairs
            skill_tuple = tuple([pairs.setdefault(pair, pair) for pair in sorted(skills.items())])
        else:
            skill_tuple = ()
        call = Call(
            call_id,
            queue,
            arrived_at=arrived,
            seq=next(self._seq),
            pos=self.waiting.new_position(self.calls.values(), len(self.calls)),
            caller=caller,
            language=language,
            priority=priority,
            tier=tier,
            skills=skill_tuple,
            source=source,
            dialed=dialed,
            target=target,
        )
        self.calls[call_id] = call
        if CallArrived in self._wants:
            self._emit(CallArrived(now, call_id, queue, caller, language, priority, tier, skill_tuple,
                                   source, dialed, target, max(0.0, waited)))
        self._place(call)
        return call

    @operation
    def answer(self, call_id: str) -> None:
        """The agent's phone was answered: the caller and agent are talking."""
        call = self._call_in(call_id, _CALL_RINGING, _TALKING)
        agent = self.agents[call.agent_id]
        call.cancel_timers()
        now = self.clock.now()
        call.state = _TALKING
        call.answered_at = now
        agent.ring_outs = 0
        first = agent.state is _RINGING  # else on_call already (capacity > 1)
        if first:
            self._set_state(agent, _ON_CALL, call_id=call.id)
        if CallAnswered in self._wants:
            self._emit(CallAnswered(now, call.id, agent.id, call.queue, now - call.arrived_at))
        if first and agent.capacity > 1:
            self._on_call_changed(agent)

    @operation
    def ring_no_answer(self, call_id: str) -> None:
        """The agent did not pick up: the call goes back to its place, the agent is paused
        (after its other calls and wrap-up, when it has some: see `_ring_no_answer_on_call`)."""
        self._return_offer(call_id, None)

    @operation
    def offer_failed(self, call_id: str, reason: str = "offer_failed") -> None:
        """The offer never reached the agent's phone (e.g. the PBX link is down): the call goes
        back to its place at once and the agent is paused with `reason` whatever
        `pause_on_ring_no_answer` says, so the same offer is not made again straight away."""
        self._return_offer(call_id, reason)

    def _return_offer(self, call_id: str, pause_reason: str | None) -> None:
        call = self._call_in(call_id, CallState.RINGING, CallState.QUEUED)
        agent = self.agents[call.agent_id]
        call.cancel_timers()
        if CallRingNoAnswer in self._wants:
            self._emit(CallRingNoAnswer(self.clock.now(), call.id, agent.id, call.queue, pause_reason or ""))
        call.state = CallState.QUEUED
        call.agent_id = ""
        del agent.calls[call.id]
        pausing = ring_policy.pausing(self, agent, call, pause_reason)  # the queue's policy
        if agent.state is AgentState.ON_CALL:
            self._ring_no_answer_on_call(agent, call, pause_reason, pausing)
        elif agent.logout_pending:
            agent.logout_pending = False
            self._set_state(agent, AgentState.AVAILABLE)
            self._set_state(agent, AgentState.LOGGED_OUT)
            self._place(call, requeue=True)
        elif pausing:
            self._set_state(agent, AgentState.PAUSED, pause_reason or "ring_no_answer")
            self._place(call, requeue=True)
        else:
            self._set_state(agent, AgentState.AVAILABLE)
            self._place(call, requeue=True)
            if ring_policy.holds(self, call):
                ring_policy.hold_from(self, call, agent, lambda: self._agent_free(agent))
            else:
                self._agent_free(agent)

    def _ring_no_answer_on_call(self, agent: Agent, call: Call, pause_reason: str | None, pausing: bool) -> None:
        """An extra offer to an agent busy on other calls rang out. The call goes back to its
        place; the agent keeps its calls, takes no new one when pausing on ring-no-answer, and
        is paused once its last call and wrap-up are over."""
        self.available.remove(agent)  # so the call does not come straight back to it
        if pausing and not agent.logout_pending and not agent.pause_pending:
            agent.pause_pending = pause_reason or "ring_no_answer"
            self._pending_changed(agent)
        self._place(call, requeue=True)
        if agent.calls:
            if not pausing and ring_policy.holds(self, call):
                ring_policy.hold_from(self, call, agent, lambda: self._on_call_changed(agent))
            else:
                self._on_call_changed(agent)
        else:
            self._calls_gone(agent)

    @operation
    def _reoffer(self, call: Call) -> None:
        ring_policy.reoffer(self, call)  # its hold-out from the agent it rang out on is over

    @operation
    def _age(self, call: Call) -> None:
        aging.raise_priority(self, call)  # its aging timer fired

    @operation
    def abandon(self, call_id: str, reason: str = "caller_hangup") -> None:
        """The caller hung up (or was dropped) before reaching an agent."""
        call = self.call(call_id)
        if call.state is _WAITING:
            self._unqueue(call)
        elif call.state is not _CALL_RINGING:
            raise IllegalTransition("call", call.id, call.state.value, CallState.ABANDONED.value)
        call.cancel_timers()
        ringing_agent = self.agents[call.agent_id] if call.state is _CALL_RINGING else None
        call.state = _GONE
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

    @operation
    def end(self, call_id: str, disposition: str = "") -> None:
        """The conversation is over: the agent goes to wrap-up (once its last call is over)."""
        call = self._call_in(call_id, _TALKING, _ENDED)
        agent = self.agents[call.agent_id]
        now = self.clock.now()
        call.state = _ENDED
        del self.calls[call.id]
        calls = agent.calls
        del calls[call.id]
        log = agent.talk_log
        log.append((call.answered_at, now))
        if log[0][1] <= now - self.occupancy_window:  # what least-occupied can still see
            drop_talks_before(log, now - self.occupancy_window)
        agent.call_id = call.id
        agent.last_ended = call
        if calls:  # capacity > 1, other calls go on: on_call still, one more free slot
            if CallEnded in self._wants:
                self._emit(
                    CallEnded(now, call.id, agent.id, call.queue, now - call.answered_at, disposition)
                )
            self._on_call_changed(agent)
        else:
            self._set_state(agent, _WRAP_UP, call_id=call.id)
            if CallEnded in self._wants:
                self._emit(
                    CallEnded(now, call.id, agent.id, call.queue, now - call.answered_at, disposition)
                )
            self._schedule_wrap(agent, call)
        if call.parties or call.monitors:
            self._call_over(call)  # third parties and supervisors go too (acd/transfer.py)

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
        else:  # arming order and due time kept for a snapshot (acd/snapshot.py)
            now = self.clock.now()
            agent.wrap_timer = (next(self._armed), now, now + wrap)
            self.clock.call_later(wrap, partial(self._auto_wrap, agent, call.id))

    @operation
    def _auto_wrap(self, agent: Agent, call_id: str) -> None:
        if agent.state is _WRAP_UP and agent.call_id == call_id:
            self._wrap_over(agent)  # as `wrap_done`, already inside an operation

    def _call_in(self, call_id: str, state: CallState, wanted: CallState) -> Call:
        call = self.call(call_id)
        if call.state is not state:
            raise IllegalTransition("call", call.id, call.state.value, wanted.value)
        return call

    # -- queueing ------------------------------------------------------------------------

    def _requirement(self, call: Call) -> Requirement:
        req = call.requirement
        if req is None:
            if call.skills:
                req = requirement_at_step(self.queues[call.queue], call.skills, call.step)
            else:
                key = (call.queue, call.step)
                req = self._requirements.get(key)
                if req is None:
                    req = self._requirements[key] = requirement_at_step(self.queues[call.queue], (), call.step)
            call.requirement = req
        return req

    def _place(self, call: Call, requeue: bool = False) -> None:
        """Route `call` to an agent, or queue it (at its original place when re-queued)."""
        if self._route_call(call):
            return
        self.waiting.push(call, self._requirement(call))
        self._waiting_in[call.queue][call.id] = call
        if not requeue and CallQueued in self._wants:
            self._emit(
                CallQueued(self.clock.now(), call.id, call.queue, call.priority, self.position(call.id))
            )
        self._schedule(call)

    def _unqueue(self, call: Call) -> None:
        """`call` stops waiting in its bucket and queue."""
        self.waiting.discard(call)
        del self._waiting_in[call.queue][call.id]

    def _schedule(self, call: Call) -> None:
        config = self.queues[call.queue]
        now = self.clock.now()
        call.armed = next(self._armed)
        if call.step < len(config.escalation):
            due = call.enqueued_at + config.escalation[call.step].after
            call.add_timer(self.clock.call_later(due - now, lambda: self._escalate(call)))
        if config.max_wait is not None:
            due = call.enqueued_at + config.max_wait
            call.add_timer(self.clock.call_later(due - now, lambda: self._max_wait(call)))
        aging.arm(self, call)
        ring_policy.arm(self, call)

    # -- routing -------------------------------------------------------------------------

    def _route_call(self, call: Call) -> bool:
        """Offer `call` to the best available eligible agent under its queue's policy."""
        if call.target:
            return targeted.offer(self, call)
        available = self.available
        if not available.all:
            return False
        req = self._requirement(call)
        policy = self.queues[call.queue].policy
        if policy is RoutingPolicy.LONGEST_IDLE:
            agent = available.longest_idle(req)
        elif policy is RoutingPolicy.BEST_SKILL:
            agent = available.best_skill(req)
        else:
            agent = available.least_occupied(req)
        if agent is None:
            return False
        self._assign(call, agent)
        return True

    def _route_agent(self, agent: Agent) -> bool:
        """Give the free `agent` the highest-priority, longest-waiting call it can take."""
        call = self.waiting.first_for(agent)
        if call is None:
            return False
        self.waiting.discard(call)
        del self._waiting_in[call.queue][call.id]
        self._assign(call, agent)
        return True

    def _assign(self, call: Call, agent: Agent) -> None:
        if call.timers:
            call.cancel_timers()
        call.state = _CALL_RINGING
        call.agent_id = agent.id
        if call.held_from:
            call.held_from = ""
        agent.call_id = call.id
        agent.calls[call.id] = call
        now = self.clock.now()
        if agent.state is _ON_CALL:  # an extra call for an agent of capacity > 1
            if not agent.indexed:
                pass  # `_on_call_changed` is filling its slots and indexes it after
            elif len(agent.calls) >= agent.capacity:
                self.available.remove(agent)
            else:
                agent.idle_since = now
                self.available.to_back(agent)
        else:
            self._set_state(agent, _RINGING, call_id=call.id)
        if CallAssigned in self._wants:
            self._emit(
                CallAssigned(now, call.id, agent.id, call.queue, call.priority, now - call.arrived_at)
            )
        timeout = call.ring_for = self.queues[call.queue].ring_timeout  # an edit: the next offer's
        if timeout is not None and call.state is _CALL_RINGING and call.agent_id == agent.id:
            call.armed = next(self._armed)  # a restored snapshot arms timers in this order too
            call.add_timer(self.clock.call_later(timeout, partial(self._ring_timeout, call, agent)))

    @operation
    def _ring_timeout(self, call: Call, agent: Agent) -> None:
        if call.state is _CALL_RINGING and call.agent_id == agent.id:
            self.ring_no_answer(call.id)
