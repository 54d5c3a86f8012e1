"""Held callbacks (acd/held.py): callback requests kept for later are the ACD's own state, so a
snapshot + tail, a full replay and a JSON round trip keep them, in their order, with their timer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.agent import AgentConfig
from acd.callbacks import BusinessHours, CallbackBook, CallbackPolicy, Outcome, Request
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import AcdError, DuplicateCall
from acd.events import (
    CallArrived,
    CallAssigned,
    CallbackAccepted,
    CallbackDropped,
    CallbackHeld,
    CallbackMerged,
    Event,
)
from acd.held import AcdKeeper, accept_callback
from acd.live_config import configure_queue, queue_data, queue_from_data
from acd.queue import QueueConfig
from acd.replay import acd_state, rebuild
from acd.snapshot import RingStarts, restore, take
from tests.acd.test_replay import AGENT_IDS, ARRIVE, HELD_OPS, make, run, through_json
from tests.acd.test_replay import QUEUES as REPLAY_QUEUES

SEOUL = ZoneInfo("Asia/Seoul")


def at(day: int, hour: int, minute: int = 0) -> float:
    """2026-12-<day> (the 7th is a Monday) in Seoul, as epoch seconds."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SEOUL).timestamp()


HOURS = BusinessHours.parse({"mon": "09:00-18:00", "tue": "09:00-18:00"}, "Asia/Seoul")
QUEUES = [QueueConfig("q", skills={"q": 1}, callbacks=CallbackPolicy(HOURS))]
AGENTS = [AgentConfig("a1", skills={"q": 5})]


