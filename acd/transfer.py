"""Transfers, consultations, conferences and supervisors on a call in progress (pure core).

The operations of `TransferOps`, a base of `acd.engine.Acd`, act on a call that is talking
(`on_call`) with its agent, the call's *owner*:

- `transfer(call, agent= | queue= | number=)`: blind. The owner's part ends (wrap-up); the
  call rings the named agent at once (it must be routable), or waits in the queue (with that
  queue's skills, escalation and timers, but its original arrival time, hence its place, and
  its priority unless `priority` is given), or leaves the ACD to an outside number.
- `add_party(call, agent= | queue= | number=, role=consult | conference)`: the owner rings a
  third party; a consult keeps the caller on hold, a conference joins all three once it
  answers. A consult to a queue takes that queue's longest-idle eligible agent at once.
  Then `party_answered`, `merge` (consult -> conference), `remove_party` (cancel, no answer,
  hung up), `complete_transfer` (the consulted party takes the call: attended transfer) and
  `leave` (an agent leaves a conference; the owner leaving hands the call to an agent who
  stays, or to the outside number when only that is left).
- `monitor(call, supervisor, mode)` / `unmonitor`: listen, whisper (the agent alone hears the
  supervisor), barge. Monitoring ends when the call changes hands or ends.

One call keeps one id through all of it; every part that ends is a `SegmentEnded` (who, in
which role, from when, how long), the last one is the call's `call_ended`, so a report counts
one call and splits its handle time per agent. An agent whose part of a call ends after it
talked goes to wrap-up (the queue's `wrap_up`) as after any call; one that only rang goes
back to available (paused after a ring-no-answer as the ACD's rule says).

Parties that are agents hold the call in `Agent.calls` (their slot is taken) while
`Call.agent_id` stays the owner; only an agent that is free (`available`, or routable with a
free slot for a blind transfer) can be a target.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd import ring_policy
from acd.agent import Agent, AgentState, drop_talks_before
from acd.agent_index import RoutableAgents
from acd.call import Call, CallState
from acd.clock import Clock, Timer
from acd.dispatch import EventDispatch, operation
from acd.errors import IllegalTransition, UnknownQueue
from acd.events import (
    CallMonitored,
    CallMonitorEnded,
    CallTransferred,
    PartyAdded,
    PartyAnswered,
    PartyJoined,
    PartyLeft,
    SegmentEnded,
)
from acd.queue import QueueConfig, requirement_at_step

AGENT, QUEUE, NUMBER = "agent", "queue", "number"
CONSULT, CONFERENCE = "consult", "conference"
RINGING, TALKING = "ringing", "talking"
MODES = ("listen", "whisper", "barge")


@dataclass(slots=True)
class Party:
    """A third party on a call: an agent (id = its id) or an outside number (`tel:<number>`)."""

    id: str
    kind: str  # AGENT or NUMBER
    target: str  # the agent id or the number
    role: str  # CONSULT or CONFERENCE
    state: str = RINGING
    since: float = 0.0  # rung at
    answered_at: float = 0.0
    queue: str = ""  # for a consult to a queue: the queue it was chosen from
    ring_for: float | None = None  # the ring timeout it was armed with (a later queue edit: the next offer)
    timer: Timer | None = None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "kind": self.kind, "target": self.target, "role": self.role,
                "state": self.state, "since": self.since, "answered_at": self.answered_at,
                "queue": self.queue, "ring_for": self.ring_for}


def party_id(kind: str, target: str) -> str:
    return target if kind == AGENT else f"tel:{target}"


def _target(agent: str | None, queue: str | None, number: str | None) -> tuple[str, str]:
    given = [(k, v) for k, v in ((AGENT, agent), (QUEUE, queue), (NUMBER, number)) if v]
    if len(given) != 1:
        raise ValueError("name exactly one of agent, queue or number")
    return given[0]


class TransferOps(EventDispatch):
    """Operations on talking calls; mixed into `Acd` (which provides what is declared here)."""

    agents: dict[str, Agent]
    calls: dict[str, Call]
    queues: dict[str, QueueConfig]
    clock: Clock
    available: RoutableAgents
    pause_on_ring_no_answer: bool
    occupancy_window: float

    # -- provided by the engine ------------------------------------------------------------

    def agent(self, agent_id: str) -> Agent:
        raise NotImplementedError

    def call(self, call_id: str) -> Call:
        raise NotImplementedError

    def _set_state(self, agent: Agent, new: AgentState, reason: str = "", call_id: str = "") -> None:
        raise NotImplementedError

    def _assign(self, call: Call, agent: Agent) -> None:
        raise NotImplementedError

    def _place(self, call: Call, requeue: bool = False) -> None:
        raise NotImplementedError

    def _schedule_wrap(self, agent: Agent, call: Call) -> None:
        raise NotImplementedError

    def _on_call_changed(self, agent: Agent) -> None:
        raise NotImplementedError

    def _agent_free(self, agent: Agent) -> None:
        raise NotImplementedError

    # -- blind transfer --------------------------------------------------------------------

    @operation
    def transfer(
        self,
        call_id: str,
        *,
        agent: str | None = None,
        queue: str | None = None,
        number: str | None = None,
        priority: int | None = None,
    ) -> None:
        """Blind transfer of a talking call (see the module doc)."""
        call = self._talking(call_id, "transfer")
        if call.parties:
            raise IllegalTransition("call", call.id, "with a third party", "blind transfer")
        kind, target = _target(agent, queue, number)
        owner = self.agents[call.agent_id]
        to: Agent | None = None
        if kind == AGENT:
            to = self.agent(target)
            if to is owner or not to.indexed:
                raise IllegalTransition("agent", to.id, to.state.value, "transfer target (not free)")
        elif kind == QUEUE and target not in self.queues:
            raise UnknownQueue(target)
        now = self.clock.now()
        new_queue = target if kind == QUEUE else call.queue
        new_priority = call.priority if priority is None else priority
        self._emit(CallTransferred(now, call.id, owner.id, "blind", kind, target, new_queue, new_priority))
        if kind == NUMBER:
            self._hand_off(call, owner, now, "transferred")
            self._leave_acd(call)
            return
        # The call takes its place before its agent is free again (a free agent takes the
        # first waiting call, which may be this one: it keeps its arrival time). The agent's
        # slot is given up first and it leaves the index meanwhile: an agent of capacity > 1
        # still routable beside this call must not be offered it back while it holds it.
        self._end_monitors(call, "transferred")
        self._segment(call, owner.id, AGENT, call.answered_at, now)
        talked_since, old_queue = call.answered_at, call.queue
        call.state = CallState.QUEUED
        call.agent_id = ""
        call.priority = new_priority
        if new_queue != call.queue:
            call.queue = new_queue
            call.step = 0
        call.requirement = None  # the (new) queue's skills apply
        call.enqueued_at = now  # its escalation and max wait start again; arrival order kept
        del owner.calls[call.id]
        if owner.indexed:
            self.available.remove(owner)
        if to is not None:
            self._assign(call, to)
        else:
            self._place(call)
        self._release(owner, call, talked_since, now, old_queue, held=False)

    # -- third parties ---------------------------------------------------------------------

    @operation
    def add_party(
        self,
        call_id: str,
        *,
        agent: str | None = None,
        queue: str | None = None,
        number: str | None = None,
        role: str = CONSULT,
    ) -> str:
        """Ring a third party for the call's agent: consult it or conference it in. Returns
        the party id (the agent's id, or `tel:<number>`)."""
        if role not in (CONSULT, CONFERENCE):
            raise ValueError(f"role {role!r} is not consult or conference")
        call = self._talking(call_id, role)
        parties = call.parties or {}
        if any(p.role == CONSULT for p in parties.values()):
            raise IllegalTransition("call", call.id, "consulting", role)
        if role == CONSULT and parties:
            raise IllegalTransition("call", call.id, "in conference", CONSULT)
        kind, target = _target(agent, queue, number)
        owner = self.agents[call.agent_id]
        chosen_from = ""
        to: Agent | None = None
        if kind == QUEUE:
            config = self.queues.get(target)
            if config is None:
                raise UnknownQueue(target)
            to = self.available.longest_idle(requirement_at_step(config, call.skills, 0))
            if to is None or to.state is not AgentState.AVAILABLE:
                raise IllegalTransition("queue", target, "no free agent", role)
            kind, target, chosen_from = AGENT, to.id, config.name
        elif kind == AGENT:
            to = self.agent(target)
            if to is owner or to.state is not AgentState.AVAILABLE or not to.indexed:
                raise IllegalTransition("agent", to.id, to.state.value, f"{role} target (not free)")
        pid = party_id(kind, target)
        if pid in parties:
            raise IllegalTransition("call", call.id, f"with {pid}", role)
        now = self.clock.now()
        self._emit(PartyAdded(now, call.id, owner.id, pid, kind, target, role, chosen_from))
        party = Party(pid, kind, target, role, since=now, queue=chosen_from)
        if call.parties is None:
            call.parties = {}
        call.parties[pid] = party
        if to is not None:
            to.calls[call.id] = call
            to.call_id = call.id
            self._set_state(to, AgentState.RINGING, call_id=call.id)
            self._arm_party(call, party, self.queues[call.queue].ring_timeout)
        return pid

    def _arm_party(self, call: Call, party: Party, timeout: float | None, due: float | None = None) -> None:
        if timeout is None:
            return
        party.ring_for = timeout
        delay = timeout if due is None else due - self.clock.now()
        party.timer = self.clock.call_later(delay, lambda: self._party_timeout(call, party))

    @operation
    def _party_timeout(self, call: Call, party: Party) -> None:
        parties = call.parties
        if parties is not None and parties.get(party.id) is party and party.state == RINGING:
            self.remove_party(call.id, party.id, "no_answer")

    @operation
    def party_answered(self, call_id: str, party: str) -> None:
        call = self._talking(call_id, "party answer")
        p = self._party(call, party)
        if p.state != RINGING:
            raise IllegalTransition("party", party, p.state, TALKING)
        now = self.clock.now()
        self._emit(PartyAnswered(now, call.id, party))
        if p.timer is not None:
            p.timer.cancel()
            p.timer = None
        p.state = TALKING
        p.answered_at = now
        if p.kind == AGENT:
            agent = self.agents[p.target]
            agent.ring_outs = 0  # consecutive ring-outs end with an answer, as in `answer`
            self._set_state(agent, AgentState.ON_CALL, call_id=call.id)
            if agent.capacity > 1:  # talking with a free slot: routable, as after `answer`
                self._on_call_changed(agent)

    @operation
    def merge(self, call_id: str) -> None:
        """The consulted party (talking) joins the caller and the agent: a conference."""
        call = self._talking(call_id, "conference")
        consult = self._consult(call)
        if consult.state != TALKING:
            raise IllegalTransition("party", consult.id, consult.state, CONFERENCE)
        self._emit(PartyJoined(self.clock.now(), call.id, consult.id))
        consult.role = CONFERENCE

    @operation
    def remove_party(self, call_id: str, party: str, reason: str = "cancelled") -> None:
        """A third party goes: consult cancelled, no answer, failed, hung up, left."""
        call = self._talking(call_id, "remove a party")
        p = self._party(call, party)
        now = self.clock.now()
        self._emit(PartyLeft(now, call.id, party, reason))
        self._drop(call, p, now, reason)

    @operation
    def complete_transfer(self, call_id: str) -> None:
        """Attended transfer: the consulted party (talking) takes the call; the agent's part ends."""
        call = self._talking(call_id, "complete transfer")
        consult = self._consult(call)
        if consult.state != TALKING:
            raise IllegalTransition("party", consult.id, consult.state, "transfer target")
        owner = self.agents[call.agent_id]
        now = self.clock.now()
        self._emit(CallTransferred(now, call.id, owner.id, "attended", consult.kind, consult.target,
                                   call.queue, call.priority))
        self._take_over(call, owner, consult, now)

    @operation
    def leave(self, call_id: str, agent_id: str) -> None:
        """`agent_id` leaves the conference: a party simply goes; the call's agent hands the
        call to an agent who stays (the first to have joined) or to the number left."""
        call = self._talking(call_id, "leave")
        parties = call.parties or {}
        if agent_id != call.agent_id:
            p = self._party(call, agent_id)
            now = self.clock.now()
            self._emit(PartyLeft(now, call.id, agent_id, "left"))
            self._drop(call, p, now, "left")
            return
        talking = [p for p in parties.values() if p.role == CONFERENCE and p.state == TALKING]
        heir = next((p for p in talking if p.kind == AGENT), talking[0] if talking else None)
        if heir is None:
            raise IllegalTransition("agent", agent_id, "alone with the caller", "leave")
        owner = self.agents[call.agent_id]
        now = self.clock.now()
        self._emit(CallTransferred(now, call.id, owner.id, CONFERENCE, heir.kind, heir.target,
                                   call.queue, call.priority))
        self._take_over(call, owner, heir, now)

    # -- supervisors -----------------------------------------------------------------------

    @operation
    def monitor(self, call_id: str, supervisor: str, mode: str) -> None:
        """A supervisor listens, whispers to the agent or barges in (or changes mode)."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        call = self._talking(call_id, mode)
        current = (call.monitors or {}).get(supervisor)
        if current is not None and current[0] == mode:
            return
        now = self.clock.now()
        self._emit(CallMonitored(now, call.id, supervisor, mode, call.agent_id))
        if call.monitors is None:
            call.monitors = {}
        call.monitors[supervisor] = (mode, now)

    @operation
    def unmonitor(self, call_id: str, supervisor: str, reason: str = "stopped") -> None:
        call = self.call(call_id)
        if call.monitors is None or supervisor not in call.monitors:
            raise IllegalTransition("supervisor", supervisor, "not monitoring", f"stop on {call_id!r}")
        self._emit(CallMonitorEnded(self.clock.now(), call.id, supervisor, reason))
        del call.monitors[supervisor]

    # -- the engine's hook -----------------------------------------------------------------

    def _call_over(self, call: Call) -> None:
        """`call` ended (its agent's part is closed): its third parties and supervisors go."""
        now = self.clock.now()
        self._end_monitors(call, "call_ended")
        for p in list((call.parties or {}).values()):
            self._emit(PartyLeft(now, call.id, p.id, "call_ended"))
            self._drop(call, p, now, "call_ended")

    # -- helpers ---------------------------------------------------------------------------

    def _talking(self, call_id: str, what: str) -> Call:
        call = self.call(call_id)
        if call.state is not CallState.ON_CALL:
            raise IllegalTransition("call", call.id, call.state.value, what)
        return call

    def _party(self, call: Call, party: str) -> Party:
        p = (call.parties or {}).get(party)
        if p is None:
            raise IllegalTransition("call", call.id, f"without party {party!r}", "party operation")
        assert isinstance(p, Party)
        return p

    def _consult(self, call: Call) -> Party:
        for p in (call.parties or {}).values():
            if p.role == CONSULT:
                assert isinstance(p, Party)
                return p
        raise IllegalTransition("call", call.id, "not consulting", "consult operation")

    def _end_monitors(self, call: Call, reason: str) -> None:
        if call.monitors:
            now = self.clock.now()
            for supervisor in list(call.monitors):
                self._emit(CallMonitorEnded(now, call.id, supervisor, reason))
            call.monitors = None

    def _take_over(self, call: Call, owner: Agent, heir: Party, now: float) -> None:
        """`heir` (a talking party) becomes the call's agent, or takes it out of the ACD."""
        assert call.parties is not None
        del call.parties[heir.id]
        self._segment(call, heir.id, heir.role, heir.answered_at, now)
        self._hand_off(call, owner, now, "transferred")
        if heir.kind == NUMBER:
            for p in list(call.parties.values()):
                self._emit(PartyLeft(now, call.id, p.id, "call_ended"))
                self._drop(call, p, now, "call_ended")
            self._leave_acd(call)
            return
        call.agent_id = heir.target
        call.answered_at = now
        if not call.parties:
            call.parties = None

    def _hand_off(self, call: Call, owner: Agent, now: float, reason: str) -> None:
        """The owner's part of `call` ends while the call goes on (elsewhere)."""
        self._end_monitors(call, reason)
        self._segment(call, owner.id, AGENT, call.answered_at, now)
        self._release(owner, call, call.answered_at, now)

    def _segment(self, call: Call, party: str, role: str, started: float, now: float) -> None:
        if SegmentEnded in self._wants:
            self._emit(SegmentEnded(now, call.id, party, role, started, now - started, call.queue))

    def _release(
        self, agent: Agent, call: Call, talked_since: float, now: float, queue: str = "", held: bool = True
    ) -> None:
        """`agent` talked on `call` (in `queue`, the call's by default) and its part is over:
        wrap-up, as after a call it ended. `held`: the call is still in the agent's calls."""
        if held:
            del agent.calls[call.id]
        log = agent.talk_log
        log.append((talked_since, now))
        drop_talks_before(log, now - self.occupancy_window)
        ended = Call(call.id, queue or call.queue, arrived_at=call.arrived_at, seq=-1)
        ended.state = CallState.ENDED
        agent.call_id = call.id
        agent.last_ended = ended
        if agent.calls:
            self._on_call_changed(agent)
            return
        self._set_state(agent, AgentState.WRAP_UP, call_id=call.id)
        self._schedule_wrap(agent, ended)

    def _drop(self, call: Call, p: Party, now: float, reason: str) -> None:
        """Party `p` is gone from `call` (its event is emitted)."""
        assert call.parties is not None
        del call.parties[p.id]
        if not call.parties:
            call.parties = None
        if p.timer is not None:
            p.timer.cancel()
            p.timer = None
        if p.state == TALKING:
            self._segment(call, p.id, p.role, p.answered_at, now)
        if p.kind != AGENT:
            return
        agent = self.agents[p.target]
        if p.state == TALKING:
            self._release(agent, call, p.answered_at, now)
            return
        del agent.calls[call.id]
        if agent.pause_pending and not agent.logout_pending:
            pending, agent.pause_pending = agent.pause_pending, ""
            self._set_state(agent, AgentState.PAUSED, pending)
        elif not agent.logout_pending and reason == "no_answer" and self._party_pauses(call, p, agent):
            self._set_state(agent, AgentState.PAUSED, "ring_no_answer")
        else:
            self._set_state(agent, AgentState.AVAILABLE)
            self._agent_free(agent)

    def _party_pauses(self, call: Call, p: Party, agent: Agent) -> bool:
        """A party's offer rang out: the ring-no-answer policy of the queue it was chosen from
        (a consult to a queue), else of the call's queue, says whether the agent pauses."""
        queue = self.queues.get(p.queue) or self.queues[call.queue]
        return ring_policy.rang_out(agent, queue.ring_policy, self.pause_on_ring_no_answer)

    def _leave_acd(self, call: Call) -> None:
        """The call went to an outside number: the ACD is done with it."""
        call.cancel_timers()
        call.state = CallState.ENDED
        call.agent_id = ""
        del self.calls[call.id]
