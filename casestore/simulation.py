"""`hotline simulate --store URL`: the simulator's calls persisted through the server's writer.

The simulator runs synchronously on a virtual clock starting at 0 and numbers its calls
c1, c2, ... in every run. `SimulationRecorder.on_event` (a subscriber) rebases each event so
the store sees what a live server would: times moved to the wall-clock start of the run,
call ids prefixed with a run id (two runs never merge), source `simulation`, and a
synthetic caller number per call when the simulator gives none (so customers and
screen-pop are exercised). `persist()` then writes everything through a `CallWriter` and
reports the throughput.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from acd.events import AgentStateChanged, CallArrived, Event
from casestore.settings import StoreSettings
from casestore.store import open_store


@dataclass(frozen=True)
class PersistReport:
    run_id: str
    events: int
    calls: int
    completed: int
    seconds: float
    batches: int

    @property
    def calls_per_second(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "events": self.events, "calls": self.calls,
            "completed": self.completed, "seconds": round(self.seconds, 3),
            "batches": self.batches, "calls_per_second": round(self.calls_per_second, 1),
        }


class SimulationRecorder:
    def __init__(
        self,
        target: StoreSettings | str,
        *,
        run_id: str | None = None,
        offset: float | None = None,
        batch_size: int = 2000,
    ) -> None:
        self.settings = target if isinstance(target, StoreSettings) else StoreSettings(url=target)
        self.run_id = run_id or f"sim{time.strftime('%Y%m%d%H%M%S', time.gmtime())}{uuid.uuid4().hex[:4]}"
        self.offset = time.time() if offset is None else offset
        self.batch_size = batch_size
        self.events: list[Event] = []
        self._prefix = f"{self.run_id}-"

    def on_event(self, event: Event) -> None:
        """Subscriber: rebase and keep the event (cheap; no database work during the run)."""
        at = event.at + self.offset
        if isinstance(event, AgentStateChanged):
            call_id = self._prefix + event.call_id if event.call_id else ""
            self.events.append(replace(event, at=at, call_id=call_id))
        elif isinstance(event, CallArrived):
            caller = event.caller or _synthetic_caller(event.call_id)
            self.events.append(
                replace(event, at=at, call_id=self._prefix + event.call_id, source="simulation", caller=caller)
            )
        elif hasattr(event, "call_id"):
            self.events.append(replace(event, at=at, call_id=self._prefix + event.call_id))  # type: ignore[call-arg]
        else:
            self.events.append(replace(event, at=at))

    def persist(self, *, create: bool = True) -> PersistReport:
        """Write the recorded run through a CallWriter (creating the schema if `create`)."""
        return asyncio.run(self.persist_async(create=create))

    async def persist_async(self, *, create: bool = True) -> PersistReport:
        # The recorded run is hundreds of thousands of long-lived objects; keep the cyclic
        # garbage collector from rescanning them during every flush (a command-line process).
        gc.collect()
        gc.freeze()
        async with open_store(self.settings, create=create) as store:
            writer = store.writer(batch_size=self.batch_size, flush_interval=0.05)
            started = time.perf_counter()
            await writer.start(close_orphans=False)
            calls = 0
            for i, event in enumerate(self.events):
                writer.on_event(event)
                if isinstance(event, CallArrived):
                    calls += 1
                if i % self.batch_size == 0:
                    await asyncio.sleep(0)  # let the flusher run alongside, as in the server
            await writer.stop()
            seconds = time.perf_counter() - started
        return PersistReport(
            run_id=self.run_id, events=len(self.events), calls=calls,
            completed=writer.stats.calls_completed, seconds=seconds, batches=writer.stats.batches,
        )


def _synthetic_caller(call_id: str) -> str:
    digits = "".join(ch for ch in call_id if ch.isdigit()) or "0"
    return f"+8210{int(digits) % 100_000_000:08d}"
