"""The ACD's rules one at a time: escalation, overflow, ring-no-answer, routing policies,
pending logout, subscriptions and errors."""

from __future__ import annotations

import pytest

from acd.agent import AgentConfig, AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import DuplicateCall, IllegalTransition, UnknownAgent, UnknownCall, UnknownQueue
from acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAssigned,
    CallbackOffered,
    CallEscalated,
    CallOverflowed,
    CallQueued,
    Event,
)
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]

    def assigned(self) -> list[tuple[str, str]]:
        return [(e.call_id, e.agent_id) for e in self.events if isinstance(e, CallAssigned)]


def make(queues: list[QueueConfig], agents: list[AgentConfig], **kwargs: bool) -> tuple[Acd, VirtualClock, Log]:
    clock = VirtualClock(100.0)
    acd = Acd(clock, queues, **kwargs)
    log = Log()
    acd.subscribe(log)
    for agent in agents:
        acd.add_agent(agent)
    return acd, clock, log


def talk(acd: Acd, call_id: str) -> None:
    acd.answer(call_id)
    acd.end(call_id)


def test_escalation_relaxes_skill_then_opens_a_group_then_offers_a_callback() -> None:
    queue = QueueConfig(
        "booking",
        skills={"booking": 7},
        escalation=(
            EscalationStep(60, min_level=3),
            EscalationStep(120, groups=frozenset({"overflow"})),
            EscalationStep(300, offer_callback=True),
        ),
    )
    junior = AgentConfig("junior", skills={"booking": 4})
    helper = AgentConfig("helper", skills={"general": 5}, groups=frozenset({"overflow"}))
    acd, clock, log = make([queue], [junior, helper])
    acd.login("junior")
    acd.pause("junior", "coaching")
    acd.login("helper")
    acd.arrive("c1", "booking")
    assert acd.call("c1").state is CallState.QUEUED
    assert acd.requirement("c1").skills == (("booking", 7),)
    clock.advance(59)
    assert acd.call("c1").state is CallState.QUEUED
    clock.advance(1)  # 60 s: level 3 is enough, but junior is paused
    assert acd.requirement("c1").skills == (("booking", 3),)
    assert acd.call("c1").state is CallState.QUEUED
    clock.advance(60)  # 120 s: the overflow group may take it
    assert log.assigned() == [("c1", "helper")]
    assert [(e.step, e.min_level) for e in log.of(CallEscalated)] == [(1, 3), (2, None)]  # type: ignore[attr-defined]
    acd.answer("c1")

    acd.arrive("c2", "booking")
    clock.advance(300)
    assert [e.call_id for e in log.of(CallbackOffered)] == ["c2"]  # type: ignore[attr-defined]


def test_an_escalated_call_is_taken_by_a_newly_eligible_free_agent() -> None:
    queue = QueueConfig("q", skills={"s": 8}, escalation=(EscalationStep(30, min_level=2),))
    acd, clock, log = make([queue], [AgentConfig("low", skills={"s": 2})])
    acd.login("low")
    acd.arrive("c1", "q")
    assert log.assigned() == []
    clock.advance(30)
    assert log.assigned() == [("c1", "low")]


def test_max_wait_overflows_to_the_target_queue_and_keeps_the_call() -> None:
    booking = QueueConfig("booking", skills={"booking": 5}, max_wait=90, overflow="general")
    general = QueueConfig("general", skills={"general": 1})
    acd, clock, log = make([booking, general], [AgentConfig("g", skills={"general": 3})])
    acd.login("g")
    acd.arrive("c0", "general")  # g is busy with this one
    acd.answer("c0")
    acd.arrive("c1", "booking")
    clock.advance(90)
    overflowed = log.of(CallOverflowed)
    assert [(e.call_id, e.from_queue, e.to_queue) for e in overflowed] == [("c1", "booking", "general")]  # type: ignore[attr-defined]
    assert acd.call("c1").queue == "general"
    assert [c.id for c in acd.waiting_calls("general")] == ["c1"]
    assert acd.waiting_calls("booking") == []
    acd.end("c0")
    assert log.assigned()[-1] == ("c1", "g")


def test_max_wait_without_overflow_abandons() -> None:
    acd, clock, log = make([QueueConfig("q", max_wait=30)], [])
    acd.arrive("c1", "q")
    clock.advance(30)
    abandoned = log.of(CallAbandoned)
    assert [(e.call_id, e.reason) for e in abandoned] == [("c1", "max_wait")]  # type: ignore[attr-defined]
    assert "c1" not in acd.calls


def test_ring_no_answer_returns_the_call_to_its_place_and_pauses_the_agent() -> None:
    acd, clock, log = make([QueueConfig("q", ring_timeout=15)], [AgentConfig("a"), AgentConfig("b")])
    acd.login("a")
    for call_id in ("c1", "c2", "c3"):
        acd.arrive(call_id, "q")
    assert log.assigned() == [("c1", "a")]
    assert [c.id for c in acd.waiting_calls("q")] == ["c2", "c3"]
    clock.advance(15)  # a does not pick up
    assert acd.agents["a"].state is AgentState.PAUSED
    assert acd.agents["a"].pause_reason == "ring_no_answer"
    assert [c.id for c in acd.waiting_calls("q")] == ["c1", "c2", "c3"]  # back in front
    assert acd.position("c1") == 1 and acd.position("c3") == 3
    acd.login("b")
    assert log.assigned()[-1] == ("c1", "b")


