"""Aging priority and the ring-no-answer policy (acd/aging.py, acd/ring_policy.py): the rules
one at a time, then property runs, replays and snapshots with both switched on."""

from __future__ import annotations

import dataclasses
import random

import pytest

from acd.agent import AgentConfig, AgentState
from acd.aging import Aging
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import CallAged, CallAssigned, CallReoffered, Event
from acd.queue import QueueConfig
from acd.replay import acd_state, rebuild
from acd.ring_policy import RingPolicy
from acd.snapshot import RingStarts, restore, take
from tests.acd import test_properties as props
from tests.acd.test_replay import AGENT_IDS, SKILLS, random_op, run, through_json
from tests.acd.test_replay import QUEUES as REPLAY_QUEUES


def make(queue: QueueConfig, agents: int = 1, **kwargs: bool) -> tuple[Acd, VirtualClock, list[Event]]:
    clock = VirtualClock(0.0)
    acd = Acd(clock, [queue], **kwargs)
    log: list[Event] = []
    acd.subscribe(log.append)
    for i in range(agents):
        acd.add_agent(AgentConfig(f"a{i + 1}"))
    return acd, clock, log


# -- aging -------------------------------------------------------------------------------------


def test_a_waiting_call_gains_one_priority_per_period_up_to_the_cap() -> None:
    acd, clock, log = make(QueueConfig("q", aging=Aging(every=30.0, cap=2)))
    acd.arrive("low", "q", priority=0)
    clock.advance(29.0)
    assert acd.call("low").priority == 0
    clock.advance(1.0)
    assert acd.call("low").priority == 1
    clock.advance(300.0)
    assert acd.call("low").priority == 2 and acd.call("low").aged == 2
    assert [(e.at, e.priority) for e in log if isinstance(e, CallAged)] == [(30.0, 1), (60.0, 2)]


def test_an_aged_call_overtakes_a_newer_vip_and_routing_stays_in_order() -> None:
    acd, clock, log = make(QueueConfig("q", aging=Aging.per_minute(2.0, cap=5)))
    acd.arrive("low", "q", priority=0)
    clock.advance(60.0)  # two raises: priority 2
    acd.arrive("vip1", "q", priority=1)
    acd.arrive("vip2", "q", priority=2)  # same priority as `low`, but later
    assert [c.id for c in acd.waiting_calls("q")] == ["low", "vip2", "vip1"]
    assert acd.position("low") == 1
    acd.login("a1")
    assert [e.call_id for e in log if isinstance(e, CallAssigned)] == ["low"]


def test_without_aging_the_vip_stream_starves_the_low_call_and_with_it_not() -> None:
    def first_answer_of_low(aging: Aging | None) -> int:
        """Rounds until the low call is offered: one agent, a VIP every 30 s, a call ends every 30 s."""
        acd, clock, _ = make(QueueConfig("q", aging=aging, ring_timeout=None, wrap_up=0.0))
        acd.login("a1")
        acd.arrive("first", "q")
        acd.answer("first")
        acd.arrive("low", "q", priority=0)
        current = "first"
        for n in range(40):
            acd.arrive(f"vip{n}", "q", priority=3)
            clock.advance(30.0)
            acd.end(current)
            current = next(c.id for c in acd.calls.values() if c.state is CallState.RINGING)
            if current == "low":
                return n
            acd.answer(current)
        return -1

    assert first_answer_of_low(None) == -1  # never, while VIPs keep coming
    served = first_answer_of_low(Aging(every=30.0, cap=4))
    assert 0 <= served <= 6


def test_set_priority_keeps_the_raises_earned_and_aging_goes_on() -> None:
    acd, clock, _ = make(QueueConfig("q", aging=Aging(every=10.0, cap=3)))
    acd.arrive("c", "q")
    clock.advance(10.0)
    acd.set_priority("c", 5)
    clock.advance(25.0)
    assert acd.call("c").priority == 7 and acd.call("c").aged == 3


# -- ring-no-answer policy -----------------------------------------------------------------------


def test_the_agent_is_paused_after_n_consecutive_ring_outs_and_an_answer_resets_the_count() -> None:
    acd, _clock, _ = make(QueueConfig("q", ring_policy=RingPolicy(pause_after=3)))
    acd.login("a1")
    agent = acd.agent("a1")
    acd.arrive("c1", "q")
    acd.ring_no_answer("c1")
    acd.ring_no_answer("c1")
    assert agent.state is AgentState.RINGING and agent.ring_outs == 2  # offered again at once
    acd.answer("c1")
    assert agent.ring_outs == 0
    acd.end("c1")
    acd.arrive("c2", "q")
    for _ in range(2):
        acd.ring_no_answer("c2")
    assert agent.state is AgentState.RINGING
    acd.ring_no_answer("c2")
    assert agent.state is AgentState.PAUSED and agent.pause_reason == "ring_no_answer"
    assert agent.ring_outs == 0 and acd.call("c2").state is CallState.QUEUED


