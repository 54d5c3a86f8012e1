"""Clocks: the only way the core learns the time or schedules work.

`now()` is seconds since the Unix epoch (a float). Live code uses `AsyncioClock`; tests
and the simulator use `VirtualClock`, which only moves when told to.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...


class AsyncioClock:
    """Wall-clock time, timers on the running asyncio loop.

    On a running loop the time read first in a step of the loop holds for the rest of that
    step, so every event of one ACD operation carries one time (as on a `VirtualClock`) and
    a replay of the stream re-runs it at that time exactly."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._step: float | None = None

    def now(self) -> float:
        step = self._step
        if step is not None:
            return step
        value = time.time()
        try:
            loop = self._loop or asyncio.get_running_loop()
        except RuntimeError:
            return value  # no loop running: plain wall-clock time
        self._step = value
        loop.call_soon(self._next_step)
        return value

    def _next_step(self) -> None:
        self._step = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        loop = self._loop or asyncio.get_running_loop()
        return loop.call_later(max(0.0, delay), callback)


class _VirtualTimer:
    __slots__ = ("callback", "cancelled")  # its time is in the clock's heap entry

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A discrete-event clock: timers fire in time order when the clock is advanced."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, _VirtualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _VirtualTimer:
        when = self._now + delay if delay > 0 else self._now
        timer = _VirtualTimer(callback)
        heappush(self._heap, (when, next(self._seq), timer))
        return timer

    def call_at(self, when: float, callback: Callable[[], None]) -> _VirtualTimer:
        if when < self._now:
            when = self._now
        timer = _VirtualTimer(callback)
        heappush(self._heap, (when, next(self._seq), timer))
        return timer

    @property
    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def next_time(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Fire the next timer (advancing time to it); False when none is left."""
        heap = self._heap
        while heap:
            when, _, timer = heappop(heap)
            if timer.cancelled:
                continue
            self._now = when
            timer.callback()
            return True
        return False

    def run(self) -> None:
        """Fire every timer, in time order, until none is left (as `step()` in a loop)."""
        heap = self._heap
        while heap:
            when, _, timer = heappop(heap)
            if not timer.cancelled:
                self._now = when
                timer.callback()

    def advance_to(self, until: float) -> None:
        """Fire every timer due up to `until`, then set the time to `until`."""
        heap = self._heap
        while heap and heap[0][0] <= until:
            when, _, timer = heappop(heap)
            if timer.cancelled:
                continue
            self._now = when
            timer.callback()
        self._now = max(self._now, until)

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)
