"""Rebuild an `Acd` from its event stream, so another node can take over the live state.

The rebuild re-runs the engine: each event that starts an operation (an arrival, an answer,
a pause, a fired timer such as an escalation...) is applied to a fresh `Acd` with the same
queues and agents, on a clock set to the event's time; the events the engine emits in
return must be the next ones of the stream, or `ReplayError` is raised. An accepted stream
therefore leaves the rebuilt ACD in the state the original was in (the engine is
deterministic), including routing order, waiting order and least-occupied history.

Timers are not fired during the replay (the stream says when they fired); those still
pending at the end are re-armed on the live clock relative to its time (a ring timeout due
while nobody was leader fires at once).

A pending `logout(when_free=True)` and its `cancel_logout` are in the stream as
`AgentPendingChanged` (a pause pending after an extra offer rang out is emitted inside the
ring-no-answer, which the replay re-runs). The stream must start when the ACD started (a
trimmed stream lacks the calls' arrivals).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from acd import live_config
from acd.agent import AgentConfig
from acd.call import CallState
from acd.clock import Clock, Timer
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import (
    AgentConfigured,
    AgentLoggedIn,
    AgentPendingChanged,
    AgentStateChanged,
    CallAbandoned,
    CallAged,
    CallAnswered,
    CallArrived,
    CallbackAccepted,
    CallbackDropped,
    CallbackHeld,
    CallbackMerged,
    CallDispositioned,
    CallEnded,
    CallEscalated,
    CallOverflowed,
    CallReoffered,
    CallRingNoAnswer,
    Event,
    QueueConfigured,
)
from acd.held import (
    accept_callback,
    drop_held,
    hold_callback,
    merge_held,
    place_held,
    request_from_event,
)
from acd.queue import QueueConfig
from acd.transfer_state import call_data, replay_transfer_event


class ReplayError(AcdError):
    """The stream is not one this engine and configuration can have produced."""

    def __init__(self, index: int, event: Event, detail: str) -> None:
        super().__init__(f"event {index} ({event.kind} at {event.at}): {detail}")
        self.index = index
        self.event = event


class _Deferred:
    """A timer asked for during the replay; armed on the live clock once the replay is over."""

    __slots__ = ("callback", "cancelled", "live", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self.live: Timer | None = None

    def cancel(self) -> None:
        self.cancelled = True
        if self.live is not None:
            self.live.cancel()


class _ReplayClock:
    """Time set by the replay to each event's `at`; timers only recorded."""

    def __init__(self, start: float) -> None:
        self.time = start
        self.timers: list[_Deferred] = []
        self._limit = 4096

    def now(self) -> float:
        return self.time

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = _Deferred(self.time + max(0.0, delay), callback)
        self.timers.append(timer)
        if len(self.timers) > self._limit:  # drop cancelled ones now and then
            self.timers = [t for t in self.timers if not t.cancelled]
            self._limit = max(4096, 2 * len(self.timers))
        return timer

    def arm(self, clock: Clock) -> int:
        """Schedule every timer still pending on `clock`; returns how many."""
        now = clock.now()
        call_at = getattr(clock, "call_at", None)  # exact due times on a virtual clock
        armed = 0
        for timer in self.timers:
            if timer.cancelled:
                continue
            if call_at is not None:
                timer.live = call_at(timer.when, timer.callback)
            else:
                timer.live = clock.call_later(timer.when - now, timer.callback)
            armed += 1
        self.timers = []
        return armed


class Replayed:
    """An ACD rebuilt from a stream, its timers not yet on any clock (the replay may run in
    a worker thread; `attach` then runs on the loop)."""

    def __init__(self, acd: Acd, clock: _ReplayClock) -> None:
        self.acd = acd
        self._clock = clock
        self.applied = 0  # events re-run so far

    def follow(self) -> StreamFollower:
        """Keep re-running the stream as it grows (instead of `apply` once)."""
        return StreamFollower(self.acd, self._clock)

    @property
    def time(self) -> float:
        """The replay clock's time (the last event's, or the start)."""
        return self._clock.time

    def apply(self, events: Iterable[Event]) -> None:
        """Re-run more events (a tail after a snapshot) on the ACD before it is attached."""
        stream = list(events)
        apply_events(self.acd, self._clock, stream, self.applied)
        self.applied += len(stream)

    def attach(self, clock: Clock) -> Acd:
        """Re-arm the pending timers on `clock` (relative to its time) and run on it."""
        self._clock.arm(clock)
        self.acd.clock = clock
        return self.acd


