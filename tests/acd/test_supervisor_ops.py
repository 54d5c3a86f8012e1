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


def test_an_agent_given_a_skill_live_takes_the_waiting_call_and_keeps_its_own() -> None:
    acd, _, _ = _busy_floor()  # b (booking) talks on "busy"
    acd.login("g")
    acd.arrive("c1", "booking")  # b is busy, g has no booking skill: it waits
    assert acd.call("c1").state is CallState.QUEUED
    acd.update_agent(AgentConfig("g", skills={"general": 3, "booking": 2}))
    assert (acd.call("c1").state, acd.call("c1").agent_id) == (CallState.RINGING, "g")
    acd.update_agent(AgentConfig("b", skills={"general": 1}))  # on a call: it keeps it
    assert acd.call("busy").state is CallState.ON_CALL and acd.agent("b").state.value == "on_call"
    acd.arrive("c2", "booking")
    acd.end("busy")
    assert acd.call("c2").state is CallState.QUEUED  # b no longer takes booking calls


def test_capacity_lowered_live_applies_as_calls_end() -> None:
    acd, _, _ = make([QueueConfig("q", skills={"x": 1})], [AgentConfig("a", skills={"x": 1}, capacity=2)])
    acd.login("a")
    acd.arrive("c1", "q")
    acd.answer("c1")
    acd.arrive("c2", "q")
    acd.answer("c2")
    acd.update_agent(AgentConfig("a", skills={"x": 1}, capacity=1))
    acd.arrive("c3", "q")
    acd.end("c1")  # one call left: at the new capacity, so c3 waits
    assert acd.call("c3").state is CallState.QUEUED and set(acd.agent("a").calls) == {"c2"}