def test_ring_no_answer_without_pause_puts_the_agent_back() -> None:
    acd, _, log = make([QueueConfig("q")], [AgentConfig("a")], pause_on_ring_no_answer=False)
    acd.login("a")
    acd.arrive("c1", "q")
    acd.ring_no_answer("c1")
    assert log.assigned() == [("c1", "a"), ("c1", "a")]  # a is free again and c1 is first
    assert acd.agents["a"].state is AgentState.RINGING


def test_priority_then_arrival_order() -> None:
    acd, _, log = make([QueueConfig("q", tier_priority={"vip": 5})], [AgentConfig("a")])
    acd.arrive("early", "q")
    acd.arrive("urgent", "q", priority=3)
    acd.arrive("vip", "q", tier="vip")
    acd.arrive("late", "q")
    assert [c.id for c in acd.waiting_calls("q")] == ["vip", "urgent", "early", "late"]
    assert [e.position for e in log.of(CallQueued)] == [1, 1, 1, 4]  # type: ignore[attr-defined]
    acd.login("a")
    for _ in range(4):
        call_id = log.assigned()[-1][0]
        talk(acd, call_id)
    assert [c for c, _ in log.assigned()] == ["vip", "urgent", "early", "late"]


def test_longest_idle_agent_gets_the_call() -> None:
    acd, clock, log = make([QueueConfig("q")], [AgentConfig("a"), AgentConfig("b"), AgentConfig("c")])
    acd.login("b")
    clock.advance(5)
    acd.login("a")
    clock.advance(5)
    acd.login("c")
    acd.arrive("c1", "q")
    acd.arrive("c2", "q")
    assert log.assigned() == [("c1", "b"), ("c2", "a")]
    talk(acd, "c1")  # b is idle again, now the most recent
    acd.arrive("c3", "q")
    assert log.assigned()[-1] == ("c3", "c")


def test_least_occupied_agent_gets_the_call() -> None:
    queue = QueueConfig("q", policy=RoutingPolicy.LEAST_OCCUPIED)
    acd, clock, log = make([queue], [AgentConfig("busy"), AgentConfig("calm")], pause_on_ring_no_answer=False)
    acd.login("busy")
    acd.arrive("long", "q")
    acd.answer("long")
    clock.advance(600)
    acd.end("long")
    acd.login("calm")
    acd.arrive("short", "q")
    acd.answer("short")
    clock.advance(10)
    acd.end("short")
    # busy has been idle longer, but talked 600 s in the last hour against 10 s
    acd.arrive("next", "q")
    assert log.assigned()[-1] == ("next", "calm")


def test_best_skill_agent_gets_the_call() -> None:
    queue = QueueConfig("q", skills={"refund": 3}, policy=RoutingPolicy.BEST_SKILL)
    agents = [AgentConfig("ok", skills={"refund": 4}), AgentConfig("expert", skills={"refund": 9})]
    acd, clock, log = make([queue], agents)
    acd.login("ok")
    clock.advance(30)
    acd.login("expert")
    acd.arrive("c1", "q")
    assert log.assigned() == [("c1", "expert")]


def test_skill_requirement_of_the_call_adds_to_the_queue() -> None:
    queue = QueueConfig("q", skills={"booking": 5})
    agents = [AgentConfig("ko", skills={"booking": 6, "lang_ko": 9}),
              AgentConfig("en", skills={"booking": 9, "lang_en": 9})]
    acd, _, log = make([queue], agents)
    acd.login("en")
    acd.login("ko")
    acd.arrive("c1", "q", skills={"lang_ko": 5})
    assert log.assigned() == [("c1", "ko")]
    acd.arrive("c2", "q", skills={"lang_zh": 5})
    assert acd.call("c2").state is CallState.QUEUED  # nobody speaks Chinese: it waits


def test_logout_when_free_waits_for_the_call_and_wrap_up() -> None:
    acd, clock, log = make([QueueConfig("q", wrap_up=20)], [AgentConfig("a")])
    acd.login("a")
    acd.arrive("c1", "q")
    acd.arrive("c2", "q")
    acd.logout("a", when_free=True)
    assert acd.agents["a"].state is AgentState.RINGING
    talk(acd, "c1")
    assert acd.agents["a"].state is AgentState.WRAP_UP
    clock.advance(20)
    assert acd.agents["a"].state is AgentState.LOGGED_OUT
    assert acd.call("c2").state is CallState.QUEUED  # not given to the leaving agent
    changes = [(e.old, e.new) for e in log.of(AgentStateChanged) if e.agent_id == "a"]
    assert changes[-2:] == [("wrap_up", "available"), ("available", "logged_out")]


