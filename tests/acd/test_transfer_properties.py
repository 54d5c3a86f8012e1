"""The property machine of test_properties.py with transfers (blind to an agent, a queue, a
number; attended: consult, then complete or cancel), conferences (add, merge, leave),
supervisors (listen, whisper, barge) in the operation mix. Checked after every step and on
every event: every call ends exactly once (ended, abandoned or transferred out), one record
per call, every agent part is a segment, agents holding a call as a third party are ringing
or talking on it, refused operations change nothing; and the whole stream replays to the same
ACD, a snapshot taken at any step restores to it."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from acd.agent import AgentState
from acd.call import CallState
from acd.errors import IllegalTransition
from acd.events import (
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallEnded,
    CallMonitored,
    CallMonitorEnded,
    CallTransferred,
    Event,
    PartyAdded,
    PartyLeft,
    SegmentEnded,
    event_from_dict,
)
from acd.replay import acd_state, replay
from acd.snapshot import restore, take
from acd.transfer import CONFERENCE, CONSULT, TALKING
from tests.acd.test_properties import (
    AGENT_IDS,
    AGENTS,
    QUEUES,
    SETTINGS,
    AcdMachine,
    MultiCallMachine,
)

NUMBERS = ("+82212345678", "+15551234567")


class TransferMachine(AcdMachine):
    def build(self, agents):  # type: ignore[no-untyped-def]
        super().build(agents)
        self.configs = list(agents)
        self.stream: list[Event] = []
        self.talked: set[str] = set()  # calls answered at least once
        self.transferred: set[str] = set()
        self.segments: dict[str, list[SegmentEnded]] = {}
        self.monitoring: dict[str, set[str]] = {}
        self.edited = False
        self.directed = ""  # a blind transfer to an agent: offered whatever the skills and order
        self.acd.subscribe(self.stream.append)

    def check_event(self, event: Event) -> None:
        if isinstance(event, CallTransferred):
            self.transferred.add(event.call_id)
            self.holding[event.agent_id].discard(event.call_id)
            if event.target_kind == "number":
                for held in self.holding.values():
                    held.discard(event.call_id)
                self.finished[event.call_id] = self.finished.get(event.call_id, 0) + 1
                assert self.finished[event.call_id] == 1, f"{event.call_id} finished twice"
            elif event.mode == "blind" and event.target_kind == "agent":
                self.directed = event.call_id
            return
        if isinstance(event, CallAssigned) and event.call_id == self.directed:
            self.directed = ""
            self.assignments += 1
            held = self.holding[event.agent_id]
            assert event.call_id not in held and len(held) < self.acd.agents[event.agent_id].config.capacity
            held.add(event.call_id)
            return
        if isinstance(event, PartyAdded):
            assert self.acd.calls[event.call_id].state is CallState.ON_CALL
            if event.target_kind == "agent":
                assert self.states[event.party] is AgentState.AVAILABLE
                self.holding[event.party].add(event.call_id)
            return
        if isinstance(event, PartyLeft):
            if event.party in self.holding:
                self.holding[event.party].discard(event.call_id)
            return
        if isinstance(event, SegmentEnded):
            assert event.started <= event.at and event.talk >= 0
            self.segments.setdefault(event.call_id, []).append(event)
            return
        if isinstance(event, CallMonitored):
            self.monitoring.setdefault(event.call_id, set()).add(event.supervisor)
            return
        if isinstance(event, CallMonitorEnded):
            self.monitoring[event.call_id].remove(event.supervisor)
            return
        if isinstance(event, CallAnswered):
            self.talked.add(event.call_id)
            self.answered.add(event.call_id)
        if isinstance(event, CallAbandoned) and event.call_id in self.talked:
            # rang the agent of a blind transfer and the caller hung up: a talked call
            assert event.call_id in self.transferred
            self.answered.discard(event.call_id)
        if isinstance(event, CallEnded | CallAbandoned):
            assert not self.monitoring.get(event.call_id) or isinstance(event, CallEnded)
        super().check_event(event)
        if isinstance(event, CallArrived):
            self.segments[event.call_id] = []

    # Operations the replay does not rebuild (a live edit of an agent, a supervisor's pause
    # when free or move of a waiting call: see docs/state.md) are left out here, so the
    # replay check applies to every run; the machines of test_properties.py drive them.
    def update_agent(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    def pause_when_free(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    def move(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    def set_priority(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    # Live queue and agent edits (acd/live_config.py) beside transfers are not modelled by
    # this machine yet: test_properties.py drives them without transfers.
    def configure_queue(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    def configure_agent(self, *args: object) -> None:  # no longer a rule
        raise AssertionError("not in this machine")

    # -- helpers ------------------------------------------------------------------------

    def _talking(self, index: int) -> str | None:
        calls = sorted((c for c in self.acd.calls.values() if c.state is CallState.ON_CALL), key=lambda c: c.seq)
        return calls[index % len(calls)].id if calls else None

    def _refused_changes_nothing(self, op, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        before = acd_state(self.acd)
        count = len(self.stream)
        try:
            op(*args, **kwargs)
        except IllegalTransition:
            assert acd_state(self.acd) == before
            assert len(self.stream) == count
            return False
        return True

    # -- operations -----------------------------------------------------------------------

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 1000), kind=st.sampled_from(["agent", "queue", "number"]),
          agent_id=st.sampled_from(AGENT_IDS), queue=st.sampled_from([q.name for q in QUEUES]),
          bump=st.sampled_from([None, 9]))
    def blind_transfer(self, index: int, kind: str, agent_id: str, queue: str, bump: int | None) -> None:
        call_id = self._talking(index)
        if call_id is None:
            return
        call = self.acd.calls[call_id]
        owner, arrived, seq = call.agent_id, call.arrived_at, call.seq
        target = {"agent": {"agent": agent_id}, "queue": {"queue": queue}, "number": {"number": NUMBERS[0]}}[kind]
        if not self._refused_changes_nothing(self.acd.transfer, call_id, priority=bump, **target):
            assert kind == "agent" or call.parties
            return
        if call_id in self.acd.agents[owner].calls:  # routed back to it (no wrap-up, it was free first)
            assert kind == "queue" and call.agent_id == owner
        if kind == "number":
            assert call_id not in self.acd.calls
            return
        assert call.arrived_at == arrived and call.seq == seq, "a transferred call keeps its place"
        if bump is not None:
            assert call.priority == bump
        if kind == "queue":
            assert call.queue == queue

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 1000), kind=st.sampled_from(["agent", "queue", "number"]),
          agent_id=st.sampled_from(AGENT_IDS), queue=st.sampled_from([q.name for q in QUEUES]),
          role=st.sampled_from([CONSULT, CONFERENCE]))
    def add_party(self, index: int, kind: str, agent_id: str, queue: str, role: str) -> None:
        call_id = self._talking(index)
        if call_id is None:
            return
        target = {"agent": {"agent": agent_id}, "queue": {"queue": queue}, "number": {"number": NUMBERS[1]}}[kind]
        if self._refused_changes_nothing(self.acd.add_party, call_id, role=role, **target):
            parties = self.acd.calls[call_id].parties
            assert parties and sum(p.role == CONSULT for p in parties.values()) <= 1

    def _with_party(self, index: int) -> tuple[str, str] | None:
        calls = sorted((c for c in self.acd.calls.values() if c.parties), key=lambda c: c.seq)
        if not calls:
            return None
        call = calls[index % len(calls)]
        assert call.parties is not None
        ids = sorted(call.parties)
        return call.id, ids[index % len(ids)]

    @rule(index=st.integers(0, 1000))
    def party_answers(self, index: int) -> None:
        picked = self._with_party(index)
        if picked is not None:
            self._refused_changes_nothing(self.acd.party_answered, *picked)

    @rule(index=st.integers(0, 1000), reason=st.sampled_from(["cancelled", "no_answer", "left", "failed"]))
    def party_goes(self, index: int, reason: str) -> None:
        picked = self._with_party(index)
        if picked is not None:
            self.acd.remove_party(*picked, reason=reason)
            assert picked[1] not in (self.acd.calls[picked[0]].parties or {})

    @rule(index=st.integers(0, 1000))
    def merge(self, index: int) -> None:
        picked = self._with_party(index)
        if picked is not None:
            self._refused_changes_nothing(self.acd.merge, picked[0])

    @rule(index=st.integers(0, 1000))
    def complete(self, index: int) -> None:
        picked = self._with_party(index)
        if picked is None:
            return
        call = self.acd.calls[picked[0]]
        owner = call.agent_id
        consult = [p for p in (call.parties or {}).values() if p.role == CONSULT and p.state == TALKING]
        if self._refused_changes_nothing(self.acd.complete_transfer, call.id):
            assert consult, "completed without a talking consult"
            assert call.id not in self.acd.agents[owner].calls
            if consult[0].kind == "agent":
                assert call.agent_id == consult[0].target and call.state is CallState.ON_CALL
            else:
                assert call.id not in self.acd.calls
        else:
            assert not consult

    @rule(index=st.integers(0, 1000), owner=st.booleans())
    def leave(self, index: int, owner: bool) -> None:
        picked = self._with_party(index)
        if picked is None:
            return
        call = self.acd.calls[picked[0]]
        who = call.agent_id if owner else picked[1]
        if who.startswith("tel:"):
            return
        self._refused_changes_nothing(self.acd.leave, call.id, who)

    @precondition(lambda self: self.arrived)
    @rule(index=st.integers(0, 1000), supervisor=st.sampled_from(["s1", "s2"]),
          mode=st.sampled_from(["listen", "whisper", "barge"]), stop=st.booleans())
    def supervise(self, index: int, supervisor: str, mode: str, stop: bool) -> None:
        call_id = self._talking(index)
        if call_id is None:
            return
        call = self.acd.calls[call_id]
        if stop:
            self._refused_changes_nothing(self.acd.unmonitor, call_id, supervisor)
            assert supervisor not in (call.monitors or {})
        else:
            self.acd.monitor(call_id, supervisor, mode)
            assert call.monitors is not None and call.monitors[supervisor][0] == mode

    @rule()
    def snapshot_restores(self) -> None:
        if self.edited:
            return
        data = take(self.acd)
        replayed, _ = restore(data, QUEUES, pause_on_ring_no_answer=self.pause_on_ring_no_answer,
                              agents=self.configs)
        assert acd_state(replayed.acd) == acd_state(self.acd)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def loads_within_capacity(self) -> None:
        acd = self.acd
        for agent in acd.agents.values():
            held = self.holding[agent.id]
            assert set(agent.calls) == held, f"{agent}: ACD says {set(agent.calls)}, events {held}"
            assert len(held) <= agent.config.capacity
            for call in agent.calls.values():
                assert acd.calls[call.id] is call
                if call.agent_id == agent.id:
                    assert call.state in (CallState.RINGING, CallState.ON_CALL)
                    continue
                party = (call.parties or {}).get(agent.id)
                assert party is not None, f"{agent} holds {call} as neither its agent nor a party"
                assert call.state is CallState.ON_CALL
                expected = AgentState.ON_CALL if party.state == TALKING else AgentState.RINGING
                assert agent.state is expected
            if agent.state is AgentState.ON_CALL:
                assert held, f"{agent} on_call without a call"
            elif agent.state is not AgentState.RINGING:
                assert not held, f"{agent} {agent.state} with calls {held}"
        for call in acd.calls.values():
            if call.state in (CallState.RINGING, CallState.ON_CALL):
                assert call.id in self.holding[call.agent_id]
            if call.state is not CallState.ON_CALL:
                assert not call.parties and not call.monitors, f"{call} has parties while not talking"
            for party in (call.parties or {}).values():
                assert party.id != call.agent_id
                if party.kind == "agent":
                    assert call.id in acd.agents[party.target].calls
            assert set(call.monitors or {}) == self.monitoring.get(call.id, set())

    def teardown(self) -> None:
        replayable = not self.edited
        super().teardown()
        for call_id, segments in self.segments.items():
            for segment in segments:
                assert segment.party in self.acd.agents or segment.party.startswith("tel:")
            if call_id not in self.transferred:
                assert all(s.role != "agent" for s in segments), f"{call_id}: agent segment without transfer"
        if replayable and self.stream:
            stream = [event_from_dict(e.to_dict()) for e in self.stream]
            rebuilt = replay(stream, QUEUES, self.configs, pause_on_ring_no_answer=self.pause_on_ring_no_answer,
                             start=1000.0)
            assert acd_state(rebuilt.acd) == acd_state(self.acd)


class TransferMachineNoPause(TransferMachine):
    pause_on_ring_no_answer = False


class MultiCallTransferMachine(TransferMachine, MultiCallMachine):
    """Transfers beside agents of capacity 1-3."""


TestTransferInvariants = TransferMachine.TestCase
TestTransferInvariants.settings = SETTINGS
TestTransferInvariantsNoPause = TransferMachineNoPause.TestCase
TestTransferInvariantsNoPause.settings = SETTINGS
TestMultiCallTransferInvariants = MultiCallTransferMachine.TestCase
TestMultiCallTransferInvariants.settings = SETTINGS


def test_the_transfer_machine_reaches_every_operation() -> None:
    """Guard against a vacuous property test: a fixed run transfers, consults, completes,
    conferences, leaves and supervises, and each call still ends once."""
    m = TransferMachine()
    for agent_id in AGENT_IDS:
        m.login(agent_id)
    m.set_auto_answer(True)
    for _ in range(3):
        m.arrive("booking", 0, "regular", {})
    talking = sorted(c.id for c in m.acd.calls.values() if c.state is CallState.ON_CALL)
    assert len(talking) == 3
    m.blind_transfer(0, "queue", "a1", "general", 9)  # a5 (general) takes it
    assert m.acd.calls["c0"].agent_id == "a5"
    m.add_party(1, "agent", "a3", "general", CONSULT)
    m.party_answers(0)
    m.supervise(1, "s1", "whisper", False)
    m.complete(0)
    assert m.acd.calls["c1"].agent_id == "a3"
    m.add_party(2, "number", "a1", "general", CONFERENCE)
    m.party_answers(0)
    m.leave(0, True)
    assert "c2" not in m.acd.calls  # the agent left the caller with the outside number
    m.snapshot_restores()
    assert m.transferred == {"c0", "c1", "c2"}
    assert {s.role for segs in m.segments.values() for s in segs} == {"agent", "consult", "conference"}
    m.teardown()
    assert set(m.finished) == {"c0", "c1", "c2"}
    assert sorted(a.id for a in AGENTS) == AGENT_IDS
