"""Calls reserved for one agent (acd/targeted.py): only that agent is offered them, a busy
agent is waited for, and the fallback when the agent logs out or the wait is over."""

from __future__ import annotations

import pytest

from acd.agent import AgentConfig, AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import IllegalTransition
from acd.events import CallAbandoned, CallAssigned, Event
from acd.queue import EscalationStep, QueueConfig
from acd.snapshot import restore, take
from acd.targeted import LOGGED_OUT, WAIT_OVER, TargetedCalls

QUEUE = QueueConfig("care", skills={"care": 5}, wrap_up=0.0)


class World:
    def __init__(self, queue: QueueConfig | None = None, agents: int = 3) -> None:
        self.clock = VirtualClock(100.0)
        self.acd = Acd(self.clock, [queue or QUEUE])
        self.events: list[Event] = []
        self.acd.subscribe(self.events.append)
        self.targeted = TargetedCalls(self.acd)
        for n in range(1, agents + 1):
            self.acd.add_agent(AgentConfig(f"a{n}", skills={"care": 5}))

    def assigned(self) -> list[tuple[str, str]]:
        return [(e.call_id, e.agent_id) for e in self.events if isinstance(e, CallAssigned)]

    def abandoned(self) -> list[tuple[str, str]]:
        return [(e.call_id, e.reason) for e in self.events if isinstance(e, CallAbandoned)]

    def talk(self, call_id: str) -> None:
        self.acd.answer(call_id)
        self.acd.end(call_id)


def test_only_the_taking_agent_is_offered_the_call_not_a_longer_idle_free_one() -> None:
    w = World()
    w.acd.login("a1")  # idle longest
    w.clock.advance(10)
    w.acd.login("a2")
    w.targeted.arrive("f1", "care", "a2", caller="+821011112222")
    assert w.assigned() == [("f1", "a2")]
    assert w.acd.agent("a1").state is AgentState.AVAILABLE


def test_a_busy_agent_is_waited_for_while_another_free_agent_is_not_offered_it() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.arrive("c1", "care")  # a1 talks to a customer
    w.acd.answer("c1")
    w.acd.login("a2")
    w.targeted.arrive("f1", "care", "a1")
    assert w.acd.call("f1").state is CallState.QUEUED
    assert w.acd.agent("a2").state is AgentState.AVAILABLE  # free, eligible, and not offered it
    w.acd.arrive("c2", "care")  # an ordinary call still goes to a2
    w.acd.end("c1")  # a1 free (no wrap-up): the reserved call first, before any waiting call
    w.acd.arrive("c3", "care")  # waits: a1 is taken by f1, a2 by c2
    assert w.assigned() == [("c1", "a1"), ("c2", "a2"), ("f1", "a1")]
    w.talk("f1")
    assert w.assigned()[-1] == ("c3", "a1")


def test_a_skill_the_agent_lacks_does_not_matter_and_escalation_groups_do_not_open_it() -> None:
    queue = QueueConfig("care", skills={"care": 9}, wrap_up=0.0,
                        escalation=(EscalationStep(5, groups=frozenset({"leads"})),))
    w = World(queue, agents=0)
    w.acd.add_agent(AgentConfig("low", skills={"care": 1}))
    w.acd.add_agent(AgentConfig("lead", skills={"care": 9}, groups=frozenset({"leads"})))
    w.acd.login("low")
    w.acd.pause("low", "break")
    w.acd.login("lead")
    w.targeted.arrive("f1", "care", "low")
    w.clock.advance(30)  # escalated: the group may take the queue's calls, not this one
    assert w.acd.call("f1").state is CallState.QUEUED and w.acd.call("f1").step == 1
    assert w.acd.agent("lead").state is AgentState.AVAILABLE
    w.acd.unpause("low")
    assert w.assigned() == [("f1", "low")]