def test_wrap_up_none_waits_for_the_agent() -> None:
    acd, clock, _ = make([QueueConfig("q", wrap_up=None)], [AgentConfig("a")])
    acd.login("a")
    acd.arrive("c1", "q")
    talk(acd, "c1")
    clock.advance(3600)
    assert acd.agents["a"].state is AgentState.WRAP_UP
    acd.set_disposition("a", "rebooked")
    acd.wrap_done("a")
    assert acd.agents["a"].state is AgentState.AVAILABLE


def test_subscribers_get_only_the_kinds_they_asked_for_and_can_unsubscribe() -> None:
    acd, _, everything = make([QueueConfig("q")], [AgentConfig("a")])
    assigned: list[Event] = []
    unsubscribe = acd.subscribe(assigned.append, (CallAssigned,))
    acd.login("a")
    acd.arrive("c1", "q")
    assert [type(e) for e in assigned] == [CallAssigned]
    assert len(everything.events) > 3
    unsubscribe()
    talk(acd, "c1")
    acd.arrive("c2", "q")
    assert len(assigned) == 1


def test_a_subscriber_may_call_back_into_the_acd() -> None:
    acd, _, log = make([QueueConfig("q")], [AgentConfig("a")])

    def answer_at_once(event: Event) -> None:
        if isinstance(event, CallAssigned):
            acd.answer(event.call_id)

    acd.subscribe(answer_at_once, (CallAssigned,))
    acd.login("a")
    acd.arrive("c1", "q")
    assert acd.call("c1").state is CallState.ON_CALL
    kinds = [e.kind for e in log.events if e.kind != "agent_logged_in"]
    assert kinds[-4:] == ["agent_state_changed", "call_assigned", "agent_state_changed", "call_answered"]


def test_state_time_is_accounted() -> None:
    acd, clock, _ = make([QueueConfig("q", wrap_up=5)], [AgentConfig("a")])
    acd.login("a")
    clock.advance(10)
    acd.arrive("c1", "q")
    clock.advance(2)
    acd.answer("c1")
    clock.advance(30)
    acd.end("c1")
    clock.advance(8)
    agent = acd.agents["a"]
    now = clock.now()
    assert agent.time_in(AgentState.AVAILABLE, now) == pytest.approx(13)
    assert agent.time_in(AgentState.RINGING, now) == pytest.approx(2)
    assert agent.time_in(AgentState.ON_CALL, now) == pytest.approx(30)
    assert agent.time_in(AgentState.WRAP_UP, now) == pytest.approx(5)


def test_errors_name_what_was_asked() -> None:
    acd, _, _ = make([QueueConfig("q")], [AgentConfig("a")])
    with pytest.raises(UnknownAgent, match="'nobody'"):
        acd.login("nobody")
    with pytest.raises(UnknownQueue, match="'nowhere'"):
        acd.arrive("c1", "nowhere")
    acd.arrive("c1", "q")
    with pytest.raises(DuplicateCall):
        acd.arrive("c1", "q")
    with pytest.raises(UnknownCall):
        acd.answer("c9")
    with pytest.raises(IllegalTransition, match="cannot go from queued to on_call"):
        acd.answer("c1")
    with pytest.raises(IllegalTransition, match="logged_out"):
        acd.pause("a")
    acd.login("a")
    with pytest.raises(IllegalTransition, match="ringing"):
        acd.pause("a")  # it is ringing with c1
    with pytest.raises(IllegalTransition):
        acd.login("a")
    with pytest.raises(IllegalTransition):
        acd.logout("a")  # cannot leave a ringing phone
    with pytest.raises(IllegalTransition):
        acd.end("c1")
    assert acd.agents["a"].state is AgentState.RINGING  # nothing changed on refusal
    with pytest.raises(ValueError, match="defined twice"):
        Acd(VirtualClock(), [QueueConfig("q"), QueueConfig("q")])
    with pytest.raises(ValueError, match="overflow target"):
        Acd(VirtualClock(), [QueueConfig("q", overflow="missing")])
    with pytest.raises(ValueError, match="1-10"):
        AgentConfig("x", skills={"s": 0})


def test_subscribers_see_the_acd_once_the_operation_is_complete() -> None:
    acd, _, _ = make([QueueConfig("q")], [AgentConfig("a")])
    seen: list[AgentState] = []

    def supervisor(event: Event) -> None:  # a break whenever the agent would idle
        if isinstance(event, AgentStateChanged) and event.new == "available":
            agent = acd.agents["a"]
            seen.append(agent.state)
            if agent.state is AgentState.AVAILABLE:
                acd.pause("a", "break")

    acd.subscribe(supervisor)
    acd.login("a")
    assert acd.agents["a"].state is AgentState.PAUSED
    acd.arrive("c1", "q")
    acd.arrive("c2", "q")
    acd.unpause("a")  # takes c1 at once: the supervisor sees a ringing agent, not an idle one
    assert seen == [AgentState.AVAILABLE, AgentState.RINGING]
    assert acd.agents["a"].state is AgentState.RINGING
    assert acd.call("c1").state is CallState.RINGING
    assert [c.id for c in acd.waiting_calls("q")] == ["c2"]