def rebuild(
    events: Iterable[Event],
    queues: Iterable[QueueConfig],
    agents: Iterable[AgentConfig],
    clock: Clock,
    *,
    pause_on_ring_no_answer: bool = True,
    occupancy_window: float = 3600.0,
    start: float | None = None,
) -> Acd:
    """A new `Acd` in the state the stream `events` leads to, running on `clock`.

    `queues`, `agents` and the options must be those of the ACD that produced the stream;
    `start` is when its agents were added (default: the first event's time).
    """
    replayed = replay(
        events,
        queues,
        agents,
        pause_on_ring_no_answer=pause_on_ring_no_answer,
        occupancy_window=occupancy_window,
        start=start,
    )
    return replayed.attach(clock)


def replay(
    events: Iterable[Event],
    queues: Iterable[QueueConfig],
    agents: Iterable[AgentConfig],
    *,
    pause_on_ring_no_answer: bool = True,
    occupancy_window: float = 3600.0,
    start: float | None = None,
) -> Replayed:
    """`rebuild` without a clock yet: see `Replayed.attach`."""
    stream = list(events)
    first = stream[0] if stream else None
    replay_clock = _ReplayClock(start if start is not None else (first.at if first else 0.0))
    acd = Acd(
        replay_clock,
        queues,
        pause_on_ring_no_answer=pause_on_ring_no_answer,
        occupancy_window=occupancy_window,
    )
    for config in agents:
        acd.add_agent(config)
    replayed = Replayed(acd, replay_clock)
    replayed.apply(stream)
    return replayed


def apply_events(acd: Acd, clock: _ReplayClock, stream: list[Event], offset: int = 0) -> None:
    """Re-run `stream` on `acd` (on the replay clock `clock`), checking every emitted event;
    `offset` numbers the events in errors (their place in the whole stream)."""
    emitted: deque[Event] = deque()
    unsubscribe = acd.subscribe(emitted.append)
    try:
        index = 0
        for index, event in enumerate(stream):
            if event.at < clock.time:
                raise ReplayError(offset + index, event, f"time goes back (from {clock.time})")
            clock.time = event.at
            if not emitted:
                try:
                    _apply(acd, event, stream[index + 1] if index + 1 < len(stream) else None)
                except AcdError as exc:
                    raise ReplayError(offset + index, event, f"refused by the engine: {exc}") from exc
                if not emitted:
                    raise ReplayError(offset + index, event, "the engine emitted nothing for it")
            produced = emitted.popleft()
            if produced != event:
                raise ReplayError(offset + index, event, f"the engine emitted {produced.to_dict()} instead")
        if emitted:
            raise ReplayError(offset + index, emitted[0], "the stream ends in the middle of an operation")
    finally:
        unsubscribe()  # the rebuilt ACD starts with no subscriber of ours, like a new one


class StreamFollower:
    """Re-runs a stream as it grows (a follower's replica of the leader's ACD): events may
    come in any batches, an operation cut between two batches is finished by the next one.
    Timers are not fired (the leader's stream says when they fired)."""

    def __init__(self, acd: Acd, clock: _ReplayClock) -> None:
        self.acd = acd
        self.clock = clock
        self.applied = 0
        self._emitted: deque[Event] = deque()
        self._held: Event | None = None  # an on_call -> wrap_up waiting for its call_ended
        self._unsubscribe = acd.subscribe(self._emitted.append)

    @property
    def complete(self) -> bool:
        """No operation half-way (its remaining events not in the stream yet)."""
        return not self._emitted and self._held is None

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            if self._held is not None:
                held, self._held = self._held, None
                self._one(held, event)
            self._one(event, None, last=True)

    def _one(self, event: Event, following: Event | None, *, last: bool = False) -> None:
        index = self.applied
        if not self._emitted:
            if event.at < self.clock.time:
                raise ReplayError(index, event, f"time goes back (from {self.clock.time})")
            self.clock.time = event.at
            if last and _needs_following(event):
                self._held = event
                return
            try:
                _apply(self.acd, event, following)
            except AcdError as exc:
                raise ReplayError(index, event, f"refused by the engine: {exc}") from exc
            if not self._emitted:
                raise ReplayError(index, event, "the engine emitted nothing for it")
        produced = self._emitted.popleft()
        if produced != event:
            raise ReplayError(index, event, f"the engine emitted {produced.to_dict()} instead")
        self.applied += 1

    def close(self) -> Replayed:
        """Stop following; the ACD with its pending timers (`attach` it to a live clock)."""
        self._unsubscribe()
        return Replayed(self.acd, self.clock)


