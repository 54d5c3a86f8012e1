"""Queues and agents edited while the ACD runs (acd.live_config): calls in progress and waiting
calls stay where they are; the next routing decision follows the new configuration."""

from __future__ import annotations

import dataclasses

import pytest

from acd.agent import AgentConfig, AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import IllegalTransition
from acd.events import AgentConfigured, CallAssigned, CallEscalated, Event, QueueConfigured
from acd.live_config import (
    ConfigRefused,
    configure_agent,
    configure_queue,
    queue_data,
    queue_from_data,
)
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy
from acd.replay import acd_state, rebuild
from tests.acd.test_replay import through_json

BOOKING = QueueConfig("booking", skills={"booking": 5}, max_wait=300.0, overflow="general", wrap_up=None)
GENERAL = QueueConfig("general", skills={"general": 1})


def _acd() -> tuple[Acd, VirtualClock, list[Event]]:
    clock = VirtualClock(100.0)
    acd = Acd(clock, [BOOKING, GENERAL])
    acd.add_agent(AgentConfig("1001", skills={"booking": 6}))
    acd.add_agent(AgentConfig("1002", skills={"refund": 8}))
    events: list[Event] = []
    acd.subscribe(events.append)
    return acd, clock, events


def test_a_queue_edit_keeps_waiting_calls_in_their_places() -> None:
    acd, clock, _ = _acd()
    for i in range(3):
        acd.arrive(f"c{i}", "booking", priority=1 if i == 2 else 0)
        clock.advance(1.0)
    before = [c.id for c in acd.waiting_calls("booking")]
    assert before == ["c2", "c0", "c1"]
    configure_queue(acd, dataclasses.replace(BOOKING, skills={"booking": 3}, policy=RoutingPolicy.BEST_SKILL,
                                             sl_seconds=30.0))
    assert [c.id for c in acd.waiting_calls("booking")] == before
    assert [acd.position(c) for c in before] == [1, 2, 3]
    assert acd.queues["booking"].sl_seconds == 30.0
    assert acd.requirement("c0").skills == (("booking", 3),)


def test_lowering_a_queue_skill_offers_a_waiting_call_to_a_free_agent_at_once() -> None:
    acd, _, events = _acd()
    acd.login("1002")  # refund only: cannot take booking calls
    acd.arrive("c1", "booking")
    assert acd.call("c1").state is CallState.QUEUED
    configure_queue(acd, dataclasses.replace(BOOKING, skills={"refund": 5}))
    assert acd.call("c1").state is CallState.RINGING and acd.call("c1").agent_id == "1002"
    kinds = [e.kind for e in events]
    assert kinds.index("queue_configured") < kinds.index("call_assigned")


def test_a_new_skill_gives_the_agent_the_waiting_call_and_keeps_a_call_in_progress() -> None:
    acd, _, _ = _acd()
    acd.login("1001")
    acd.arrive("talking", "booking")
    acd.answer("talking")
    acd.login("1002")
    acd.arrive("waiting", "booking")
    assert acd.call("waiting").state is CallState.QUEUED
    configure_agent(acd, AgentConfig("1002", skills={"refund": 8, "booking": 5}))
    assert acd.call("waiting").agent_id == "1002"
    # 1001 loses the skill while talking: the call goes on
    configure_agent(acd, AgentConfig("1001", skills={"general": 2}, capacity=2))
    assert acd.call("talking").state is CallState.ON_CALL
    assert acd.agent("1001").state is AgentState.ON_CALL and acd.agent("1001").capacity == 2


def test_a_disabled_agent_finishes_its_call_then_is_logged_out_and_cannot_log_in() -> None:
    acd, _, _ = _acd()
    acd.login("1001")
    acd.arrive("c1", "booking")
    acd.answer("c1")
    configure_agent(acd, AgentConfig("1001", skills={"booking": 6}, disabled=True))
    assert acd.call("c1").state is CallState.ON_CALL
    acd.cancel_logout("1001")  # does not bring a disabled agent back
    acd.arrive("c2", "booking")
    assert acd.call("c2").state is CallState.QUEUED
    acd.end("c1")
    acd.wrap_done("1001")
    assert acd.agent("1001").state is AgentState.LOGGED_OUT
    with pytest.raises(IllegalTransition, match="disabled"):
        acd.login("1001")
    configure_agent(acd, AgentConfig("1001", skills={"booking": 6}))  # enabled again
    acd.login("1001")
    assert acd.call("c2").agent_id == "1001"


