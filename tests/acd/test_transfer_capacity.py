"""A blind transfer to a queue by an agent of capacity > 1 (issue 13): the agent's slot is
given up before the call takes its place, so the call is never offered back to the agent
while that agent still holds it (the ACD and its events stayed apart before)."""

from __future__ import annotations

from acd.agent import AgentConfig, AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import CallAssigned, Event
from acd.queue import QueueConfig
from acd.replay import acd_state, replay

QUEUES = (
    QueueConfig("booking", skills={"booking": 1}, wrap_up=10.0),
    QueueConfig("general", skills={"general": 1}, wrap_up=10.0),
)
MULTI = AgentConfig("a", skills={"booking": 5, "general": 5}, capacity=3)


def make(*agents: AgentConfig) -> tuple[Acd, VirtualClock, list[Event]]:
    clock = VirtualClock(100.0)
    acd = Acd(clock, QUEUES)
    events: list[Event] = []
    acd.subscribe(events.append)
    for agent in agents:
        acd.add_agent(agent)
        acd.login(agent.id)
    return acd, clock, events


def test_the_last_call_of_a_multi_call_agent_transferred_to_a_queue_it_serves_waits() -> None:
    acd, _, events = make(MULTI)
    acd.arrive("c0", "booking")
    acd.answer("c0")
    agent = acd.agents["a"]
    assert agent.state is AgentState.ON_CALL and agent.indexed  # a free slot beside c0
    acd.transfer("c0", queue="general")
    call = acd.call("c0")
    # not rung back on `a` (which then dropped it from its calls and went to wrap-up)
    assert call.state is CallState.QUEUED and call.agent_id == ""
    assert agent.state is AgentState.WRAP_UP and not agent.calls
    assert [e.call_id for e in events if isinstance(e, CallAssigned)] == ["c0"]  # its first offer only
    replayed = replay(events, QUEUES, [MULTI], start=100.0)
    assert acd_state(replayed.acd) == acd_state(acd)


def test_a_call_transferred_beside_another_is_offered_again_only_once_the_slot_is_free() -> None:
    acd, _, events = make(MULTI)
    acd.arrive("c0", "booking")
    acd.answer("c0")
    acd.arrive("c1", "booking")
    acd.answer("c1")
    agent = acd.agents["a"]
    assert set(agent.calls) == {"c0", "c1"}
    before = len(events)
    acd.transfer("c0", queue="general")
    call = acd.call("c0")
    # its part of c0 over, `a` (still on c1, a slot free) may take c0 as a new offer: it
    # rings and `a` holds it, as its events say
    assert call.state is CallState.RINGING and call.agent_id == "a"
    assert set(agent.calls) == {"c0", "c1"} and agent.state is AgentState.ON_CALL
    assigned = [e for e in events[before:] if isinstance(e, CallAssigned)]
    assert [(e.call_id, e.agent_id) for e in assigned] == [("c0", "a")]
    acd.answer("c0")
    acd.end("c0")
    acd.end("c1")
    assert agent.state is AgentState.WRAP_UP and not agent.calls
    replayed = replay(events, QUEUES, [MULTI], start=100.0)
    assert acd_state(replayed.acd) == acd_state(acd)


def test_a_multi_call_agent_transfers_to_a_queue_another_agent_takes() -> None:
    other = AgentConfig("b", skills={"general": 9})
    acd, _, _ = make(MULTI, other)
    acd.arrive("c0", "booking")
    acd.answer("c0")
    acd.transfer("c0", queue="general")
    assert acd.call("c0").agent_id == "b" and acd.call("c0").state is CallState.RINGING
    assert not acd.agents["a"].calls and acd.agents["a"].state is AgentState.WRAP_UP
    assert set(acd.agents["b"].calls) == {"c0"}


def test_a_consulted_agent_of_capacity_two_stays_routable_once_it_answers() -> None:
    """The consulted party of capacity > 1 talks with a slot free: it is routable (indexed)
    and takes a waiting call, as after answering a call of its own."""
    owner = AgentConfig("o", skills={"booking": 5})
    acd, _, _ = make(owner, AgentConfig("p", skills={"booking": 5}, capacity=2))
    acd.arrive("c0", "booking")
    acd.answer("c0")
    assert acd.call("c0").agent_id == "o"  # the longest idle
    acd.add_party("c0", agent="p")
    acd.party_answered("c0", "p")
    p = acd.agents["p"]
    assert p.state is AgentState.ON_CALL and p.indexed
    acd.arrive("c1", "booking")
    assert acd.call("c1").agent_id == "p" and set(p.calls) == {"c0", "c1"}