def _offer_failed_reason(event: CallRingNoAnswer, following: Event | None) -> str:
    """The pause reason when the ring-no-answer came from `offer_failed`: the event says so;
    in a journal written before it did, the agent paused (or to pause once free) for a reason
    of the adapter's rather than the ring-no-answer's."""
    if event.failed:
        return event.failed
    if isinstance(following, AgentStateChanged) and following.agent_id == event.agent_id \
            and following.new == "paused" and following.reason != "ring_no_answer":
        return following.reason
    if isinstance(following, AgentPendingChanged) and following.agent_id == event.agent_id \
            and following.pause not in ("", "ring_no_answer"):
        return following.pause
    return ""


def _needs_following(event: Event) -> bool:
    return isinstance(event, AgentStateChanged) and event.old == "on_call" and event.new == "wrap_up"


def _apply(acd: Acd, event: Event, following: Event | None) -> None:
    """Run the operation (or fired timer) that `event` is the first event of (`following`
    is the next one of the stream)."""
    if isinstance(event, CallArrived) and event.call_id in acd.held.requests:
        place_held(acd, event.call_id)  # a held callback's time came (acd/held.py)
    elif isinstance(event, CallbackHeld):
        hold_callback(acd, request_from_event(event))
    elif isinstance(event, CallbackMerged):
        slot = (event.slot[0], event.slot[1]) if len(event.slot) == 2 else None
        merge_held(acd, event.into, event.call_id, event.arrived_at, slot)
    elif isinstance(event, CallbackDropped):
        drop_held(acd, event.call_id, event.reason)
    elif isinstance(event, CallbackAccepted):
        accept_callback(acd, event.call_id, event.number, event.source)
    elif isinstance(event, CallArrived):
        bonus = acd.queues[event.queue].tier_priority.get(event.tier, 0) if event.queue in acd.queues else 0
        acd.arrive(
            event.call_id,
            event.queue,
            caller=event.caller,
            language=event.language,
            priority=event.priority - bonus,
            tier=event.tier,
            skills=dict(event.skills),
            source=event.source,
            dialed=event.dialed,
            target=event.target,
            waited=event.waited,
        )
    elif isinstance(event, CallAnswered):
        acd.answer(event.call_id)
    elif isinstance(event, CallRingNoAnswer):  # asked for, the ring timeout fired, or the PBX failed it
        failed = _offer_failed_reason(event, following)
        if failed:
            acd.offer_failed(event.call_id, failed)
        else:
            acd.ring_no_answer(event.call_id)
    elif isinstance(event, CallAbandoned):  # a hang-up, or max-wait with no overflow
        acd.abandon(event.call_id, reason=event.reason)
    elif isinstance(event, CallEnded):
        acd.end(event.call_id, disposition=event.disposition)
    elif isinstance(event, CallDispositioned):
        if acd.agent(event.agent_id).call_id == event.call_id:  # its current or last offer
            acd.set_disposition(event.agent_id, event.code)
        else:
            acd.set_disposition(event.agent_id, event.code, event.call_id)
    elif isinstance(event, CallEscalated | CallOverflowed):
        call = acd.call(event.call_id)
        if call.state is not CallState.QUEUED:
            raise AcdError(f"call {call.id!r} is {call.state.value}, not queued")
        if isinstance(event, CallEscalated):
            acd._escalate(call)  # the escalation timer fired
        else:
            acd._max_wait(call)  # the max-wait timer fired
    elif isinstance(event, CallAged | CallReoffered):
        call = acd.call(event.call_id)
        if call.state is not CallState.QUEUED:
            raise AcdError(f"call {call.id!r} is {call.state.value}, not queued")
        if isinstance(event, CallAged):
            acd._age(call)  # the aging timer fired
        else:
            acd._reoffer(call)  # the hold-out from the agent it rang out on ended
    elif isinstance(event, AgentLoggedIn):
        if event.agent_id not in acd.agents:  # added after start: capacity 1 assumed
            acd.add_agent(AgentConfig(event.agent_id, dict(event.skills), frozenset(event.groups)))
        acd.login(event.agent_id)
    elif isinstance(event, AgentStateChanged):
        _apply_agent(acd, event, following)
    elif isinstance(event, QueueConfigured | AgentConfigured):
        if isinstance(event, QueueConfigured):
            live_config.configure_queue(acd, live_config.queue_from_data(json.loads(event.data)))
        else:
            live_config.configure_agent(acd, live_config.agent_from_event(event))
    elif isinstance(event, AgentPendingChanged):
        pending = acd.agent(event.agent_id).logout_pending
        if event.logout and not pending:
            acd.logout(event.agent_id, when_free=True)
        elif not event.logout and pending:
            acd.cancel_logout(event.agent_id)
        else:  # a pause pending comes with the ring-no-answer of an extra offer
            raise AcdError(f"{event.kind} changing no pending logout only follows another event")
    elif not replay_transfer_event(acd, event):
        raise AcdError(f"{event.kind} only follows another event, it starts no operation")


