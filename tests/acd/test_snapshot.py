"""Snapshot + tail (acd.snapshot): an ACD restored from a snapshot taken at a random moment,
with the events after it re-run, equals the live one and carries on alike."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd import live_config
from acd.call import CallState
from acd.clock import VirtualClock
from acd.events import Event
from acd.replay import acd_state
from acd.snapshot import RingStarts, SnapshotError, restore, take
from tests.acd.test_replay import AGENT_IDS, OPS, QUEUES, make, random_op, run, through_json


def _restored(snapshot: dict[str, Any], tail: list[Event], now: float, pause_on_rna: bool) -> tuple[Any, VirtualClock]:
    data = json.loads(json.dumps(snapshot))  # as stored
    replayed, _ = restore(data, QUEUES, pause_on_ring_no_answer=pause_on_rna, occupancy_window=300.0)
    replayed.apply(through_json(tail))
    clock = VirtualClock(now)
    return replayed.attach(clock), clock


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(OPS, min_size=1, max_size=100),
    tail=st.lists(OPS, max_size=60),
    after=st.lists(OPS, max_size=40),
    capacities=st.lists(st.integers(1, 3), min_size=len(AGENT_IDS), max_size=len(AGENT_IDS)),
    pause_on_rna=st.booleans(),
)
def test_snapshot_and_tail_equal_the_live_acd(
    before: list[tuple[Any, ...]],
    tail: list[tuple[Any, ...]],
    after: list[tuple[Any, ...]],
    capacities: list[int],
    pause_on_rna: bool,
) -> None:
    live, clock, _ = make(capacities, pause_on_rna)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    serial = [0]
    for op in [("login", agent_id) for agent_id in AGENT_IDS[::2]] + before:
        run(live, clock, op, serial)
    snapshot = take(live, ring.at)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    for op in tail:
        run(live, clock, op, serial)

    twin, twin_clock = _restored(snapshot, recorded, clock.now(), pause_on_rna)
    assert acd_state(twin) == acd_state(live)
    assert twin.snapshot() == live.snapshot()

    live_next: list[Event] = []
    twin_next: list[Event] = []
    live.subscribe(live_next.append)
    twin.subscribe(twin_next.append)
    twin_serial = list(serial)
    for op in [*after, ("advance", 400.0)]:  # the last one fires every pending timer
        run(live, clock, op, serial)
        run(twin, twin_clock, op, twin_serial)
        assert twin_next == live_next
    assert acd_state(twin) == acd_state(live)


@pytest.mark.parametrize("seed", range(6))
def test_long_runs_snapshotted_every_hundred_operations(seed: int) -> None:
    """A snapshot every 100 operations of a 1,200-operation run, each restored with the tail
    since and compared; the events before the snapshot are not needed any more."""
    rng = random.Random(seed)
    live, clock, _ = make([rng.randint(1, 3) for _ in AGENT_IDS], seed % 2 == 0)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    tail: list[Event] = []
    live.subscribe(tail.append)
    serial = [0]
    snapshot = take(live, ring.at)
    checked = 0
    for step in range(1, 1201):
        run(live, clock, random_op(rng), serial)
        if step % 100 == 0:
            twin, _ = _restored(snapshot, tail, clock.now(), seed % 2 == 0)
            assert acd_state(twin) == acd_state(live)
            checked += bool(twin.calls)
            snapshot = take(live, ring.at)  # the next snapshot replaces the stream so far
            tail.clear()
    assert checked


def test_a_restored_ring_timeout_fires_when_the_live_one_would() -> None:
    live, clock, _ = make([1] * len(AGENT_IDS), True)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    live.login("a0")
    live.arrive("c1", "booking")  # rings a0; ring timeout in 20 s
    clock.advance(5.0)
    replayed, _ = restore(take(live, ring.at), QUEUES, occupancy_window=300.0)
    later = VirtualClock(clock.now())
    twin = replayed.attach(later)
    later.advance(14.9)
    assert twin.call("c1").state is CallState.RINGING
    later.advance(0.2)
    assert twin.call("c1").state is CallState.QUEUED
    assert twin.agent("a0").pause_reason == "ring_no_answer"


def test_a_queue_edited_while_a_call_rings_keeps_that_offers_ring_timeout() -> None:
    """A live edit applies to the next offer: the ringing one keeps the timeout it was armed
    with, in the live ACD and in one restored from a snapshot taken after the edit."""
    live, clock, _ = make([1] * len(AGENT_IDS), True)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    live.login("a0")
    live.arrive("c1", "booking")  # rings a0; ring timeout in 20 s
    live_config.configure_queue(live, dataclasses.replace(QUEUES[0], ring_timeout=5.0))
    clock.advance(1.0)
    replayed, _ = restore(json.loads(json.dumps(take(live, ring.at))), QUEUES, occupancy_window=300.0)
    later = VirtualClock(clock.now())
    twin = replayed.attach(later)
    for acd, advance in ((live, clock.advance), (twin, later.advance)):
        advance(10.0)  # 11 s into the ring: past the edited 5 s, short of the offer's 20 s
        assert acd.call("c1").state is CallState.RINGING
        advance(9.1)
        assert acd.call("c1").state is CallState.QUEUED


def test_not_a_snapshot_is_refused() -> None:
    with pytest.raises(SnapshotError):
        restore({"format": 99}, QUEUES)
    live, _, _ = make([1] * len(AGENT_IDS), True)
    live.login("a0")
    live.arrive("c1", "booking")
    data = take(live)
    older = {k: v for k, v in data.items() if k != "queues"}  # a snapshot from before live edits
    with pytest.raises(SnapshotError, match="not configured"):
        restore(older, [q for q in QUEUES if q.name != "booking"])
    # one that keeps its queues (as edited live) brings them along
    replayed, _ = restore(data, [q for q in QUEUES if q.name != "booking"])
    assert replayed.acd.queues["booking"] == QUEUES[0]
