"""`hotline simulate --store URL`: the simulator as a load generator for the case store.

The simulator runs on a virtual clock starting at 0 and numbers its calls c1, c2, ... in
every run. `SimulationRecorder.on_event` (a subscriber) rebases each event so the store sees
what a live server would: times moved to the wall-clock start of the run, call ids prefixed
with a run id (two runs never merge), source `simulation`, and a synthetic caller number per
call when the simulator gives none (one of SYNTHETIC_CALLERS numbers, so customers, repeat
callers and screen-pop are exercised), and hands it straight to a `CallWriter`.

`stream()` runs the simulation in slices inside asyncio with the writer's flusher alongside,
as in the server: after every slice it yields to the loop, and while the writer's backlog is
at `bound` it waits for the flusher (back-pressure), so the events held in memory stay under
`bound` plus the events of one simulated step, for any length of run. `speed` paces the run
(simulated seconds per wall second) to drive a store at a realistic rate.

    recorder = SimulationRecorder(url)
    async with recorder.open() as store:          # bad URL, unreachable: StoreUnavailable
        simulation = Simulation(config, subscribers=[recorder.on_event])
        report, stored = await recorder.stream(simulation, store)
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from functools import partial
from operator import attrgetter
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from acd.events import AgentStateChanged, CallArrived, Event
from acd.simulation import Report, Simulation
from casestore.errors import StoreUnavailable
from casestore.settings import StoreSettings
from casestore.store import Store, open_store
from casestore.writer import CallWriter

log = logging.getLogger("hotline.casestore")

SLICE_SECONDS = 60.0  # simulated seconds per slice when running as fast as possible
# Longest wall-clock time of one slice: the writer's flush is a score of round trips to the
# database in turn, and each answer waits until the slice running when it came is over; so
# slices are short while a flush is waiting on the database.
SLICE_BUDGET = 0.002
FLUSHING_SLICE_BUDGET = 0.0002
PACED_SLEEP = 0.1  # longest wall-clock wait between slices of a paced run
ROOM_POLL = 0.002  # how often back-pressure looks at the writer's backlog
STALL_TIMEOUT = 60.0  # back-pressure gives up when the writer takes no batch for this long
OPEN_TIMEOUT = 30.0  # opening the store (connect, create/upgrade the schema)
# Distinct synthetic caller numbers. Callers call again, as on a live hotline: the store finds
# their customer and recent cases, and the number's normalisation (about 25 us with
# phonenumbers) is cached as for live callers instead of being paid on every call.
SYNTHETIC_CALLERS = 2_000


@dataclass(frozen=True)
class PersistReport:
    run_id: str
    events: int  # handed to the store (what it writes something for: CallWriter.wants)
    calls: int
    completed: int
    seconds: float  # wall clock from the first simulated event to the last row written
    batches: int
    offset: float = 0.0  # wall-clock time of simulated time 0
    simulated_seconds: float = 0.0
    speed: float | None = None
    bound: int = 0
    max_backlog: int = 0
    waits: int = 0  # times the simulation waited for the writer (back-pressure)
    wait_seconds: float = 0.0
    flush_seconds: float = 0.0
    retries: int = 0
    rejected: int = 0

    @property
    def calls_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "events": self.events, "calls": self.calls,
            "completed": self.completed, "seconds": round(self.seconds, 3),
            "batches": self.batches, "calls_per_second": round(self.calls_per_second, 1),
            "offset": self.offset, "simulated_seconds": round(self.simulated_seconds, 3),
            "speed": self.speed, "bound": self.bound, "max_backlog": self.max_backlog,
            "waits": self.waits, "wait_seconds": round(self.wait_seconds, 3),
            "flush_seconds": round(self.flush_seconds, 3), "retries": self.retries,
            "rejected": self.rejected,
        }


def _rebaser(cls: type[Event], offset: float, prefix: str) -> Callable[[Event], Event]:
    """A function moving one kind of event to the wall clock and the run's call ids (see
    `SimulationRecorder.rebase`): the event's init fields read at once and the copy built
    from them, without `dataclasses.replace`'s per-call introspection."""
    names = [f.name for f in fields(cls) if f.init]
    read = attrgetter(*names) if len(names) > 1 else (lambda e: (getattr(e, names[0]),))
    at = names.index("at")
    call = names.index("call_id") if "call_id" in names else -1
    arrived = cls is CallArrived
    source, caller = (names.index("source"), names.index("caller")) if arrived else (-1, -1)
    keep_empty = cls is AgentStateChanged  # an agent's state change names no call

    def rebase(event: Event) -> Event:
        values = list(read(event))
        values[at] += offset
        if call >= 0:
            call_id = values[call]
            if call_id or not keep_empty:
                values[call] = prefix + call_id
            if arrived:
                values[source] = "simulation"
                values[caller] = values[caller] or _synthetic_caller(call_id)
        return cls(*values)

    return rebase