def _apply_agent(acd: Acd, event: AgentStateChanged, following: Event | None) -> None:
    # An answer or an end changes the agent's state before its call event.
    if event.old == "ringing" and event.new == "on_call":
        acd.answer(event.call_id)
    elif event.old == "on_call" and event.new == "wrap_up":
        if not isinstance(following, CallEnded) or following.call_id != event.call_id:
            raise AcdError("on_call -> wrap_up first is an end, but no call_ended follows")
        acd.end(event.call_id, disposition=following.disposition)
    elif event.new == "logged_out":
        acd.logout(event.agent_id)
    elif event.new == "paused":
        acd.pause(event.agent_id, event.reason)  # same end state as a wrap-up ending in a pause
    elif event.old == "paused" and event.new == "available":
        acd.unpause(event.agent_id)
    elif event.old == "wrap_up" and event.new == "available":
        acd.wrap_done(event.agent_id)  # by the agent or the wrap-up timer
    else:
        raise AcdError(f"{event.old} -> {event.new} only follows another event")


def acd_state(acd: Acd) -> dict[str, Any]:
    """The live state that decides what the ACD does next, as plain data (for comparing two
    ACDs, e.g. a leader's and a rebuilt one)."""
    agents = {
        agent.id: {
            "state": agent.state.value,
            "pause_reason": agent.pause_reason,
            "calls": list(agent.calls),
            "call_id": agent.call_id,
            "idle_since": agent.idle_since,
            "indexed": agent.indexed,
            "logout_pending": agent.logout_pending,
            "pause_pending": agent.pause_pending,
            "last_ended": agent.last_ended.id if agent.last_ended else None,
            "talk_log": list(agent.talk_log),
            "config": live_config.agent_event(0.0, agent.config).to_dict(),
            "ring_outs": agent.ring_outs,
        }
        for agent in acd.agents.values()
    }
    calls = {
        call.id: {
            "queue": call.queue,
            "state": call.state.value,
            "priority": call.priority,
            "tier": call.tier,
            "skills": list(call.skills),
            "step": call.step,
            "aged": call.aged,
            "held_from": call.held_from if call.state is CallState.QUEUED else "",
            "held_until": call.held_until if call.state is CallState.QUEUED and call.held_from else 0.0,
            "seq": call.seq,
            "arrived_at": call.arrived_at,
            "enqueued_at": call.enqueued_at,
            "answered_at": call.answered_at,
            "agent_id": call.agent_id,
            "caller": call.caller,
            "language": call.language,
            "source": call.source,
            "dialed": call.dialed,
            **call_data(call),
        }
        for call in acd.calls.values()
    }
    return {
        "queues": {name: live_config.queue_data(queue) for name, queue in acd.queues.items()},
        "agents": agents,
        "calls": calls,
        "waiting": {q: [c.id for c in acd.waiting_calls(q)] for q in acd.queues},
        "positions": {c.id: acd.position(c.id) for c in acd.calls.values()},
        "routable": [agent.id for agent in acd.available],
        "held": {r.call_id: [r.queue, r.number, r.arrived_at, r.slot, r.merged] for r in acd.held.requests.values()},
    }