def test_a_disabled_agent_pausing_in_its_wrap_up_is_logged_out() -> None:
    """Found by the policy state machine: the pause used to keep a disabled agent on, paused,
    for as long as nobody unpaused it."""
    acd, clock, events = _acd()
    acd.login("1001")
    acd.arrive("c1", "booking")
    acd.answer("c1")
    configure_agent(acd, AgentConfig("1001", skills={"booking": 6}, disabled=True))
    acd.end("c1")
    assert acd.agent("1001").state is AgentState.WRAP_UP
    acd.pause("1001", "lunch")
    assert acd.agent("1001").state is AgentState.LOGGED_OUT
    assert not acd.agent("1001").logout_pending
    twin = rebuild(through_json(events), [BOOKING, GENERAL],
                   [AgentConfig("1001", skills={"booking": 6}), AgentConfig("1002", skills={"refund": 8})],
                   VirtualClock(clock.now()), start=100.0)
    assert acd_state(twin) == acd_state(acd)  # the journal replays it


def test_new_queues_and_agents_and_refused_overflows() -> None:
    acd, _, _ = _acd()
    configure_agent(acd, AgentConfig("1003", skills={"claims": 4}))
    configure_queue(acd, QueueConfig("claims", skills={"claims": 2}, overflow="general"))
    acd.login("1003")
    acd.arrive("c1", "claims")
    assert acd.call("c1").agent_id == "1003"
    with pytest.raises(ConfigRefused, match="unknown"):
        configure_queue(acd, QueueConfig("x", overflow="nowhere"))
    with pytest.raises(ConfigRefused, match="circle"):
        configure_queue(acd, dataclasses.replace(GENERAL, overflow="booking"))
    with pytest.raises(ConfigRefused, match="circle"):
        configure_queue(acd, dataclasses.replace(GENERAL, overflow="general"))
    assert acd.queues["general"] == GENERAL and "x" not in acd.queues


def test_an_escalation_step_already_due_under_the_new_steps_fires_at_once() -> None:
    acd, clock, events = _acd()
    acd.login("1002")
    acd.arrive("c1", "booking")
    clock.advance(40.0)
    configure_queue(acd, dataclasses.replace(BOOKING, escalation=(EscalationStep(30.0, min_level=1),
                                                                   EscalationStep(90.0, offer_callback=True))))
    clock.advance(0.0)
    assert [e.step for e in events if isinstance(e, CallEscalated)] == [1]
    assert acd.call("c1").state is CallState.QUEUED  # 1002 has no booking skill at all
    configure_queue(acd, dataclasses.replace(BOOKING, escalation=(EscalationStep(30.0, groups=frozenset({"x"})),)))
    assert acd.call("c1").step == 1  # kept, capped at the new number of steps
    clock.advance(300.0)
    assert "c1" not in acd.calls or acd.call("c1").queue == "general"  # max wait: overflow


def test_the_same_configuration_again_changes_nothing() -> None:
    acd, _, events = _acd()
    configure_queue(acd, BOOKING)
    configure_agent(acd, AgentConfig("1001", skills={"booking": 6}))
    assert not [e for e in events if isinstance(e, QueueConfigured | AgentConfigured)]


def test_queue_data_round_trips_and_edits_replay_from_the_stream() -> None:
    full = QueueConfig("q", skills={"a": 2}, policy=RoutingPolicy.LEAST_OCCUPIED, sl_target=0.9, sl_seconds=15,
                       max_wait=None, overflow=None, escalation=(EscalationStep(5, 2, frozenset({"g"}), True),),
                       ring_timeout=None, wrap_up=None, tier_priority={"vip": 3})
    assert queue_from_data(queue_data(full)) == full
    from acd.aging import Aging
    from acd.ring_policy import RingPolicy
    from acd.wait_estimate import Announcements

    policies = dataclasses.replace(full, aging=Aging.per_minute(3.0, 7), ring_policy=RingPolicy(2, False, 45.0),
                                   announce=Announcements(interval=90.0, expected_wait=False))
    assert queue_from_data(queue_data(policies)) == policies
    assert queue_data(queue_from_data(queue_data(policies))) == queue_data(policies)
    acd, clock, events = _acd()
    acd.login("1002")
    acd.arrive("c1", "booking")
    configure_agent(acd, AgentConfig("1002", skills={"booking": 9}, capacity=2))
    acd.arrive("c2", "booking")
    configure_queue(acd, dataclasses.replace(BOOKING, skills={"booking": 9}, ring_timeout=7.0))
    clock.advance(3.0)
    assert any(isinstance(e, CallAssigned) for e in events)
    twin = rebuild(through_json(events), [BOOKING, GENERAL],
                   [AgentConfig("1001", skills={"booking": 6}), AgentConfig("1002", skills={"refund": 8})],
                   VirtualClock(clock.now()), start=100.0)
    assert acd_state(twin) == acd_state(acd)
    assert twin.agent("1002").config.capacity == 2 and twin.queues["booking"].ring_timeout == 7.0