def test_default_policy_pauses_at_the_first_ring_out_as_before() -> None:
    acd, _, _ = make(QueueConfig("q"))
    acd.login("a1")
    acd.arrive("c1", "q")
    acd.ring_no_answer("c1")
    assert acd.agent("a1").state is AgentState.PAUSED


def test_without_reoffer_the_held_call_comes_back_to_the_same_agent_after_the_delay() -> None:
    queue = QueueConfig("q", ring_policy=RingPolicy(pause_after=5, reoffer_same_agent=False, reoffer_delay=15.0))
    acd, clock, log = make(queue, agents=1)
    acd.login("a1")
    acd.arrive("c1", "q")
    clock.advance(3.0)
    acd.ring_no_answer("c1")
    agent = acd.agent("a1")
    assert agent.state is AgentState.AVAILABLE and acd.call("c1").held_from == "a1"
    assert acd.call("c1").state is CallState.QUEUED
    clock.advance(14.9)
    assert acd.call("c1").state is CallState.QUEUED
    clock.advance(0.1)
    assert acd.call("c1").state is CallState.RINGING and acd.call("c1").agent_id == "a1"
    reoffers = [e for e in log if isinstance(e, CallReoffered)]
    assert [(e.call_id, e.agent_id, e.at) for e in reoffers] == [("c1", "a1", 18.0)]


def test_without_reoffer_the_agent_takes_another_waiting_call_instead() -> None:
    queue = QueueConfig("q", ring_policy=RingPolicy(pause_after=5, reoffer_same_agent=False, reoffer_delay=15.0))
    acd, _clock, _log = make(queue, agents=1)
    acd.login("a1")
    acd.arrive("c1", "q")
    acd.arrive("c2", "q")  # waits behind c1
    acd.ring_no_answer("c1")
    # c1 keeps its place ahead of c2, but a1 is offered c2
    assert [c.id for c in acd.waiting_calls("q")] == ["c1"]
    assert acd.call("c2").agent_id == "a1" and acd.call("c1").held_from == "a1"
    acd.answer("c2")
    acd.end("c2")  # offered another call: the hold-out is over, c1 is next
    assert acd.call("c1").agent_id == "a1"


def test_without_reoffer_another_free_agent_takes_it_at_once() -> None:
    queue = QueueConfig("q", ring_policy=RingPolicy(pause_after=5, reoffer_same_agent=False))
    acd, _, _ = make(queue, agents=2)
    acd.login("a1")
    acd.arrive("c1", "q")
    acd.login("a2")  # free, while c1 rings a1
    acd.ring_no_answer("c1")
    assert acd.call("c1").agent_id == "a2" and acd.call("c1").held_from == ""


def test_with_reoffer_the_same_agent_gets_it_straight_back_as_before() -> None:
    queue = QueueConfig("q", ring_policy=RingPolicy(pause_after=5, reoffer_same_agent=True))
    acd, _, _ = make(queue)
    acd.login("a1")
    acd.arrive("c1", "q")
    acd.ring_no_answer("c1")
    assert acd.call("c1").agent_id == "a1" and acd.call("c1").state is CallState.RINGING


# -- property runs, replays and snapshots with both policies ---------------------------------------


def _with_policies(queue: QueueConfig) -> QueueConfig:
    return dataclasses.replace(
        queue, aging=Aging(every=20.0, cap=3),
        ring_policy=RingPolicy(pause_after=2, reoffer_same_agent=False, reoffer_delay=12.0),
    )


POLICY_QUEUES = tuple(_with_policies(q) for q in props.QUEUES)
REPLAY_POLICY_QUEUES = tuple(_with_policies(q) for q in REPLAY_QUEUES)


class PolicyMachine(props.AcdMachine):
    queues = POLICY_QUEUES
    pauses_at_first_ring_out = False


class PolicyMachineMultiCall(props.MultiCallMachine):
    queues = POLICY_QUEUES
    pauses_at_first_ring_out = False


TestPolicyInvariants = PolicyMachine.TestCase
TestPolicyInvariants.settings = props.SETTINGS
TestPolicyMultiCallInvariants = PolicyMachineMultiCall.TestCase
TestPolicyMultiCallInvariants.settings = props.SETTINGS


