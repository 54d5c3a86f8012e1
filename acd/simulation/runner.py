"""The simulation loop: Poisson callers, agents who answer, talk and wrap up, on a virtual clock.

The `Acd` is the real one. The simulation only does what the outside world would do: it
places calls (`arrive`), answers ringing phones after the ring delay, ends calls after the
handle time, hangs up callers whose patience runs out, brings paused agents back, and logs
agents in and out at their shift times. Everything random comes from one `random.Random(seed)`,
so a seed and a config always give the same run, event for event.

External subscribers (`subscribers=` or `subscribe()`) see every event at its simulated time;
that is the hook a case-store writer or an event log attaches to.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from math import log
from typing import Any

from acd.agent import STATE_SLOT, AgentState
from acd.call import CallState
from acd.clock import Timer, VirtualClock
from acd.engine import Acd
from acd.events import CallAbandoned, CallAssigned, CallRingNoAnswer, Event, Subscriber
from acd.simulation.config import SimulationConfig, Stream
from acd.simulation.extras import PriorityWaits
from acd.simulation.report import BATCHES, Report, Tally, build_report
from acd.wait_estimate import Announcements, WaitEstimator

_BUSY = (AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
_STAFFED = (AgentState.AVAILABLE, *_BUSY)
_QUEUED, _RINGING = CallState.QUEUED, CallState.RINGING  # globals read faster than members


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a whole run. A run makes millions of
    short-lived objects and next to no reference cycles (tests/acd/test_simulation_gc.py), so
    the collector's passes over the calls in progress are pure cost: about a fifth of a
    10,000-agent run. Reference counting still frees everything; the collector's state is
    restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Caller:
    """What the simulation remembers about one call until it is over."""

    __slots__ = (
        "arrived", "assigned_at", "batch", "counted", "deadline", "handle", "priority", "queue", "tally", "timer",
    )

    def __init__(
        self, queue: str, arrived: float, batch: int, tally: Tally, handle: float
    ) -> None:
        self.queue = queue
        self.arrived = arrived
        self.batch = batch  # batch of the measurement window, -1 when not counted
        self.counted = batch >= 0
        self.tally = tally
        self.handle = handle
        self.assigned_at = 0.0
        self.priority = 0  # as it arrived (stream priority + tier bonus, before aging)
        self.deadline = 0.0  # when the caller hangs up if still waiting (0: never)
        self.timer: Timer | None = None


class Simulation:
    def __init__(
        self,
        config: SimulationConfig,
        *,
        subscribers: Iterable[Subscriber] = (),
    ) -> None:
        self.config = config
        self.clock = VirtualClock(0.0)
        self.acd = Acd(
            self.clock,
            config.queues,
            pause_on_ring_no_answer=config.pause_on_ring_no_answer,
            occupancy_window=config.occupancy_window,
        )
        self.rng = random.Random(config.seed)
        self.start = config.warmup_seconds
        self.end = self.start + config.duration_seconds
        # After the window, arrivals go on (so late calls meet a loaded system) until every
        # counted call is answered or abandoned, or this much longer has passed.
        self.drain_limit = max(config.duration_seconds, 3600.0)
        self.tallies = {q.name: Tally(q.name, q.sl_seconds) for q in config.queues}
        self.arrivals = 0
        self._callers: dict[str, _Caller] = {}
        self._open = 0
        self._arriving = True
        self._window: dict[str, tuple[dict[AgentState, float], dict[AgentState, float]]] = {}
        self._start_seconds: dict[str, list[float]] = {}
        self._end_seconds: dict[str, list[float]] = {}
        self.priority_waits = PriorityWaits()
        told = {q.name: q.announce or Announcements() for q in config.queues
                if q.announce is not None or config.announce_all}
        self.estimator = WaitEstimator(self.acd, told, keep_all=True) if told else None
        self._told = told
        self.acd.subscribe(self._on_assigned, (CallAssigned,))
        self.acd.subscribe(self._on_abandoned, (CallAbandoned,))
        self.acd.subscribe(self._on_ring_no_answer, (CallRingNoAnswer,))
        for subscriber in subscribers:
            self.acd.subscribe(subscriber)
        ring = config.ring_delay
        self._ring_delay: Callable[[], float] | None = None if ring is None else ring.sampler(self.rng)
        self._setup_agents()
        self._setup_streams()
        self.clock.call_at(self.start, self._snapshot_start)
        self.clock.call_at(self.end, self._snapshot_end)

    def subscribe(self, subscriber: Subscriber, kinds: Iterable[type[Event]] | None = None) -> Callable[[], None]:
        """Attach an external subscriber (call before `run`)."""
        return self.acd.subscribe(subscriber, kinds)

    # -- set-up ----------------------------------------------------------------------------

    def _setup_agents(self) -> None:
        for group in self.config.groups:
            for agent_config in group.agent_configs():
                self.acd.add_agent(agent_config)
                start = partial(self._shift_start, agent_config.id)
                if not group.shifts:
                    self.clock.call_at(0.0, start)
                for shift in group.shifts:
                    self.clock.call_at(shift.start, start)
                    if shift.end is not None:
                        self.clock.call_at(shift.end, partial(self._shift_end, agent_config.id))

    def _setup_streams(self) -> None:
        for stream in self.config.streams:
            if stream.calls_per_hour <= 0:
                continue
            self._schedule_arrival(stream, stream.calls_per_hour / 3600.0, stream.handle.sampler(self.rng),
                                   None if stream.patience is None else stream.patience.sampler(self.rng))

    def _schedule_arrival(
        self,
        stream: Stream,
        rate: float,
        handle: Callable[[], float],
        patience: Callable[[], float] | None,
    ) -> None:
        draw = self.rng.random
        clock = self.clock
        arrive_in_acd = self.acd.arrive
        give_up = self._give_up
        callers = self._callers
        tally = self.tallies[stream.queue]
        queue = stream.queue
        # The call's own fields, only those that differ from `Acd.arrive`'s defaults.
        fields: dict[str, Any] = {name: value for name, value, default in (
            ("priority", stream.priority, 0), ("tier", stream.tier, "regular"),
            ("language", stream.language, ""), ("skills", dict(stream.skills) or None, None),
        ) if value != default}
        told = queue in self._told
        start, end, drain_end = self.start, self.end, self.end + self.drain_limit
        per_batch = BATCHES / (end - start)

        def arrive() -> None:
            now = clock.now()
            if now >= end and (self._open == 0 or now >= drain_end):
                self._arriving = False
                return
            clock.call_later(-log(1.0 - draw()) / rate, arrive)  # rng.expovariate(rate), inlined
            self.arrivals += 1
            call_id = f"c{self.arrivals}"
            batch = min(int((now - start) * per_batch), BATCHES - 1) if start <= now < end else -1
            caller = callers[call_id] = _Caller(queue, now, batch, tally, handle())
            call = arrive_in_acd(call_id, queue, **fields)
            queued = call.state is _QUEUED
            caller.priority = call.priority
            if queued and told:
                self._tell(call_id, self._told[queue].interval)
            if batch >= 0:
                self._open += 1
                tally.offer(batch, queued)
            if queued and patience is not None:
                caller.deadline = now + patience()
                caller.timer = clock.call_at(caller.deadline, partial(give_up, call_id))

        clock.call_later(-log(1.0 - draw()) / rate, arrive)

    # -- the outside world's reactions -----------------------------------------------------

    def _tell(self, call_id: str, interval: float) -> None:
        """A waiting caller hears the announcement now and every `interval` while waiting."""
        estimator = self.estimator
        assert estimator is not None
        if estimator.announce(call_id) is not None:
            self.clock.call_later(interval, lambda: self._tell(call_id, interval))

    def _on_assigned(self, event: Event) -> None:
        assert isinstance(event, CallAssigned)
        caller = self._callers[event.call_id]
        if caller.timer is not None:
            caller.timer.cancel()
            caller.timer = None
        caller.assigned_at = self.clock.now()
        call_id, agent_id = event.call_id, event.agent_id
        if self._ring_delay is None:
            self._answer(call_id, agent_id)  # picked up at once
        else:
            self.clock.call_later(self._ring_delay(), partial(self._answer, call_id, agent_id))

    def _answer(self, call_id: str, agent_id: str) -> None:
        call = self.acd.calls.get(call_id)
        if call is None or call.state is not _RINGING or call.agent_id != agent_id:
            return  # rang out, or the caller hung up meanwhile
        self.acd.answer(call_id)
        caller = self._callers[call_id]
        if caller.counted:
            self._open -= 1
            wait = self.clock.now() - caller.arrived
            caller.tally.answered(wait, caller.batch)
            self.priority_waits.answered(caller.priority, wait)
        self.clock.call_later(caller.handle, partial(self._hang_up, call_id))

    def _hang_up(self, call_id: str) -> None:
        call = self.acd.calls[call_id]
        self.acd.end(call_id)
        caller = self._callers.pop(call_id)
        wrap = self.acd.queues[call.queue].wrap_up
        if wrap is None:
            # A queue without automatic wrap-up: the simulated agent closes it at once.
            agent = self.acd.agents[call.agent_id]
            if agent.state is AgentState.WRAP_UP and agent.call_id == call_id:
                self.acd.wrap_done(agent.id)
            wrap = 0.0
        busy_from = max(caller.assigned_at, self.start)
        busy_to = min(self.clock.now() + wrap, self.end)
        if busy_to > busy_from:
            caller.tally.busy += busy_to - busy_from

    def _give_up(self, call_id: str) -> None:
        call = self.acd.calls.get(call_id)
        if call is not None and call.state is _QUEUED:
            self.acd.abandon(call_id)

    def _on_abandoned(self, event: Event) -> None:
        assert isinstance(event, CallAbandoned)
        caller = self._callers.pop(event.call_id)
        if caller.timer is not None:
            caller.timer.cancel()
        if caller.counted:
            self._open -= 1
            caller.tally.abandoned += 1
            self.priority_waits.gave_up(caller.priority)

    def _on_ring_no_answer(self, event: Event) -> None:
        assert isinstance(event, CallRingNoAnswer)
        caller = self._callers[event.call_id]
        if caller.deadline:
            caller.timer = self.clock.call_at(caller.deadline, partial(self._give_up, event.call_id))
        self.clock.call_later(self.config.unpause_after, lambda: self._unpause(event.agent_id))

    def _unpause(self, agent_id: str) -> None:
        agent = self.acd.agents[agent_id]
        if agent.state is AgentState.PAUSED and agent.pause_reason == "ring_no_answer":
            self.acd.unpause(agent_id)

    def _shift_start(self, agent_id: str) -> None:
        agent = self.acd.agents[agent_id]
        if agent.state is AgentState.LOGGED_OUT:
            self.acd.login(agent_id)
        else:
            self.acd.cancel_logout(agent_id)  # the next shift began before the last call ended

    def _shift_end(self, agent_id: str) -> None:
        self.acd.logout(agent_id, when_free=True)

    # -- measurement window ------------------------------------------------------------------

    def _agent_seconds(self) -> dict[str, list[float]]:
        """Seconds per state (by `STATE_SLOT`) each agent has spent so far."""
        now = self.clock.now()
        seconds = {}
        for agent in self.acd.agents.values():
            row = agent.seconds.copy()
            row[STATE_SLOT[agent.state]] += now - agent.state_since  # the current stretch
            seconds[agent.id] = row
        return seconds

    def _snapshot_start(self) -> None:
        self._start_seconds = self._agent_seconds()

    def _snapshot_end(self) -> None:
        self._end_seconds = self._agent_seconds()

    def window_seconds(self, agent_id: str, state: AgentState) -> float:
        """Seconds the agent spent in `state` inside the measurement window."""
        slot = STATE_SLOT[state]
        return self._end_seconds[agent_id][slot] - self._start_seconds[agent_id][slot]

    # -- running -------------------------------------------------------------------------------

    def run(self, progress: Callable[[float], None] | None = None) -> Report:
        """Simulate to the end; `progress(fraction)` is called now and then."""
        if progress is not None:
            step = self.clock.step
            horizon = self.end
            clock = self.clock
            n = 0
            with _collector_paused():
                while step():
                    n += 1
                    if n & 4095 == 0:
                        progress(min(1.0, clock.now() / horizon))
            progress(1.0)
        return self.finish()

    def run_until(self, until: float, stop: Callable[[], bool] | None = None) -> bool:
        """Fire every event due at or before simulated time `until` (the clock stays at the
        last event fired), or fewer: stop as soon as `stop()` is true after an event. Returns
        False once nothing is left to simulate. Slices of a run give the same events, in the
        same order, as `run()`."""
        clock = self.clock
        next_time, step = clock.next_time, clock.step
        while True:
            when = next_time()
            if when is None:
                return False
            if when > until:
                return True
            step()
            if stop is not None and stop():
                return next_time() is not None

    def next_event_at(self) -> float | None:
        """Simulated time of the next event, None when the run is over."""
        return self.clock.next_time()

    def progress(self) -> float:
        """Share of the measured window simulated so far (1.0 during the drain)."""
        return min(1.0, self.clock.now() / self.end) if self.end > 0 else 1.0

    def finish(self) -> Report:
        """Simulate whatever is left, then report."""
        with _collector_paused():
            self.clock.run()
        return build_report(self)

    @property
    def busy_states(self) -> tuple[AgentState, ...]:
        return _BUSY

    @property
    def staffed_states(self) -> tuple[AgentState, ...]:
        return _STAFFED
