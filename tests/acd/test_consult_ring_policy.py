"""A consult or conference offer that rings out follows the ring-no-answer policy of its queue
(acd/ring_policy.py): the queue it was chosen from for a consult to a queue, else the call's
queue; consecutive ring-outs count with the agent's other offers, an answer resets them, and
the ACD's `pause_on_ring_no_answer: false` still means never."""

from __future__ import annotations

import dataclasses
import json

from acd import live_config
from acd.agent import AgentConfig, AgentState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import Event
from acd.queue import QueueConfig
from acd.replay import acd_state, replay
from acd.ring_policy import RingPolicy
from acd.snapshot import restore, take

QUEUES = (
    QueueConfig("sales", skills={"sales": 1}, ring_timeout=20.0, wrap_up=None,
                ring_policy=RingPolicy(pause_after=2)),
    QueueConfig("billing", skills={"billing": 1}, ring_timeout=20.0, wrap_up=None,
                ring_policy=RingPolicy(pause_after=3)),
    QueueConfig("strict", skills={"strict": 1}, ring_timeout=20.0, wrap_up=None),  # pauses at once
)
AGENTS = (
    AgentConfig("owner", skills={"sales": 5, "strict": 5}),
    AgentConfig("expert", skills={"billing": 5}),
)


def talking(queue: str = "sales", pause_on_ring_no_answer: bool = True) -> tuple[Acd, VirtualClock, list[Event]]:
    clock = VirtualClock(100.0)
    acd = Acd(clock, QUEUES, pause_on_ring_no_answer=pause_on_ring_no_answer)
    events: list[Event] = []
    acd.subscribe(events.append)
    for agent in AGENTS:
        acd.add_agent(agent)
        acd.login(agent.id)
    acd.arrive("c1", queue)
    acd.answer("c1")
    assert acd.call("c1").agent_id == "owner"
    return acd, clock, events


def ring_out_consult(acd: Acd, clock: VirtualClock, **target: str) -> None:
    acd.add_party("c1", **target)
    assert acd.agents["expert"].state is AgentState.RINGING
    clock.advance(20.0)  # the party's ring timeout (the call's queue's)
    assert not acd.call("c1").parties


def test_the_call_queues_policy_lets_a_first_consult_ring_out_pass() -> None:
    acd, clock, events = talking("sales")  # pause_after 2
    expert = acd.agents["expert"]
    ring_out_consult(acd, clock, agent="expert")
    assert expert.state is AgentState.AVAILABLE and expert.ring_outs == 1  # the global rule paused here
    ring_out_consult(acd, clock, agent="expert")
    assert expert.state is AgentState.PAUSED and expert.pause_reason == "ring_no_answer"
    assert expert.ring_outs == 0
    assert acd_state(replay(events, QUEUES, AGENTS, start=100.0).acd) == acd_state(acd)


def test_a_consult_to_a_queue_follows_the_policy_of_that_queue() -> None:
    acd, clock, events = talking("strict")  # the call's queue pauses at the first ring-out
    expert = acd.agents["expert"]
    for _ in range(2):
        ring_out_consult(acd, clock, queue="billing")  # pause_after 3
        assert expert.state is AgentState.AVAILABLE
    ring_out_consult(acd, clock, queue="billing")
    assert expert.state is AgentState.PAUSED
    assert acd_state(replay(events, QUEUES, AGENTS, start=100.0).acd) == acd_state(acd)


def test_a_consult_to_an_agent_on_a_strict_queue_pauses_at_once() -> None:
    acd, clock, _ = talking("strict")
    ring_out_consult(acd, clock, agent="expert")
    assert acd.agents["expert"].state is AgentState.PAUSED


def test_an_answered_consult_resets_the_count() -> None:
    acd, clock, _ = talking("sales")
    expert = acd.agents["expert"]
    ring_out_consult(acd, clock, agent="expert")
    acd.add_party("c1", agent="expert")
    acd.party_answered("c1", "expert")
    assert expert.ring_outs == 0
    acd.remove_party("c1", "expert", "left")
    acd.wrap_done("expert")
    ring_out_consult(acd, clock, agent="expert")
    assert expert.state is AgentState.AVAILABLE and expert.ring_outs == 1


def test_no_pause_on_ring_no_answer_still_means_never() -> None:
    acd, clock, _ = talking("strict", pause_on_ring_no_answer=False)
    for _ in range(3):
        ring_out_consult(acd, clock, agent="expert")
        assert acd.agents["expert"].state is AgentState.AVAILABLE


def test_a_ringing_consult_keeps_its_ring_timeout_across_an_edit_and_a_snapshot() -> None:
    """The queue's ring timeout edited while the consulted agent rings applies to the next
    offer; a snapshot taken after the edit restores the timeout the offer was armed with."""
    acd, clock, _ = talking()
    acd.add_party("c1", agent="expert")
    live_config.configure_queue(acd, dataclasses.replace(QUEUES[0], ring_timeout=5.0))
    clock.advance(1.0)
    replayed, _ = restore(json.loads(json.dumps(take(acd))), QUEUES)
    later = VirtualClock(clock.now())
    twin = replayed.attach(later)
    for each, advance in ((acd, clock.advance), (twin, later.advance)):
        advance(10.0)  # past the edited 5 s, short of the offer's 20 s
        assert each.agents["expert"].state is AgentState.RINGING
        advance(9.1)
        assert not each.call("c1").parties