def _make_replay_acd(capacities: list[int], pause_on_rna: bool) -> tuple[Acd, VirtualClock, list[AgentConfig]]:
    clock = VirtualClock(1000.0)
    acd = Acd(clock, REPLAY_POLICY_QUEUES, pause_on_ring_no_answer=pause_on_rna, occupancy_window=300.0)
    configs = [
        AgentConfig(agent_id, skills=skills, groups=groups, capacity=capacities[i])
        for i, (agent_id, (skills, groups)) in enumerate(zip(AGENT_IDS, SKILLS, strict=True))
    ]
    for config in configs:
        acd.add_agent(config)
    return acd, clock, configs


@pytest.mark.parametrize("seed", range(6))
def test_long_runs_with_policies_rebuild_and_restore_alike(seed: int) -> None:
    """1,200 random operations; every 100 the ACD is rebuilt from the whole stream and restored
    from the last snapshot + tail, both compared with the live one and driven on alongside."""
    rng = random.Random(seed)
    capacities = [rng.randint(1, 2) for _ in AGENT_IDS]
    pause = seed % 2 == 0
    live, clock, configs = _make_replay_acd(capacities, pause)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    tail: list[Event] = []
    live.subscribe(tail.append)
    snapshot = take(live, ring.at)
    serial = [0]
    for step in range(1, 1201):
        run(live, clock, random_op(rng), serial)
        if step % 100:
            continue
        twin_clock = VirtualClock(clock.now())
        twin = rebuild(through_json(recorded), REPLAY_POLICY_QUEUES, configs, twin_clock,
                       pause_on_ring_no_answer=pause, occupancy_window=300.0, start=1000.0)
        assert acd_state(twin) == acd_state(live)
        replayed, _ = restore(snapshot, REPLAY_POLICY_QUEUES, pause_on_ring_no_answer=pause, occupancy_window=300.0)
        replayed.apply(through_json(tail))
        restored_clock = VirtualClock(clock.now())
        restored = replayed.attach(restored_clock)
        assert acd_state(restored) == acd_state(live)
        seen: dict[str, list[Event]] = {"live": [], "twin": [], "restored": []}
        unsubscribe = live.subscribe(seen["live"].append)
        twin.subscribe(seen["twin"].append)
        restored.subscribe(seen["restored"].append)
        serials = {"twin": list(serial), "restored": list(serial)}
        for _ in range(30):
            op = random_op(rng)
            run(live, clock, op, serial)
            run(twin, twin_clock, op, serials["twin"])
            run(restored, restored_clock, op, serials["restored"])
        unsubscribe()
        assert seen["twin"] == seen["live"] == seen["restored"]
        snapshot = take(live, ring.at)
        tail.clear()
    kinds = {e.kind for e in recorded}
    assert {"call_aged", "call_reoffered"} <= kinds, kinds


def test_a_pause_pending_while_ringing_applies_when_the_caller_hangs_up() -> None:
    """Found by the property tests (also on main before): `pause_when_free` of a ringing agent
    whose caller then hangs up left the agent available, routable, with the pause pending."""
    acd, _, _ = make(QueueConfig("q"), pause_on_ring_no_answer=False)
    acd.login("a1")
    acd.arrive("c1", "q")
    acd.pause_when_free("a1")
    acd.abandon("c1")
    agent = acd.agent("a1")
    assert agent.state is AgentState.PAUSED and agent.pause_reason == "supervisor"
    assert not agent.indexed and agent.pause_pending == ""


def test_a_snapshot_keeps_the_order_of_a_ring_timeout_and_an_escalation_due_together() -> None:
    """Found by the snapshot property test (also on main before): a ring timeout armed before
    an escalation due at the same moment fired after it in a restored ACD."""
    from tests.acd.test_replay import make as make_replay
    from tests.acd.test_snapshot import _restored

    live, clock, _ = make_replay([1] * len(AGENT_IDS), False)
    ring = RingStarts()
    live.subscribe(ring, RingStarts.KINDS)
    serial = [0]
    for op in [("login", a) for a in AGENT_IDS[::2]] + [
        ("arrive", "booking", 0, "regular", {}), ("advance", 25.0), ("arrive", "booking", 0, "vip", {}),
        ("advance", 25.0),
    ]:
        run(live, clock, op, serial)
    twin, twin_clock = _restored(take(live, ring.at), [], clock.now(), False)
    seen: dict[str, list[Event]] = {"live": [], "twin": []}
    live.subscribe(seen["live"].append)
    twin.subscribe(seen["twin"].append)
    run(live, clock, ("advance", 400.0), list(serial))
    run(twin, twin_clock, ("advance", 400.0), list(serial))
    assert seen["twin"] == seen["live"] and seen["live"][0].kind == "call_ring_no_answer"