def test_ring_no_answer_waits_for_the_same_agent() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.login("a2")
    w.targeted.arrive("f1", "care", "a1")
    w.acd.ring_no_answer("f1")  # a1 paused (ring_no_answer), a2 free: f1 waits for a1
    assert w.acd.agent("a1").state is AgentState.PAUSED
    assert w.acd.call("f1").state is CallState.QUEUED
    w.acd.unpause("a1")
    assert w.assigned() == [("f1", "a1"), ("f1", "a1")]


def test_the_agent_logging_out_is_the_fallback_the_call_leaves_the_acd() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.login("a2")
    w.acd.pause("a1", "break")
    w.targeted.arrive("f1", "care", "a1")
    w.acd.logout("a1")
    assert w.abandoned() == [("f1", LOGGED_OUT)]
    assert "f1" not in w.acd.calls
    assert w.assigned() == []  # a2 never got it


def test_a_pending_logout_after_the_current_call_is_the_fallback_too() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.arrive("c1", "care")
    w.acd.answer("c1")
    w.targeted.arrive("f1", "care", "a1")
    w.acd.logout("a1", when_free=True)
    assert w.acd.call("f1").state is CallState.QUEUED
    w.acd.end("c1")
    assert w.acd.agent("a1").state is AgentState.LOGGED_OUT
    assert w.abandoned() == [("f1", LOGGED_OUT)]


def test_the_wait_is_over_after_wait_seconds_and_a_ringing_offer_rings_out_first() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.pause("a1", "break")
    w.targeted.arrive("f1", "care", "a1", wait=60)
    w.clock.advance(59)
    assert w.abandoned() == []
    w.clock.advance(1)
    assert w.abandoned() == [("f1", WAIT_OVER)]

    w.acd.unpause("a1")
    w.acd.arrive("c1", "care")
    w.acd.answer("c1")
    w.targeted.arrive("f2", "care", "a1", wait=30)
    w.clock.advance(25)
    w.acd.end("c1")  # a1 free: f2 rings
    w.clock.advance(10)  # the wait is over while it rings: it may still be answered
    assert w.acd.call("f2").state is CallState.RINGING
    w.acd.answer("f2")
    w.clock.advance(600)
    assert w.abandoned() == [("f1", WAIT_OVER)]
    assert w.acd.call("f2").state is CallState.ON_CALL and w.acd.call("f2").target == ""


def test_a_logged_out_agent_is_refused() -> None:
    w = World()
    with pytest.raises(IllegalTransition):
        w.targeted.arrive("f1", "care", "a1")
    assert "f1" not in w.acd.calls


def test_the_reservation_survives_a_snapshot() -> None:
    w = World()
    w.acd.login("a1")
    w.acd.login("a2")
    w.acd.pause("a1", "break")
    w.targeted.arrive("f1", "care", "a1")
    data = take(w.acd)
    w2 = World()
    restore(data, [QUEUE], into=w2.acd)
    assert w2.acd.call("f1").target == "a1"
    assert w2.acd.agent("a2").state is AgentState.AVAILABLE and w2.assigned() == []
    w2.acd.unpause("a1")
    assert w2.assigned() == [("f1", "a1")]


def test_the_reservation_is_in_the_event_stream_and_replays() -> None:
    from acd.events import CallArrived, event_from_dict
    from acd.replay import replay

    w = World()
    w.acd.login("a1")
    w.acd.login("a2")
    w.acd.pause("a1", "break")
    w.targeted.arrive("f1", "care", "a1", caller="+821011112222")
    w.acd.arrive("c1", "care")
    [arrived] = [e for e in w.events if isinstance(e, CallArrived) and e.call_id == "f1"]
    assert arrived.to_dict()["target"] == "a1" and "target" not in w.events[-3].to_dict()
    assert event_from_dict(arrived.to_dict()) == arrived
    agents = [AgentConfig(f"a{n}", skills={"care": 5}) for n in (1, 2, 3)]
    again = replay([event_from_dict(e.to_dict()) for e in w.events], [QUEUE], agents, start=100.0).acd
    assert again.call("f1").target == "a1" and again.call("f1").state is CallState.QUEUED
    assert again.call("c1").agent_id == "a2"  # the ordinary call went to a2, f1 still waits for a1
