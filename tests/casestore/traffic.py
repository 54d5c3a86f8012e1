"""Deterministic call traffic through a real `Acd` on a `VirtualClock` (for writer tests)."""

from __future__ import annotations

from collections.abc import Callable

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import Event
from acd.queue import QueueConfig

START = 1_795_000_000.0  # 2026-11-19


def make_acd(agents: int = 1, start: float = START) -> tuple[Acd, VirtualClock]:
    clock = VirtualClock(start)
    queues = [
        QueueConfig("general", ring_timeout=None, wrap_up=0),
        QueueConfig("complaint", ring_timeout=None, wrap_up=0),
    ]
    acd = Acd(clock, queues)
    for i in range(agents):
        acd.add_agent(AgentConfig(f"a{i}"))
        acd.login(f"a{i}")
    return acd, clock


def caller(i: int) -> str:
    return f"+8210{i % 1000:08d}"


def drive(
    acd: Acd,
    clock: VirtualClock,
    n: int,
    *,
    prefix: str = "c",
    source: str = "simulation",
    between: Callable[[int], None] | None = None,
) -> None:
    """n calls, one at a time: every 5th is abandoned while ringing, the rest answered,
    talked 30 s, dispositioned and ended. `between(i)` runs after call i."""
    for i in range(n):
        cid = f"{prefix}{i}"
        queue = "complaint" if i % 3 == 0 else "general"
        acd.arrive(cid, queue, caller=caller(i), source=source, language="ko", dialed="1588")
        clock.advance(2)
        if i % 5 == 4:
            acd.abandon(cid)
        else:
            acd.answer(cid)
            clock.advance(30)
            agent = acd.agents[next(a for a in acd.agents if acd.agents[a].call_id == cid)].id
            acd.end(cid)
            acd.set_disposition(agent, "resolved")
        clock.advance(1)
        if between is not None:
            between(i)


def recorder() -> tuple[list[Event], Callable[[Event], None]]:
    events: list[Event] = []
    return events, events.append


OVERLAP = 4


def overlapping_step(acd: Acd, clock: VirtualClock, i: int, *, prefix: str = "k") -> None:
    """Step i of a stream where OVERLAP calls are always in progress: call i arrives and is
    answered, call i - OVERLAP ends (needs OVERLAP + 1 agents)."""
    cid = f"{prefix}{i}"
    acd.arrive(cid, "general", caller=caller(i), source="simulation")
    clock.advance(1)
    acd.answer(cid)
    old = i - OVERLAP
    if old >= 0:
        acd.end(f"{prefix}{old}")
    clock.advance(1)


def finish_overlapping(acd: Acd, clock: VirtualClock, n: int, *, prefix: str = "k") -> None:
    for old in range(max(0, n - OVERLAP), n):
        acd.end(f"{prefix}{old}")
        clock.advance(1)