class Channel:
    """What a channel adapter does: the book, with the ACD as keeper; due ones arrive now."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd
        self.book = CallbackBook(acd.clock.now, {"q": CallbackPolicy(HOURS)}, self.place, keeper=AcdKeeper(acd))

    def place(self, request: Request) -> None:
        self.acd.arrive(request.call_id, request.queue, caller=request.number, source="cb",
                        waited=self.acd.clock.now() - request.arrived_at)


def live(start: float) -> tuple[Acd, VirtualClock, list[Event]]:
    clock = VirtualClock(start)
    acd = Acd(clock, QUEUES)
    for agent in AGENTS:
        acd.add_agent(agent)
    events: list[Event] = []
    acd.subscribe(events.append)
    return acd, clock, events


def arrivals(events: list[Event]) -> list[tuple[str, float, float]]:
    return [(e.call_id, e.at, e.waited) for e in events if isinstance(e, CallArrived)]


def test_after_hours_requests_are_held_in_the_acd_and_placed_at_the_opening_in_arrival_order() -> None:
    acd, clock, events = live(at(7, 19))
    channel = Channel(acd)
    channel.book.request("late", "q", "+82101", arrived_at=at(7, 18, 50), source="cb")
    channel.book.request("early", "q", "+82102", arrived_at=at(7, 17, 55), source="cb")
    assert acd.calls == {} and list(acd.held.requests) == ["late", "early"]
    assert [type(e) for e in events] == [CallbackHeld, CallbackHeld]
    clock.advance_to(at(8, 9, 30))
    assert arrivals(events) == [("early", at(8, 9), at(8, 9) - at(7, 17, 55)),
                                ("late", at(8, 9), at(8, 9) - at(7, 18, 50))]
    assert acd.held.requests == {}
    assert [c.id for c in acd.waiting_calls("q")] == ["early", "late"]
    assert acd.calls["early"].arrived_at == at(7, 17, 55)  # its place: the first arrival
    assert channel.book.placed("early") is not None and channel.book.open["early"].attempts == 1


def test_snapshot_and_tail_keep_held_callbacks_their_merges_and_their_timer() -> None:
    acd, clock, events = live(at(7, 19))
    channel = Channel(acd)
    channel.book.request("late", "q", "+82101", arrived_at=at(7, 18, 50), source="cb")
    snapshot = json.loads(json.dumps(take(acd)))  # as stored
    del events[:]
    clock.advance_to(at(7, 20))
    channel.book.request("early", "q", "+82102", arrived_at=at(7, 17, 55), source="cb")
    channel.book.request("again", "q", "+82101", arrived_at=at(7, 18, 10), slot=(at(8, 10), at(8, 11)))
    channel.book.request("gone", "q", "+82103", source="cb")
    assert channel.book.cancel("q", "+82103") is not None
    assert [type(e) for e in events] == [CallbackHeld, CallbackMerged, CallbackHeld, CallbackDropped]

    replayed, _ = restore(snapshot, QUEUES, agents=AGENTS)
    replayed.apply(through_json(events))
    twin_clock = VirtualClock(clock.now())
    twin = replayed.attach(twin_clock)
    assert acd_state(twin) == acd_state(acd)
    assert twin.held.requests["late"].merged == ["again"]
    assert twin.held.requests["late"].arrived_at == at(7, 18, 10)  # the earlier place of the two
    assert twin.snapshot() == acd.snapshot()

    seen: list[Event] = []
    twin.subscribe(seen.append)
    twin_clock.advance_to(at(8, 9, 30))
    assert arrivals(seen) == [("early", at(8, 9), at(8, 9) - at(7, 17, 55))]  # "late" waits for its slot
    twin_clock.advance_to(at(8, 10, 30))
    assert arrivals(seen)[1] == ("late", at(8, 10), at(8, 10) - at(7, 18, 10))
    clock.advance_to(at(8, 10, 30))  # the live one did the same
    assert arrivals(events) == arrivals(seen) and acd_state(twin) == acd_state(acd)


def test_a_full_replay_re_runs_the_placement_at_the_opening() -> None:
    acd, clock, events = live(at(7, 19))
    acd.login("a1")
    channel = Channel(acd)
    channel.book.request("c1", "q", "+82101", arrived_at=at(7, 18, 50), source="cb")
    channel.book.request("c2", "q", "+82102", source="cb")
    clock.advance_to(at(8, 9, 1))
    assigned = [e.call_id for e in events if isinstance(e, CallAssigned)]
    assert assigned == ["c1"]  # at the opening, the agent is rung for the earlier arrival

    twin = rebuild(through_json(events), QUEUES, AGENTS, VirtualClock(clock.now()), start=at(7, 19))
    assert acd_state(twin) == acd_state(acd)
    assert twin.held.requests == {} and twin.calls["c2"].arrived_at == at(7, 19)


def test_a_snapshot_before_held_callbacks_restores_with_none() -> None:
    acd, _, _ = live(at(7, 12))
    data: dict[str, Any] = json.loads(json.dumps(take(acd)))
    del data["held_callbacks"]
    replayed, _ = restore(data, QUEUES, agents=AGENTS)
    assert replayed.acd.held.requests == {}


def test_the_queue_data_keeps_the_callback_hours() -> None:
    queue = queue_from_data(json.loads(json.dumps(queue_data(QUEUES[0]))))
    assert queue == QUEUES[0] and queue.callbacks is not None
    assert queue.callbacks.hours.next_open(at(7, 19)) == at(8, 9)


def test_a_held_request_called_off_is_recorded_cancelled() -> None:
    acd, clock, events = live(at(7, 19))
    channel = Channel(acd)
    channel.book.request("c1", "q", "+82101", source="cb")
    request = channel.book.cancel("q", "+82101")
    assert request is not None and request.outcome is Outcome.CANCELLED
    assert acd.held.requests == {} and channel.book.report()["q"]["cancelled"] == 1
    clock.advance_to(at(8, 10))
    assert arrivals(events) == []


def test_a_held_call_id_cannot_arrive_twice() -> None:
    acd, clock, events = live(at(7, 19))
    channel = Channel(acd)
    channel.book.request("c1", "q", "+82101", source="cb")
    with pytest.raises(DuplicateCall):
        acd.arrive("c1", "q", caller="+82101")
    with pytest.raises(DuplicateCall):
        channel.book.request("c1", "q", "+82109", source="cb")
    clock.advance_to(at(8, 9, 1))
    assert [c for c, _, _ in arrivals(events)] == ["c1"] and acd.held.requests == {}


def test_a_waiting_call_taken_as_a_callback_replays() -> None:
    acd, clock, events = live(at(7, 10))
    acd.arrive("c1", "q", caller="+82101", source="live")
    clock.advance(30)
    accept_callback(acd, "c1", "+82199", "cb")
    assert (acd.calls["c1"].caller, acd.calls["c1"].source) == ("+82199", "cb")
    assert isinstance(events[-1], CallbackAccepted)
    twin = rebuild(through_json(events), QUEUES, AGENTS, VirtualClock(clock.now()), start=at(7, 10))
    assert acd_state(twin) == acd_state(acd)
    acd.login("a1")
    with pytest.raises(AcdError):  # ringing now: no callback taken any more
        accept_callback(acd, "c1", "+82100", "cb")


def test_a_live_edit_of_the_hours_moves_the_opening_of_held_requests() -> None:
    acd, clock, events = live(at(7, 19))
    channel = Channel(acd)
    channel.book.request("c1", "q", "+82101", source="cb")
    evening = BusinessHours.parse({"mon": "20:00-22:00", "tue": "09:00-18:00"}, "Asia/Seoul")  # open at 20:00
    configure_queue(acd, dataclasses.replace(QUEUES[0], callbacks=CallbackPolicy(evening)))
    clock.advance_to(at(7, 20, 1))
    assert arrivals(events) == [("c1", at(7, 20), at(7, 20) - at(7, 19))]
    twin = rebuild(through_json(events), QUEUES, AGENTS, VirtualClock(clock.now()), start=at(7, 19))
    assert acd_state(twin) == acd_state(acd)


CALL_OPS = st.one_of(
    ARRIVE, HELD_OPS, HELD_OPS,
    st.tuples(st.sampled_from(["answer", "answer", "end", "abandon", "ring_no_answer"]), st.integers(0, 50)),
    st.tuples(st.sampled_from(["login", "logout", "pause", "unpause", "wrap_done"]), st.sampled_from(AGENT_IDS)),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 1.0, 5.0, 12.0, 25.0, 45.0, 100.0])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=st.lists(CALL_OPS, min_size=1, max_size=80), tail=st.lists(CALL_OPS, max_size=40),
       after=st.lists(CALL_OPS, max_size=30))
def test_held_callbacks_among_calls_rebuild_and_snapshot_equal_the_live_acd(
    before: list[tuple[Any, ...]], tail: list[tuple[Any, ...]], after: list[tuple[Any, ...]],
) -> None:
    """Random calls, agents and held callbacks: the full replay, and a snapshot + its tail,
    give the live ACD (held requests and their timer included), and carry on alike."""
    live_acd, clock, configs = make([1] * len(AGENT_IDS), True)
    ring = RingStarts()  # when each ringing call was offered, as the journal's snapshotter keeps it
    live_acd.subscribe(ring, RingStarts.KINDS)
    stream: list[Event] = []
    live_acd.subscribe(stream.append)
    serial = [0]
    for op in [("login", agent_id) for agent_id in AGENT_IDS[::2]] + before:
        run(live_acd, clock, op, serial)
    snapshot = json.loads(json.dumps(take(live_acd, ring.at)))
    mark = len(stream)
    for op in tail:
        run(live_acd, clock, op, serial)
    rebuilt = rebuild(through_json(stream), REPLAY_QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    replayed, _ = restore(snapshot, REPLAY_QUEUES, occupancy_window=300.0)
    replayed.apply(through_json(stream[mark:]))
    twin_clock = VirtualClock(clock.now())
    twin = replayed.attach(twin_clock)
    assert acd_state(rebuilt) == acd_state(live_acd) == acd_state(twin)
    twin_serial = list(serial)
    for op in after:
        run(live_acd, clock, op, serial)
        run(twin, twin_clock, op, twin_serial)
    assert acd_state(twin) == acd_state(live_acd)
