"""Supervisor operations on waiting calls: change priority, move to another queue."""

from __future__ import annotations

import pytest

from acd.agent import AgentConfig
from acd.call import CallState
from acd.errors import IllegalTransition, UnknownCall, UnknownQueue
from acd.events import CallOverflowed
from acd.queue import QueueConfig
from tests.acd.test_engine import make


def _busy_floor() -> tuple:
    booking = QueueConfig("booking", skills={"booking": 1}, max_wait=120, overflow="general")
    general = QueueConfig("general", skills={"general": 1})
    acd, clock, log = make(
        [booking, general],
        [AgentConfig("b", skills={"booking": 3}), AgentConfig("g", skills={"general": 3})],
    )
    acd.login("b")
    acd.arrive("busy", "booking")
    acd.answer("busy")
    return acd, clock, log


def test_a_raised_priority_puts_the_call_first_and_keeps_its_timers() -> None:
    acd, clock, log = _busy_floor()
    for cid in ("c1", "c2", "c3"):
        acd.arrive(cid, "booking")
        clock.advance(10)
    acd.set_priority("c3", 5)
    assert [c.id for c in acd.waiting_calls("booking")] == ["c3", "c1", "c2"]
    assert acd.position("c3") == 1
    acd.set_priority("c3", 0)  # back down: behind the older calls again
    assert [c.id for c in acd.waiting_calls("booking")] == ["c1", "c2", "c3"]
    clock.advance(90)  # c1 waited 120 s: it overflows on its original schedule, c3 not yet
    assert [e.call_id for e in log.of(CallOverflowed)] == ["c1"]  # type: ignore[attr-defined]
    acd.end("busy")
    assert acd.call("c2").state is CallState.RINGING


def test_moving_a_call_routes_it_to_a_free_agent_of_the_other_queue() -> None:
    acd, clock, log = _busy_floor()
    acd.login("g")
    acd.arrive("c1", "booking")
    assert acd.call("c1").state is CallState.QUEUED
    clock.advance(30)
    acd.move("c1", "general")
    call = acd.call("c1")
    assert (call.queue, call.state, call.agent_id) == ("general", CallState.RINGING, "g")
    assert acd.waiting_calls("booking") == []
    moved = log.of(CallOverflowed)
    assert [(e.call_id, e.from_queue, e.to_queue) for e in moved] == [("c1", "booking", "general")]  # type: ignore[attr-defined]


def test_moving_a_call_restarts_its_wait_in_the_new_queue() -> None:
    acd, clock, _ = _busy_floor()
    acd.arrive("c1", "general")  # g logged out: it waits
    clock.advance(100)
    acd.move("c1", "booking")
    clock.advance(100)  # 200 s since arrival, 100 in booking: no overflow yet (max 120)
    assert acd.call("c1").queue == "booking"
    clock.advance(20)
    assert acd.call("c1").queue == "general"


def test_only_waiting_calls_can_be_changed_and_unknown_queues_are_refused() -> None:
    acd, _, _ = _busy_floor()
    acd.arrive("c1", "booking")
    with pytest.raises(IllegalTransition):
        acd.set_priority("busy", 3)
    with pytest.raises(IllegalTransition):
        acd.move("busy", "general")
    with pytest.raises(UnknownQueue):
        acd.move("c1", "nowhere")
    with pytest.raises(UnknownCall):
        acd.move("nope", "general")
    assert acd.call("c1").queue == "booking" and acd.position("c1") == 1
