"""Rebuilding an ACD from its event stream (acd.replay): random operations on a live ACD, a
second one rebuilt from the recorded events (through JSON), the two compared, then driven on
with the same operations."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from acd import held, live_config
from acd.agent import AgentConfig
from acd.call import CallState
from acd.callbacks import Request
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import (
    AgentPendingChanged,
    AgentStateChanged,
    CallAssigned,
    CallEscalated,
    CallRingNoAnswer,
    Event,
    event_from_dict,
)
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy
from acd.replay import ReplayError, acd_state, rebuild

QUEUES = (
    QueueConfig(
        "booking",
        skills={"booking": 5},
        max_wait=200.0,
        overflow="general",
        ring_timeout=20.0,
        wrap_up=10.0,
        tier_priority={"vip": 2},
        escalation=(
            EscalationStep(30.0, min_level=2),
            EscalationStep(60.0, groups=frozenset({"overflow"})),
            EscalationStep(90.0, offer_callback=True),
        ),
    ),
    QueueConfig(
        "refund",
        skills={"refund": 5},
        policy=RoutingPolicy.LEAST_OCCUPIED,
        wrap_up=None,
        max_wait=150.0,
        escalation=(EscalationStep(40.0, min_level=3),),
    ),
    QueueConfig("general", skills={"general": 1}, policy=RoutingPolicy.BEST_SKILL, ring_timeout=None),
)
SKILLS: tuple[tuple[dict[str, int], frozenset[str]], ...] = (
    ({"booking": 8, "lang_ko": 9}, frozenset({"overflow"})),
    ({"booking": 3, "lang_en": 9}, frozenset()),
    ({"refund": 7, "lang_ko": 5, "lang_en": 5, "general": 2}, frozenset()),
    ({"booking": 6, "refund": 6, "lang_en": 4}, frozenset()),
    ({"general": 5}, frozenset({"overflow"})),
    ({"booking": 9, "refund": 4, "lang_ko": 9, "lang_en": 9, "general": 9}, frozenset()),
)
AGENT_IDS = [f"a{i}" for i in range(len(SKILLS))]
QUEUE_EDITS = (
    dataclasses.replace(QUEUES[0], skills={"booking": 7}, escalation=(EscalationStep(10.0, min_level=3),)),
    dataclasses.replace(QUEUES[0], skills={}, policy=RoutingPolicy.BEST_SKILL, max_wait=None),
    dataclasses.replace(QUEUES[1], skills={"refund": 2}, overflow="general", max_wait=20.0),
    dataclasses.replace(QUEUES[2], skills={"general": 6, "lang_ko": 1}, ring_timeout=5.0),
    QueueConfig("claims", skills={"refund": 3}, overflow="refund", max_wait=30.0),
    dataclasses.replace(QUEUES[2], overflow="booking"),  # refused: booking -> general -> booking
)
AGENT_EDITS = (
    lambda c: dataclasses.replace(c, skills={**c.skills, "general": 8}),
    lambda c: dataclasses.replace(c, skills={"booking": 9, "refund": 9}, groups=frozenset({"overflow"})),
    lambda c: dataclasses.replace(c, capacity=max(1, c.capacity - 1)),
    lambda c: dataclasses.replace(c, capacity=c.capacity + 1),
    lambda c: dataclasses.replace(c, disabled=not c.disabled),
)

ARRIVE = st.tuples(
    st.just("arrive"),
    st.sampled_from(["booking", "booking", "refund", "general"]),
    st.integers(0, 2),
    st.sampled_from(["regular", "vip"]),
    st.sampled_from([{}, {"lang_ko": 5}, {"lang_en": 8}]),
)
OPS = st.one_of(
    ARRIVE,
    ARRIVE,
    st.tuples(
        st.sampled_from(["answer", "answer", "answer", "end", "abandon", "ring_no_answer", "offer_failed"]),
        st.integers(0, 50),
    ),
    st.tuples(
        st.sampled_from(["login", "login", "logout", "pause", "unpause", "wrap_done", "disposition"]),
        st.sampled_from(AGENT_IDS),
    ),
    # On one of the busy agents (with a pending logout, for cancel_logout), so that they
    # matter: on a free agent when_free logs out at once, and cancel does nothing.
    st.tuples(st.sampled_from(["busy_logout_when_free", "pending_cancel_logout"]), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.sampled_from([0.0, 1.0, 5.0, 5.0, 12.0, 25.0, 45.0, 100.0])),
    # An admin's live edits (acd.live_config): in the stream, so the rebuild has them too.
    st.tuples(st.just("edit_queue"), st.integers(0, len(QUEUE_EDITS) - 1)),
    st.tuples(st.just("edit_agent"), st.sampled_from(AGENT_IDS), st.integers(0, len(AGENT_EDITS) - 1)),
)
# Callbacks held for a slot (acd.held), merged, dropped, placed by the ACD's timer; a waiting
# call taken as a callback (tests/acd/test_held_callbacks.py mixes them with the other calls).
HELD_OPS = st.one_of(
    st.tuples(st.just("hold"), st.sampled_from(["booking", "refund", "general"]),
              st.sampled_from([0.0, 10.0, 30.0, 80.0]), st.sampled_from([0.0, 20.0])),
    st.tuples(st.sampled_from(["merge_held", "drop_held", "accept_callback"]), st.integers(0, 50)),
)


def make(capacities: list[int], pause_on_rna: bool) -> tuple[Acd, VirtualClock, list[AgentConfig]]:
    clock = VirtualClock(1000.0)
    acd = Acd(clock, QUEUES, pause_on_ring_no_answer=pause_on_rna, occupancy_window=300.0)
    configs = [
        AgentConfig(agent_id, skills=skills, groups=groups, capacity=capacities[i])
        for i, (agent_id, (skills, groups)) in enumerate(zip(AGENT_IDS, SKILLS, strict=True))
    ]
    for config in configs:
        acd.add_agent(config)
    return acd, clock, configs


def run(acd: Acd, clock: VirtualClock, op: tuple[Any, ...], serial: list[int]) -> None:
    """Apply one operation; refusals are part of the behaviour, not errors."""
    name = op[0]
    try:
        if name == "arrive":
            serial[0] += 1
            acd.arrive(f"c{serial[0]}", op[1], priority=op[2], tier=op[3], skills=op[4], caller="+8210")
        elif name == "advance":
            clock.advance(op[1])
        elif name in ("answer", "end", "abandon", "ring_no_answer", "offer_failed"):
            wanted = {
                "answer": (CallState.RINGING,),
                "ring_no_answer": (CallState.RINGING,),
                "offer_failed": (CallState.RINGING,),  # an offer the PBX could not place
                "end": (CallState.ON_CALL,),
                "abandon": (CallState.QUEUED, CallState.RINGING),
            }[name]
            calls = sorted(c.id for c in acd.calls.values() if c.state in wanted)
            if calls:
                getattr(acd, name)(calls[op[1] % len(calls)])
        elif name == "hold":
            serial[0] += 1
            now = clock.now()
            slot = (now + op[2], now + op[2] + 60.0)
            held.hold_callback(acd, Request(f"c{serial[0]}", op[1], "+8211", now - op[3], now, slot,
                                            {"priority": 1, "source": "cb", "skills": {"lang_ko": 5}}))
        elif name in ("merge_held", "drop_held"):
            ids = sorted(acd.held.requests)
            if ids:
                if name == "drop_held":
                    held.drop_held(acd, ids[op[1] % len(ids)])
                else:
                    serial[0] += 1
                    held.merge_held(acd, ids[op[1] % len(ids)], f"c{serial[0]}", clock.now() - 50.0, None)
        elif name == "accept_callback":
            calls = sorted(c.id for c in acd.calls.values() if c.state is CallState.QUEUED)
            if calls:
                held.accept_callback(acd, calls[op[1] % len(calls)], "+8212", "cb")
        elif name == "edit_queue":
            live_config.configure_queue(acd, QUEUE_EDITS[op[1]])
        elif name == "edit_agent":
            live_config.configure_agent(acd, AGENT_EDITS[op[2]](acd.agent(op[1]).config))
        elif name == "pause":
            acd.pause(op[1], "lunch")
        elif name == "disposition":
            acd.set_disposition(op[1], "callback")
        elif name == "logout_when_free":
            acd.logout(op[1], when_free=True)
        elif name in ("busy_logout_when_free", "pending_cancel_logout"):
            if name == "busy_logout_when_free":
                agents = sorted(a.id for a in acd.agents.values() if a.calls)
            else:
                agents = sorted(a.id for a in acd.agents.values() if a.logout_pending)
            if agents:
                agent_id = agents[op[1] % len(agents)]
                if name == "busy_logout_when_free":
                    acd.logout(agent_id, when_free=True)
                else:
                    acd.cancel_logout(agent_id)
        else:
            getattr(acd, name)(op[1])
    except AcdError:
        pass


def through_json(events: list[Event]) -> list[Event]:
    return [event_from_dict(json.loads(json.dumps(e.to_dict()))) for e in events]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(OPS, min_size=1, max_size=120),
    after=st.lists(OPS, max_size=60),
    capacities=st.lists(st.integers(1, 3), min_size=len(AGENT_IDS), max_size=len(AGENT_IDS)),
    pause_on_rna=st.booleans(),
)
def test_rebuilt_acd_equals_live_and_carries_on_alike(
    before: list[tuple[Any, ...]],
    after: list[tuple[Any, ...]],
    capacities: list[int],
    pause_on_rna: bool,
) -> None:
    live, clock, configs = make(capacities, pause_on_rna)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    serial = [0]
    for op in [("login", agent_id) for agent_id in AGENT_IDS[::2]] + before:
        run(live, clock, op, serial)

    rebuilt_clock = VirtualClock(clock.now())
    rebuilt = rebuild(
        through_json(recorded),
        QUEUES,
        configs,
        rebuilt_clock,
        pause_on_ring_no_answer=pause_on_rna,
        occupancy_window=300.0,
        start=1000.0,
    )
    for state in (CallState.QUEUED, CallState.RINGING, CallState.ON_CALL):
        event(f"rebuilt with a {state.value} call: {any(c.state is state for c in live.calls.values())}")
    event(f"rebuilt agent with 2+ calls: {any(len(a.calls) > 1 for a in live.agents.values())}")
    event(f"rebuilt with a pending logout: {any(a.logout_pending for a in live.agents.values())}")
    event(f"rebuilt with a pending pause: {any(a.pause_pending for a in live.agents.values())}")
    assert acd_state(rebuilt) == acd_state(live)
    assert rebuilt.snapshot() == live.snapshot()
    # Every live timer is re-armed (wrap-up timers whose agent moved on stay armed in the
    # rebuild even after they fired in the live ACD: no-ops, they check the agent's call).
    assert rebuilt_clock.pending >= sum(1 for t in clock._heap if not t[2].cancelled)

    live_next: list[Event] = []
    rebuilt_next: list[Event] = []
    live.subscribe(live_next.append)
    rebuilt.subscribe(rebuilt_next.append)
    live_serial, rebuilt_serial = list(serial), list(serial)
    for op in [*after, ("advance", 400.0)]:  # the last one fires every pending timer
        run(live, clock, op, live_serial)
        run(rebuilt, rebuilt_clock, op, rebuilt_serial)
        assert rebuilt_next == live_next
    assert acd_state(rebuilt) == acd_state(live)


def test_timers_are_rearmed_relative_to_the_live_clock() -> None:
    live, clock, configs = make([1] * len(AGENT_IDS), True)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    live.login("a0")
    live.arrive("c1", "booking")  # rings a0; ring timeout in 20 s
    live.arrive("c2", "booking")  # waits; escalates at 30 s, overflows at 200 s
    clock.advance(5.0)
    later = VirtualClock(clock.now() + 50.0)  # the new leader rebuilds 50 s later
    rebuilt = rebuild(recorded, QUEUES, configs, later, start=1000.0)
    seen: list[Event] = []
    rebuilt.subscribe(seen.append)
    later.advance(0.0)  # overdue: the ring timeout and the first escalation fire at once
    assert [e.kind for e in seen][:2] == ["call_ring_no_answer", "agent_state_changed"]
    assert any(isinstance(e, CallEscalated) and e.call_id == "c2" for e in seen)
    assert rebuilt.call("c1").state is CallState.QUEUED
    assert all(e.at == later.now() for e in seen)


def test_a_stream_the_engine_cannot_produce_is_refused() -> None:
    live, clock, configs = make([1] * len(AGENT_IDS), True)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    live.login("a0")
    live.arrive("c1", "booking")
    forged = [
        e if not isinstance(e, CallAssigned) else CallAssigned(e.at, e.call_id, "a2", e.queue, 0, 0.0)
        for e in recorded
    ]
    with pytest.raises(ReplayError, match="call_assigned"):
        rebuild(forged, QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    with pytest.raises(ReplayError, match="starts no operation"):
        rebuild(recorded[-1:], QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    truncated = [e for e in recorded if not isinstance(e, AgentStateChanged) or e.new != "ringing"]
    with pytest.raises(ReplayError):
        rebuild(truncated, QUEUES, configs, VirtualClock(clock.now()), start=1000.0)


def random_op(rng: random.Random) -> tuple[Any, ...]:
    roll = rng.random()
    if roll < 0.3:
        return ("arrive", rng.choice(["booking", "refund", "general"]), rng.randrange(3),
                rng.choice(["regular", "vip"]), rng.choice([{}, {"lang_ko": 5}]))
    if roll < 0.6:
        return (rng.choice(["answer", "answer", "end", "abandon", "ring_no_answer"]), rng.randrange(50))
    if roll < 0.85:
        op = rng.choice(["login", "login", "logout", "logout_when_free", "cancel_logout", "pause",
                         "unpause", "wrap_done", "disposition"])
        return (op, rng.choice(AGENT_IDS))
    return ("advance", rng.choice([0.5, 3.0, 10.0, 25.0, 60.0]))


@pytest.mark.parametrize("seed", range(8))
def test_long_runs_rebuilt_at_every_hundredth_operation(seed: int) -> None:
    """Deeper than the examples above: 1,500 operations on agents of capacity 1-3, the ACD
    rebuilt from the whole stream so far every 100 operations and driven on alongside for 40."""
    rng = random.Random(seed)
    capacities = [rng.randint(1, 3) for _ in AGENT_IDS]
    live, clock, configs = make(capacities, seed % 2 == 0)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    serial = [0]
    busy = 0
    for step in range(1, 1501):
        run(live, clock, random_op(rng), serial)
        busy += any(len(a.calls) > 1 for a in live.agents.values())
        if step % 100:
            continue
        twin_clock = VirtualClock(clock.now())
        twin = rebuild(through_json(recorded), QUEUES, configs, twin_clock,
                       pause_on_ring_no_answer=seed % 2 == 0, occupancy_window=300.0, start=1000.0)
        assert acd_state(twin) == acd_state(live)
        # The same next operations for both (the live run goes on with them).
        twin_events: list[Event] = []
        live_events: list[Event] = []
        twin.subscribe(twin_events.append)
        unsubscribe = live.subscribe(live_events.append)
        twin_serial = list(serial)
        for _ in range(40):
            op = random_op(rng)
            run(live, clock, op, serial)
            run(twin, twin_clock, op, twin_serial)
        unsubscribe()
        assert twin_events == live_events and twin_events
        assert acd_state(twin) == acd_state(live)
    assert len(live.calls) > 0 and len(recorded) > 1000
    if max(capacities) > 1:
        assert busy > 0


def test_a_pending_logout_and_its_cancel_are_rebuilt() -> None:
    """`logout(when_free=True)` on a busy agent and `cancel_logout` change nothing but the
    agent's pending logout: the stream says so, and the rebuilt agent logs out (or not) alike."""
    live, clock, configs = make([2] * len(AGENT_IDS), True)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    live.login("a0")
    live.login("a5")
    live.arrive("c1", "booking")  # a0 (longest idle)
    live.answer("c1")
    live.logout("a0", when_free=True)
    live.logout("a0", when_free=True)  # already pending: nothing new
    live.arrive("c2", "booking")  # not to a0, busy and leaving: a5
    assert live.call("c2").agent_id == "a5"
    assert [e for e in recorded if isinstance(e, AgentPendingChanged)] == [
        AgentPendingChanged(1000.0, "a0", True, "")
    ]
    rebuilt = rebuild(through_json(recorded), QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    assert rebuilt.agent("a0").logout_pending and not rebuilt.agent("a0").indexed
    assert acd_state(rebuilt) == acd_state(live)

    clock.advance(3.0)
    live.cancel_logout("a0")  # a0 has a free slot again
    live.arrive("c3", "booking")
    assert live.call("c3").agent_id == "a0"
    rebuilt = rebuild(through_json(recorded), QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    assert not rebuilt.agent("a0").logout_pending
    assert acd_state(rebuilt) == acd_state(live)

    live.logout("a5", when_free=True)  # while c2 rings
    live.answer("c2")
    live.end("c2")  # a5 wraps up, then logs out instead of taking a call
    clock.advance(10.0)  # wrap-up timer
    assert live.agent("a5").state.value == "logged_out"
    rebuilt = rebuild(through_json(recorded), QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    assert acd_state(rebuilt) == acd_state(live)


def test_a_pause_pending_after_an_extra_offer_rang_out_is_in_the_stream_and_rebuilt() -> None:
    live, clock, configs = make([2] * len(AGENT_IDS), True)
    recorded: list[Event] = []
    live.subscribe(recorded.append)
    live.login("a0")
    live.arrive("c1", "booking")
    live.answer("c1")
    live.arrive("c2", "booking")  # a0's second slot
    clock.advance(20.0)  # c2 rings out: a0 keeps c1, pauses after it
    pending = [e for e in recorded if isinstance(e, AgentPendingChanged)]
    assert pending == [AgentPendingChanged(1020.0, "a0", False, "ring_no_answer")]
    rebuilt = rebuild(through_json(recorded), QUEUES, configs, VirtualClock(clock.now()), start=1000.0)
    assert rebuilt.agent("a0").pause_pending == "ring_no_answer"
    assert acd_state(rebuilt) == acd_state(live)
    # On its own (not after the ring-no-answer) such an event is no operation.
    rang_out = next(i for i, e in enumerate(recorded) if isinstance(e, CallRingNoAnswer))
    with pytest.raises(ReplayError, match="only follows another event"):
        rebuild([*recorded[:rang_out], pending[0]], QUEUES, configs, VirtualClock(clock.now()), start=1000.0)


def test_pending_changed_round_trips_through_json() -> None:
    for sent in (
        AgentPendingChanged(5.0, "a1", True, ""),
        AgentPendingChanged(6.5, "a2", False, "ring_no_answer"),
    ):
        data = json.loads(json.dumps(sent.to_dict()))
        assert data["kind"] == "agent_pending_changed"
        assert event_from_dict(data) == sent