def _everything(event: Event) -> bool:
    return True


def _detached(event: Event) -> None:
    raise RuntimeError("SimulationRecorder: no writer attached (use stream() or pass sink=)")


class SimulationRecorder:
    def __init__(
        self,
        target: StoreSettings | str,
        *,
        run_id: str | None = None,
        offset: float | None = None,
        batch_size: int = 2000,
        bound: int | None = None,
        sink: Callable[[Event], None] | None = None,
    ) -> None:
        """`bound`: most events the writer may hold before the simulation waits for it
        (default 4 batches). `sink`: where rebased events go outside `stream()`."""
        self.settings = target if isinstance(target, StoreSettings) else StoreSettings(url=target)
        self.run_id = run_id or f"sim{time.strftime('%Y%m%d%H%M%S', time.gmtime())}{uuid.uuid4().hex[:4]}"
        self.offset = time.time() if offset is None else offset
        self.batch_size = batch_size
        self.bound = bound or 4 * batch_size
        if self.bound < 1:
            raise ValueError("bound must be positive")
        self.sink: Callable[[Event], None] = sink or _detached
        self.events = 0
        self.calls = 0
        self.waits = 0
        self.wait_seconds = 0.0
        self._prefix = f"{self.run_id}-"
        self._rebasers: dict[type[Event], Callable[[Event], Event]] = {}  # by kind (_rebaser)
        self._wanted: Callable[[Event], bool] = _everything  # the writer's filter in stream()

    def rebase(self, event: Event) -> Event:
        """The event as the store sees it: at wall-clock time, the call id prefixed with the
        run id, a CallArrived with source `simulation` and a caller number."""
        cls = type(event)
        rebase = self._rebasers.get(cls)
        if rebase is None:
            rebase = self._rebasers[cls] = _rebaser(cls, self.offset, self._prefix)
        return rebase(event)

    def on_event(self, event: Event) -> None:
        """Subscriber: rebase the event and pass it on (to the writer, which only buffers;
        events it would not keep are not copied first)."""
        cls = type(event)
        if cls is CallArrived:
            self.calls += 1
        if not self._wanted(event):
            return
        self.events += 1  # handed to the store
        rebase = self._rebasers.get(cls)
        if rebase is None:
            rebase = self._rebasers[cls] = _rebaser(cls, self.offset, self._prefix)
        self.sink(rebase(event))

    @asynccontextmanager
    async def open(self, *, create: bool = True, within: float = OPEN_TIMEOUT) -> AsyncIterator[Store]:
        """Open the store (creating or upgrading the schema if `create`) before anything is
        simulated. A bad URL, an unreachable database or one that does not answer within
        `within` seconds raises StoreUnavailable (SchemaError for a schema this version cannot use)."""
        where = _safe_url(self.settings.url)
        try:
            async with asyncio.timeout(within):
                opened = open_store(self.settings, create=create)
                store = await opened.__aenter__()
        except TimeoutError as exc:
            raise StoreUnavailable(f"{where}: no answer within {within:g} s") from exc
        except OSError as exc:  # a SQLite file whose folder cannot be created
            raise StoreUnavailable(f"{where}: {exc.strerror or exc}") from exc
        try:
            yield store
        finally:
            await opened.__aexit__(None, None, None)

    async def stream(
        self,
        simulation: Simulation,
        store: Store,
        *,
        speed: float | None = None,
        progress: Callable[[float], None] | None = None,
        stall_timeout: float = STALL_TIMEOUT,
    ) -> tuple[Report, PersistReport]:
        """Run `simulation` (with `self.on_event` subscribed) to the end, writing its events
        through a `CallWriter` as they happen. `speed`: simulated seconds per wall second
        (None: as fast as the store allows). Raises StoreUnavailable if the writer stops
        taking batches for `stall_timeout` seconds or cannot flush at the end."""
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        writer = store.writer(batch_size=self.batch_size, flush_interval=0.05)
        self.sink, self._wanted = writer.on_wanted_event, writer.wants  # filtered once, here
        started = time.perf_counter()
        try:
            await writer.start(close_orphans=False)
            await self._drive(simulation, writer, speed, progress, started, stall_timeout)
            report = simulation.finish()  # nothing is left to simulate: only builds the report
            await writer.stop()
        except BaseException:
            await writer.abort()
            raise
        finally:
            self.sink, self._wanted = _detached, _everything
        seconds = time.perf_counter() - started
        stats = writer.stats
        stored = PersistReport(
            run_id=self.run_id, events=self.events, calls=self.calls, completed=stats.calls_completed,
            seconds=seconds, batches=stats.batches, offset=self.offset,
            simulated_seconds=simulation.clock.now(), speed=speed, bound=self.bound,
            max_backlog=stats.max_backlog, waits=self.waits, wait_seconds=self.wait_seconds,
            flush_seconds=stats.flush_seconds, retries=stats.retries, rejected=stats.rejected,
        )
        return report, stored

    async def close_open_calls(self, *, within: float = 10.0) -> int:
        """Close this run's calls still open as `interrupted` (after Ctrl-C or SIGTERM, once
        the store used by the run is closed); a SIGKILLed run leaves them to
        `hotline db close-orphans --source simulation`."""
        async with asyncio.timeout(within), open_store(self.settings) as store:
            writer = store.writer()
            return await writer.close_orphans(sources=["simulation"], agents=(), call_prefix=self._prefix)

    async def _drive(
        self,
        simulation: Simulation,
        writer: CallWriter,
        speed: float | None,
        progress: Callable[[float], None] | None,
        started: float,
        stall_timeout: float,
    ) -> None:
        bound, step = self.bound, self.batch_size
        more = True
        while more:
            due = simulation.next_event_at()
            if due is None:
                break
            if speed is None:
                until = due + SLICE_SECONDS
            else:
                allowed = (time.perf_counter() - started) * speed
                if due > allowed:
                    await asyncio.sleep(min((due - allowed) / speed, PACED_SLEEP))
                    continue
                until = allowed
            # Stop the slice once a batch more is buffered (the flusher must get the loop), the
            # bound is reached, or the slice has had its share of wall-clock time.
            budget = FLUSHING_SLICE_BUDGET if writer.flushing else SLICE_BUDGET
            limit, deadline = min(bound, writer.backlog + step), time.perf_counter() + budget
            more = simulation.run_until(until, partial(_slice_over, writer, limit, deadline))
            if progress is not None:
                progress(simulation.progress())
            await asyncio.sleep(0)
            if writer.backlog >= bound:
                await self._wait_for_room(writer, stall_timeout)
        if progress is not None:
            progress(1.0)

    async def _wait_for_room(self, writer: CallWriter, stall_timeout: float) -> None:
        """Back-pressure: wait until the flusher has taken the backlog below the bound."""
        self.waits += 1
        began = last = time.perf_counter()
        batches = writer.stats.batches
        while writer.backlog >= self.bound:
            await asyncio.sleep(ROOM_POLL)
            now = time.perf_counter()
            if writer.stats.batches != batches:
                batches, last = writer.stats.batches, now
            elif now - last > stall_timeout:
                raise StoreUnavailable(
                    f"the store took no batch for {stall_timeout:g} s ({writer.backlog} events waiting)"
                )
        self.wait_seconds += time.perf_counter() - began


def _slice_over(writer: CallWriter, limit: int, deadline: float) -> bool:
    return writer.backlog >= limit or time.perf_counter() >= deadline


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _synthetic_caller(call_id: str) -> str:
    """One of SYNTHETIC_CALLERS numbers, spread over the calls (a caller calls again)."""
    number = call_id[1:]  # the simulator's ids are c1, c2, ...
    if not number.isdigit():
        number = "".join(ch for ch in call_id if ch.isdigit()) or "0"
    return f"+8210{int(number) * 7_919 % SYNTHETIC_CALLERS:08d}"
