"""Expected wait of a caller on hold, from the live queue, and whether it is worth announcing.

`WaitEstimator` subscribes to the ACD's events and reads its views (no state of the ACD is
changed). For a waiting call at position p (calls ahead in its queue + 1) with n agents
serving it (logged in, not paused, eligible for the call at its current escalation step),
and a mean handle time h over the queue's last `handle_window` calls (talk + wrap-up):

    expected wait = p * h / n

that is the time for p agents to come free when n agents each finish a call every h
seconds on average (exact for exponential handle times, and the usual M/M/n figure).
With no agent serving the queue there is no estimate.

Reliability: every estimate announced (`announce`) is kept with its time; when that call is
answered its real remaining wait is known and the error (real - announced) goes into the
queue's window of the last `window` errors. A queue announces the expected wait only when it
has at least `min_samples` errors and the `quantile` (default 80 %) of their absolute
values is at most `margin` seconds; otherwise callers hear their position only. Calls that
are abandoned are not counted (their real wait is unknown). The simulator runs the same
estimator (acd/simulation) and reports the error band per queue.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.agent import AgentState
from acd.call import CallState
from acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallRingNoAnswer,
    Event,
)

if TYPE_CHECKING:
    from acd.engine import Acd

_SERVING = (AgentState.AVAILABLE, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)


@dataclass(frozen=True, slots=True)
class Announcements:
    """Per queue: how often waiting callers hear their position and expected wait."""

    interval: float = 60.0  # seconds between two announcements to one caller
    expected_wait: bool = True  # announce the wait at all (else the position only)
    margin: float = 60.0  # seconds the estimates may miss by (at `quantile`) and still be announced
    quantile: float = 0.8
    window: int = 200  # errors of the last this many announcements judged
    min_samples: int = 20  # before that many, the position only
    handle_window: int = 50  # handle times averaged
    default_handle: float = 180.0  # seconds, until the queue has ended a call

    def __post_init__(self) -> None:
        for name in ("interval", "margin", "default_handle"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"announce: {name!r} must be a positive number of seconds")
        if not 0 < self.quantile <= 1:
            raise ValueError("announce: 'quantile' must be in (0, 1]")
        if self.window < 1 or self.handle_window < 1 or self.min_samples < 1:
            raise ValueError("announce: 'window', 'handle_window' and 'min_samples' must be at least 1")
        if self.min_samples > self.window:
            raise ValueError("announce: 'min_samples' cannot exceed 'window'")


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a waiting caller hears: position, and the expected wait when it is reliable."""

    position: int
    expected_wait: float | None  # seconds; None: position only

    def minutes(self) -> int | None:
        """The wait as spoken: whole minutes, at least 1."""
        if self.expected_wait is None:
            return None
        return max(1, round(self.expected_wait / 60.0))


