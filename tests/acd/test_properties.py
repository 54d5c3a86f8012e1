"""Property-based tests of the ACD's invariants: random sequences of operations (arrivals with
random priorities and skills, logins, pauses, answers, ring-no-answer, hang-ups, clock
advances that escalate and overflow) with the invariants checked after every step and on
every event. The machines run with agents of capacity 1 and with capacities 1-3 drawn per
example (agents holding several calls at once)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from acd.agent import LEGAL_TRANSITIONS, Agent, AgentConfig, AgentState
from acd.call import Call, CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import IllegalTransition, UnknownCall
from acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallEnded,
    CallRingNoAnswer,
    Event,
)
from acd.live_config import configure_agent, configure_queue
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy

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
        wrap_up=None,  # agents close wrap-up themselves
        escalation=(EscalationStep(40.0, min_level=3),),
    ),
    QueueConfig("general", skills={"general": 1}, policy=RoutingPolicy.BEST_SKILL, ring_timeout=None),
)

AGENTS = (
    AgentConfig("a1", skills={"booking": 8, "lang_ko": 9}, groups=frozenset({"overflow"})),
    AgentConfig("a2", skills={"booking": 3, "lang_en": 9}),
    AgentConfig("a3", skills={"refund": 7, "lang_ko": 5, "lang_en": 5, "general": 2}),
    AgentConfig("a4", skills={"booking": 6, "refund": 6, "lang_en": 4}),
    AgentConfig("a5", skills={"general": 5}, groups=frozenset({"overflow", "supervisors"})),
    AgentConfig("a6", skills={"booking": 9, "refund": 4, "lang_ko": 9, "lang_en": 9, "general": 9}),
)
AGENT_IDS = [a.id for a in AGENTS]
LANGS = st.sampled_from([{}, {"lang_ko": 5}, {"lang_en": 5}, {"lang_en": 8}])


def order(call: Call) -> tuple[int, int]:
    return (-call.priority, call.seq)


def routable(agent: Agent) -> bool:
    """May be offered a call now: available, or on_call with a free slot; nothing pending."""
    return (
        agent.state in (AgentState.AVAILABLE, AgentState.ON_CALL)
        and len(agent.calls) < agent.config.capacity
        and not agent.logout_pending
        and not agent.pause_pending
    )


def held_from(agent: Agent, call: Call) -> bool:
    """`call` rang out on `agent` and is held from it for a while (ring policy without
    re-offers to the same agent): the one exception to work conservation and order."""
    return call.held_from == agent.id


class AcdMachine(RuleBasedStateMachine):
    pause_on_ring_no_answer = True
    queues: tuple[QueueConfig, ...] = QUEUES
    pauses_at_first_ring_out = True  # the queues' ring policy pauses on the first ring-out

    def __init__(self) -> None:
        super().__init__()
        self.build(AGENTS)

    def build(self, agents: Sequence[AgentConfig]) -> None:
        self.clock = VirtualClock(1000.0)
        self.acd = Acd(self.clock, self.queues, pause_on_ring_no_answer=self.pause_on_ring_no_answer)
        for config in agents:
            self.acd.add_agent(config)
        self.states = dict.fromkeys(AGENT_IDS, AgentState.LOGGED_OUT)
        self.arrived: list[str] = []
        self.answered: set[str] = set()
        self.finished: dict[str, int] = {}
        self.assignments = 0
        self.extra_offers = 0  # offers to an agent already on a call (capacity > 1)
        # Each agent's calls (ringing or talking) as told by the events alone.
        self.holding: dict[str, set[str]] = {agent_id: set() for agent_id in AGENT_IDS}
        self.auto_answer = False
        self.acd.subscribe(self.check_event)
        self.acd.subscribe(self.answer_at_once, (CallAssigned,))

    def answer_at_once(self, event: Event) -> None:
        """A subscriber that calls back into the ACD (like a channel that auto-answers)."""
        assert isinstance(event, CallAssigned)
        call = self.acd.calls.get(event.call_id)
        if (
            self.auto_answer
            and call is not None
            and call.state is CallState.RINGING
            and call.agent_id == event.agent_id
        ):
            self.acd.answer(call.id)

    # -- invariants checked on every event, at the moment it happens ---------------------------

    def check_event(self, event: Event) -> None:
        acd = self.acd
        if isinstance(event, AgentStateChanged):
            old, new = AgentState(event.old), AgentState(event.new)
            assert new in LEGAL_TRANSITIONS[old], f"illegal {old} -> {new}"
            assert self.states[event.agent_id] is old, "state change does not continue the last one"
            self.states[event.agent_id] = new
        elif isinstance(event, CallArrived):
            self.arrived.append(event.call_id)
        elif isinstance(event, CallAssigned):
            self.assignments += 1
            call = acd.calls[event.call_id]
            agent = acd.agents[event.agent_id]
            held = self.holding[agent.id]
            assert event.call_id not in held
            if held:
                self.extra_offers += 1
                assert self.states[agent.id] is AgentState.ON_CALL, "a second offer while not talking"
            else:
                assert self.states[agent.id] is AgentState.RINGING
            held.add(event.call_id)
            assert len(held) <= agent.config.capacity, f"{agent} holds {held}, over its capacity"
            # skill eligibility under the call's current (escalated) requirement
            assert acd.requirement(call.id).satisfied_by(agent.config.skills, agent.config.groups)
            # priority order, then FIFO: no call this agent could take is ahead of this one
            for other in acd.waiting_calls():
                if acd.eligible(agent, other) and not held_from(agent, other):
                    assert order(other) > order(call), f"{agent} took {call} before {other}"
        elif isinstance(event, CallAnswered):
            self.answered.add(event.call_id)
            assert event.call_id in self.holding[event.agent_id]
            assert self.states[event.agent_id] is AgentState.ON_CALL
        elif isinstance(event, CallRingNoAnswer):
            self.holding[event.agent_id].remove(event.call_id)
        if isinstance(event, CallEnded | CallAbandoned):
            for held in self.holding.values():
                held.discard(event.call_id)
            if isinstance(event, CallEnded):
                assert event.call_id in self.answered, "ended without being answered"
            else:
                assert event.call_id not in self.answered, "abandoned after being answered"
            self.finished[event.call_id] = self.finished.get(event.call_id, 0) + 1
            assert self.finished[event.call_id] == 1, f"{event.call_id} finished twice"

    # -- operations ------------------------------------------------------------------------------

    @rule(queue=st.sampled_from([q.name for q in QUEUES]), priority=st.integers(0, 3),
          tier=st.sampled_from(["regular", "vip"]), skills=LANGS)
    def arrive(self, queue: str, priority: int, tier: str, skills: dict[str, int]) -> None:
        call_id = f"c{len(self.arrived)}"
        self.acd.arrive(call_id, queue, priority=priority, tier=tier, skills=skills)

    def _agent_op(self, agent_id: str, legal: bool, op: str, *args: str) -> None:
        method = getattr(self.acd, op)
        if legal:
            method(agent_id, *args)
        else:
            before = self.acd.agents[agent_id].state
            with pytest.raises(IllegalTransition):
                method(agent_id, *args)
            assert self.acd.agents[agent_id].state is before

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def login(self, agent_id: str) -> None:
        legal = self.states[agent_id] is AgentState.LOGGED_OUT and not self.acd.agents[agent_id].config.disabled
        self._agent_op(agent_id, legal, "login")

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def logout(self, agent_id: str) -> None:
        legal = AgentState.LOGGED_OUT in LEGAL_TRANSITIONS[self.states[agent_id]]
        self._agent_op(agent_id, legal, "logout")

    @rule(agent_id=st.sampled_from(AGENT_IDS), reason=st.sampled_from(["lunch", "training"]))
    def pause(self, agent_id: str, reason: str) -> None:
        legal = self.states[agent_id] in (AgentState.AVAILABLE, AgentState.WRAP_UP)
        self._agent_op(agent_id, legal, "pause", reason)

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def pause_when_free(self, agent_id: str) -> None:
        state = self.states[agent_id]
        if state in (AgentState.RINGING, AgentState.ON_CALL):
            self.acd.pause_when_free(agent_id, "supervisor")
            agent = self.acd.agents[agent_id]
            assert not routable(agent) and (agent.pause_pending or agent.logout_pending)
        else:
            legal = state in (AgentState.AVAILABLE, AgentState.WRAP_UP)
            self._agent_op(agent_id, legal, "pause_when_free", "supervisor")

    @rule(agent_id=st.sampled_from(AGENT_IDS), skills=st.sampled_from([
        {"booking": 2}, {"booking": 9, "lang_en": 9}, {"refund": 8, "lang_ko": 8}, {"general": 9}, {},
    ]), overflow=st.booleans())
    def update_agent(self, agent_id: str, skills: dict[str, int], overflow: bool) -> None:
        """An admin edits the agent live (same capacity: calls in progress stay)."""
        agent = self.acd.agents[agent_id]
        state, calls = agent.state, set(agent.calls)
        config = dataclasses.replace(
            agent.config, skills=skills, groups=frozenset({"overflow"}) if overflow else frozenset()
        )
        self.acd.update_agent(config)
        assert agent.config is config and set(agent.calls) >= calls
        if state is not AgentState.AVAILABLE:
            assert agent.state is state

    @rule(index=st.integers(0, len(QUEUES) - 1), skills=st.sampled_from([
        {}, {"booking": 2}, {"booking": 9}, {"refund": 3, "lang_en": 4}, {"general": 6},
    ]), policy=st.sampled_from(list(RoutingPolicy)), escalation=st.sampled_from([
        (), (EscalationStep(10.0, min_level=1),), (EscalationStep(5.0, groups=frozenset({"supervisors"})),
                                                  EscalationStep(50.0, min_level=2)),
    ]), max_wait=st.sampled_from([None, 30.0, 400.0]), ring_timeout=st.sampled_from([None, 10.0]))
    def configure_queue(self, index: int, skills: dict[str, int], policy: RoutingPolicy,
                        escalation: tuple[EscalationStep, ...], max_wait: float | None,
                        ring_timeout: float | None) -> None:
        """An admin edits a queue live: its waiting calls stay, in the same order (those not
        offered at once to an agent the new skills make eligible); calls in progress stay."""
        old = QUEUES[index]
        name = old.name
        config = dataclasses.replace(old, skills=skills, policy=policy, escalation=escalation,
                                     max_wait=max_wait, ring_timeout=ring_timeout)
        acd = self.acd
        waiting = [c.id for c in acd.waiting_calls(name)]
        busy = {c.id: c.state for c in acd.calls.values() if c.state is not CallState.QUEUED}
        configure_queue(acd, config)
        assert acd.queues[name] == config
        still = [c.id for c in acd.waiting_calls(name)]
        assert still == [c for c in waiting if c in still], "a waiting call lost its place"
        for call_id in waiting:
            assert call_id in acd.calls, "a waiting call was dropped by the edit"
            assert acd.calls[call_id].state in (CallState.QUEUED, CallState.RINGING, CallState.ON_CALL)
        for call_id, state in busy.items():
            assert acd.calls[call_id].state is state, "a call in progress was disturbed"

    @rule(agent_id=st.sampled_from(AGENT_IDS), disabled=st.booleans())
    def configure_agent(self, agent_id: str, disabled: bool) -> None:
        """Disabling an agent: it keeps its calls, logs out once free, cannot log in."""
        agent = self.acd.agents[agent_id]
        calls = set(agent.calls)
        configure_agent(self.acd, dataclasses.replace(agent.config, disabled=disabled))
        assert set(agent.calls) >= calls
        if disabled:
            assert not routable(agent)
            if not agent.calls:  # logged out, or once its wrap-up is over
                assert agent.state in (AgentState.LOGGED_OUT, AgentState.WRAP_UP)
            with pytest.raises(IllegalTransition):
                self.acd.login(agent_id)

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def unpause(self, agent_id: str) -> None:
        self._agent_op(agent_id, self.states[agent_id] is AgentState.PAUSED, "unpause")

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def wrap_done(self, agent_id: str) -> None:
        self._agent_op(agent_id, self.states[agent_id] is AgentState.WRAP_UP, "wrap_done")

    @rule(agent_id=st.sampled_from(AGENT_IDS))
    def logout_when_free(self, agent_id: str) -> None:
        state = self.states[agent_id]
        if state in (AgentState.RINGING, AgentState.ON_CALL, AgentState.LOGGED_OUT):
            self.acd.logout(agent_id, when_free=True)
            assert self.acd.agents[agent_id].state is state
        else:
            self.acd.logout(agent_id, when_free=True)
            assert self.states[agent_id] is AgentState.LOGGED_OUT

    def _pick(self, index: int) -> str:
        return self.arrived[index % len(self.arrived)]

    def _call_op(self, index: int, op: str, legal_in: tuple[CallState, ...], *args: object) -> None:
        call_id = self._pick(index)
        call = self.acd.calls.get(call_id)
        method = getattr(self.acd, op)
        if call is None:
            with pytest.raises(UnknownCall):
                method(call_id, *args)
        elif call.state in legal_in:
            method(call_id, *args)
        else:
            with pytest.raises(IllegalTransition):
                method(call_id, *args)

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000))
    def answer(self, index: int) -> None:
        self._call_op(index, "answer", (CallState.RINGING,))

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000))
    def ring_no_answer(self, index: int) -> None:
        call_id = self._pick(index)
        call = self.acd.calls.get(call_id)
        if call is not None and call.state is CallState.RINGING:
            agent_id = call.agent_id
            was = self.states[agent_id]
            self.acd.ring_no_answer(call_id)
            assert call.state in (CallState.QUEUED, CallState.RINGING, CallState.ON_CALL)
            if (self.pause_on_ring_no_answer and self.pauses_at_first_ring_out
                    and self.states[agent_id] is not AgentState.LOGGED_OUT):
                agent = self.acd.agents[agent_id]
                if was is AgentState.RINGING:
                    assert self.states[agent_id] is AgentState.PAUSED
                else:  # rang out beside other calls: paused once they are over, no offers before
                    assert (
                        self.states[agent_id] is AgentState.PAUSED
                        or bool(agent.pause_pending)  # ring_no_answer, or one already asked for
                        or agent.logout_pending
                    )
                    assert not routable(agent)
        else:
            self._call_op(index, "ring_no_answer", (CallState.RINGING,))

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000))
    def abandon(self, index: int) -> None:
        self._call_op(index, "abandon", (CallState.QUEUED, CallState.RINGING))

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000))
    def end(self, index: int) -> None:
        self._call_op(index, "end", (CallState.ON_CALL,))

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000), priority=st.integers(0, 5))
    def set_priority(self, index: int, priority: int) -> None:
        call_id = self._pick(index)
        call = self.acd.calls.get(call_id)
        if call is not None and call.state is CallState.QUEUED:
            held = call.held_from  # re-placing ends a hold-out: the held-from agent may take it now
            self.acd.set_priority(call_id, priority)
            assert call.priority == priority
            assert call.state is CallState.QUEUED or (held and call.agent_id == held)
        else:
            self._call_op(index, "set_priority", (CallState.QUEUED,), priority)

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 10_000), queue=st.sampled_from([q.name for q in QUEUES]))
    def move(self, index: int, queue: str) -> None:
        call_id = self._pick(index)
        call = self.acd.calls.get(call_id)
        if call is not None and call.state is CallState.QUEUED:
            self.acd.move(call_id, queue)
            assert call.queue == queue or call.state is not CallState.QUEUED
        else:
            self._call_op(index, "move", (CallState.QUEUED,), queue)

    @rule(on=st.booleans())
    def set_auto_answer(self, on: bool) -> None:
        self.auto_answer = on

    @rule(seconds=st.sampled_from([1.0, 5.0, 15.0, 25.0, 35.0, 65.0, 95.0, 250.0]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # -- invariants checked after every step -----------------------------------------------------

    @invariant()
    def work_conserving(self) -> None:
        """No agent with a free slot in a routable state is eligible for a waiting call (an
        available agent always counts as routable)."""
        acd = self.acd
        waiting = acd.waiting_calls()
        for agent in acd.agents.values():
            assert agent.state is self.states[agent.id]
            if agent.state is AgentState.AVAILABLE:
                assert routable(agent), f"{agent} available but not routable"
            if not routable(agent):
                continue
            for call in waiting:
                if not held_from(agent, call):
                    assert not acd.eligible(agent, call), f"{agent} idles while {call} waits"

    @invariant()
    def loads_within_capacity(self) -> None:
        acd = self.acd
        for agent in acd.agents.values():
            held = self.holding[agent.id]
            assert set(agent.calls) == held, f"{agent}: ACD says {set(agent.calls)}, events {held}"
            assert len(held) <= agent.config.capacity
            for call in agent.calls.values():
                assert acd.calls[call.id] is call and call.agent_id == agent.id
                assert call.state in (CallState.RINGING, CallState.ON_CALL)
            # the state is the most engaged one
            if agent.state is AgentState.RINGING:
                assert [c.state for c in agent.calls.values()] == [CallState.RINGING]
            elif agent.state is AgentState.ON_CALL:
                assert held, f"{agent} on_call without a call"
            else:
                assert not held, f"{agent} {agent.state} with calls {held}"
        for call in acd.calls.values():
            if call.state in (CallState.RINGING, CallState.ON_CALL):
                assert call.id in self.holding[call.agent_id]

    @invariant()
    def indexes_agree(self) -> None:
        acd = self.acd
        available = {a.id for a in acd.agents.values() if routable(a)}
        indexed = {agent.id for agent in acd.available}
        assert available == indexed
        assert {a.id for a in acd.agents.values() if a.indexed} == indexed
        queued = sorted(c.id for c in acd.calls.values() if c.state is CallState.QUEUED)
        assert sorted(c.id for c in acd.waiting_calls()) == queued
        assert len(acd.waiting) == len(queued)
        for queue in acd.queues:
            in_order = acd.waiting_calls(queue)
            assert [acd.position(c.id) for c in in_order] == list(range(1, len(in_order) + 1))
            assert in_order == sorted(in_order, key=order)

    def teardown(self) -> None:
        # Settle every call still in progress; then each arrived call has finished exactly once.
        acd = self.acd
        for call in list(acd.calls.values()):
            if call.state is CallState.RINGING:
                acd.answer(call.id)
            if call.state is CallState.ON_CALL:
                acd.end(call.id)
            elif call.state is CallState.QUEUED:
                acd.abandon(call.id)
        assert not acd.calls
        assert set(self.finished) == set(self.arrived)
        assert all(count == 1 for count in self.finished.values())


class AcdMachineNoPause(AcdMachine):
    pause_on_ring_no_answer = False


CAPACITIES = st.lists(st.integers(1, 3), min_size=len(AGENTS), max_size=len(AGENTS))


class MultiCallMachine(AcdMachine):
    """The same operations and invariants with agents of capacity 1-3."""

    @initialize(capacities=CAPACITIES, logged_in=st.booleans())
    def with_capacities(self, capacities: list[int], logged_in: bool = False) -> None:
        self.build([dataclasses.replace(a, capacity=n) for a, n in zip(AGENTS, capacities, strict=True)])
        if logged_in:
            for agent_id in AGENT_IDS:
                self.acd.login(agent_id)

    # Operations aimed at agents holding several calls (random call indexes seldom hit them).

    def _side_calls(self, state: CallState) -> list[Call]:
        """Calls in `state` whose agent is on_call (so beside another call or after one)."""
        acd = self.acd
        return sorted(
            (c for c in acd.calls.values()
             if c.state is state and acd.agents[c.agent_id].state is AgentState.ON_CALL),
            key=lambda c: c.seq,
        )

    @rule(queue=st.sampled_from([q.name for q in QUEUES]), count=st.integers(2, 4), skills=LANGS)
    def arrive_several(self, queue: str, count: int, skills: dict[str, int]) -> None:
        for i in range(count):
            self.arrive(queue, i % 3, "regular", skills)

    @precondition(lambda self: any(c.state is CallState.RINGING for c in self.acd.calls.values()))
    @rule(index=st.integers(0, 100))
    def answer_ringing(self, index: int) -> None:
        calls = sorted((c for c in self.acd.calls.values() if c.state is CallState.RINGING), key=lambda c: c.seq)
        call = calls[index % len(calls)]
        self.acd.answer(call.id)
        assert self.acd.agents[call.agent_id].state is AgentState.ON_CALL

    @precondition(lambda self: self._side_calls(CallState.ON_CALL))
    @rule(index=st.integers(0, 100))
    def end_one_of_several(self, index: int) -> None:
        calls = self._side_calls(CallState.ON_CALL)
        call = calls[index % len(calls)]
        agent = self.acd.agents[call.agent_id]
        others = len(agent.calls) - 1
        self.acd.end(call.id)
        if others:
            assert agent.state is AgentState.ON_CALL, "ending one of several calls left on_call"
            assert call.id not in agent.calls

    @precondition(lambda self: self._side_calls(CallState.RINGING))
    @rule(index=st.integers(0, 100), hang_up=st.booleans())
    def extra_offer_fails(self, index: int, hang_up: bool) -> None:
        """The caller of an extra offer hangs up, or the agent does not pick it up."""
        calls = self._side_calls(CallState.RINGING)
        call = calls[index % len(calls)]
        if hang_up:
            self.acd.abandon(call.id)
        else:
            self.ring_no_answer(self.arrived.index(call.id))

    @rule(agent_id=st.sampled_from(AGENT_IDS), index=st.integers(0, 100))
    def disposition(self, agent_id: str, index: int) -> None:
        agent = self.acd.agents[agent_id]
        if agent.calls:
            ids = sorted(agent.calls)
            self.acd.set_disposition(agent_id, "sold", ids[index % len(ids)])
        elif agent.call_id:
            self.acd.set_disposition(agent_id, "sold")
        else:
            with pytest.raises(IllegalTransition):
                self.acd.set_disposition(agent_id, "sold")
        stranger = self.arrived[index % len(self.arrived)] if self.arrived else "nobody"
        if stranger not in agent.calls and (agent.last_ended is None or agent.last_ended.id != stranger):
            with pytest.raises(IllegalTransition):
                self.acd.set_disposition(agent_id, "sold", stranger)


class MultiCallMachineNoPause(MultiCallMachine):
    pause_on_ring_no_answer = False


SETTINGS = settings(
    max_examples=int(os.environ.get("HOTLINE_HYPOTHESIS_EXAMPLES", "120")),
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAcdInvariants = AcdMachine.TestCase
TestAcdInvariants.settings = SETTINGS
TestAcdInvariantsNoPause = AcdMachineNoPause.TestCase
TestAcdInvariantsNoPause.settings = SETTINGS
TestMultiCallInvariants = MultiCallMachine.TestCase
TestMultiCallInvariants.settings = SETTINGS
TestMultiCallInvariantsNoPause = MultiCallMachineNoPause.TestCase
TestMultiCallInvariantsNoPause.settings = SETTINGS


def test_the_machine_reaches_assignments() -> None:
    """Guard against a vacuous property test: a short fixed run assigns and finishes calls."""
    machine = AcdMachine()
    for agent_id in AGENT_IDS:
        machine.login(agent_id)
    for i in range(8):
        machine.arrive("booking" if i % 2 else "refund", i % 3, "regular", {})
    machine.work_conserving()
    assert machine.assignments == 4  # a1, a4, a6 take booking calls; a3 a refund call
    machine.teardown()


def test_the_multi_call_machine_reaches_extra_offers() -> None:
    """Guard against a vacuous property test: agents of capacity 3 answer and take more calls."""
    machine = MultiCallMachine()
    machine.with_capacities([3] * len(AGENTS))
    for agent_id in AGENT_IDS:
        machine.login(agent_id)
    machine.set_auto_answer(True)
    for i in range(16):
        machine.arrive("booking" if i % 2 else "refund", i % 3, "regular", {})
        machine.work_conserving()
        machine.loads_within_capacity()
        machine.indexes_agree()
    # a1, a4, a6 take 3 booking calls each; a3 and a4 share the refund calls up to capacity
    assert machine.extra_offers > 0
    assert max(len(a.calls) for a in machine.acd.agents.values()) == 3
    machine.teardown()