def quantile(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


class WaitEstimator:
    """Subscriber of one `Acd`: handle times, estimates, announced errors (see module doc)."""

    KINDS = (CallEnded, CallAnswered, CallAbandoned, AgentStateChanged, CallRingNoAnswer)

    def __init__(self, acd: Acd, settings: Mapping[str, Announcements], *, keep_all: bool = False) -> None:
        self.acd = acd
        self.settings = dict(settings)
        # every error since the start, per queue (the simulator's report), when asked for
        self.all_errors: dict[str, list[float]] | None = {} if keep_all else None
        self._handles: dict[str, deque[float]] = {}
        self._errors: dict[str, deque[float]] = {}
        self._talk: dict[str, tuple[str, float]] = {}  # agent -> (queue, talk) of its last call
        self._wrap_since: dict[str, float] = {}
        self._promised: dict[str, list[tuple[float, float]]] = {}  # call -> (at, estimate) announced
        self._last_told: dict[str, float] = {}  # call -> when it last heard an announcement
        self._unsubscribe = acd.subscribe(self, self.KINDS)

    def close(self) -> None:
        self._unsubscribe()

    def config(self, queue: str) -> Announcements:
        return self.settings.get(queue) or Announcements()

    # -- events ------------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallEnded):
            self._talk[event.agent_id] = (event.queue, event.talk)
            wrap = self.acd.queues[event.queue].wrap_up if event.queue in self.acd.queues else 0.0
            agent = self.acd.agents.get(event.agent_id)
            if agent is None or agent.state is not AgentState.WRAP_UP or agent.call_id != event.call_id:
                # no wrap-up of this call follows (the agent goes on with other calls)
                self._handle(event.queue, event.talk)
                self._talk.pop(event.agent_id, None)
            elif wrap is not None and wrap <= 0:
                self._handle(event.queue, event.talk)
                self._talk.pop(event.agent_id, None)
        elif isinstance(event, AgentStateChanged):
            if event.new == AgentState.WRAP_UP.value:
                self._wrap_since[event.agent_id] = event.at
            elif event.old == AgentState.WRAP_UP.value:
                since = self._wrap_since.pop(event.agent_id, event.at)
                last = self._talk.pop(event.agent_id, None)
                if last is not None:
                    self._handle(last[0], last[1] + (event.at - since))
        elif isinstance(event, CallAnswered):
            self._last_told.pop(event.call_id, None)
            promised = self._promised.pop(event.call_id, None)
            if promised:
                errors = self._errors_of(event.queue)
                for at, estimate in promised:
                    errors.append((event.at - at) - estimate)
                if self.all_errors is not None:
                    kept = self.all_errors.setdefault(event.queue, [])
                    kept.extend((event.at - at) - estimate for at, estimate in promised)
        elif isinstance(event, CallAbandoned):
            self._promised.pop(event.call_id, None)
            self._last_told.pop(event.call_id, None)
        elif isinstance(event, CallRingNoAnswer):
            self._last_told.pop(event.call_id, None)  # back on hold: told again at once

    def _handle(self, queue: str, seconds: float) -> None:
        window = self._handles.get(queue)
        if window is None:
            window = self._handles[queue] = deque(maxlen=self.config(queue).handle_window)
        window.append(seconds)

    def _errors_of(self, queue: str) -> deque[float]:
        errors = self._errors.get(queue)
        if errors is None:
            errors = self._errors[queue] = deque(maxlen=self.config(queue).window)
        return errors

    # -- figures -----------------------------------------------------------------------------

    def handle_time(self, queue: str) -> float:
        """Mean handle time of the queue's recent calls (the configured default before any)."""
        window = self._handles.get(queue)
        if not window:
            return self.config(queue).default_handle
        return sum(window) / len(window)

    def serving(self, call_id: str) -> int:
        """Agents logged in, not paused, eligible for the waiting call now."""
        acd = self.acd
        call = acd.call(call_id)
        return sum(1 for agent in acd.agents.values() if agent.state in _SERVING and acd.eligible(agent, call))

    def estimate(self, call_id: str) -> float | None:
        """Expected remaining wait of a waiting call in seconds (None: not waiting, or nobody serves it)."""
        call = self.acd.calls.get(call_id)
        if call is None or call.state is not CallState.QUEUED:
            return None
        agents = self.serving(call_id)
        if agents == 0:
            return None
        return self.acd.position(call_id) * self.handle_time(call.queue) / agents

    def errors(self, queue: str) -> list[float]:
        """Real minus announced wait of the queue's last announcements (seconds)."""
        return list(self._errors.get(queue, ()))

    def reliable(self, queue: str) -> bool:
        """Whether the queue's estimates have been close enough to be announced."""
        config = self.config(queue)
        if not config.expected_wait:
            return False
        errors = self._errors.get(queue)
        if errors is None or len(errors) < config.min_samples:
            return False
        return quantile([abs(e) for e in errors], config.quantile) <= config.margin

    # -- announcing ----------------------------------------------------------------------------

    def due(self, call_id: str, now: float) -> bool:
        """Whether the waiting call should hear an announcement now: the first, `interval` after
        the last one, or at once when an offer rang out and it is back on hold."""
        call = self.acd.calls.get(call_id)
        if call is None or call.state is not CallState.QUEUED:
            return False
        last = self._last_told.get(call_id)
        return last is None or now - last >= self.config(call.queue).interval

    def announce(self, call_id: str, *, record: bool = True) -> Announcement | None:
        """What the waiting call hears now; recorded as told (and its estimate as promised, to
        be judged when the call is answered) unless `record` is false. None: not waiting."""
        call = self.acd.calls.get(call_id)
        if call is None or call.state is not CallState.QUEUED:
            return None
        now = self.acd.clock.now()
        estimate = self.estimate(call_id)
        position = self.acd.position(call_id)
        if record:
            self._last_told[call_id] = now
            if estimate is not None:
                self._promised.setdefault(call_id, []).append((now, estimate))
        spoken = estimate if estimate is not None and self.reliable(call.queue) else None
        return Announcement(position, spoken)

    def band(self, queue: str) -> dict[str, float | int | bool]:
        """The error band of the queue's announced estimates (for reports)."""
        errors = self.errors(queue)
        config = self.config(queue)
        absolute = [abs(e) for e in errors]
        return {
            "samples": len(errors),
            "bias": sum(errors) / len(errors) if errors else 0.0,
            "p50_abs_error": quantile(absolute, 0.5) if errors else 0.0,
            "p80_abs_error": quantile(absolute, 0.8) if errors else 0.0,
            "p95_abs_error": quantile(absolute, 0.95) if errors else 0.0,
            "within_margin": sum(1 for a in absolute if a <= config.margin) / len(errors) if errors else 0.0,
            "margin": config.margin,
            "reliable": self.reliable(queue),
        }
