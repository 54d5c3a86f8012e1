"""Agents and their state machine.

    logged_out -> available <-> ringing -> on_call -> wrap_up -> available
    paused(reason) from available or wrap_up (and from ringing on ring-no-answer)

An agent of capacity > 1 holds several calls at once; its state is the most engaged one
(see `Agent.calls` and docs/acd.md): further offers and answers while on_call keep on_call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from acd.call import Call, CallState
from acd.errors import IllegalTransition


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


LEGAL_TRANSITIONS: Mapping[AgentState, frozenset[AgentState]] = {
    AgentState.LOGGED_OUT: frozenset({AgentState.AVAILABLE}),
    AgentState.AVAILABLE: frozenset(
        {AgentState.RINGING, AgentState.PAUSED, AgentState.LOGGED_OUT}
    ),
    AgentState.RINGING: frozenset({AgentState.ON_CALL, AgentState.AVAILABLE, AgentState.PAUSED}),
    AgentState.ON_CALL: frozenset({AgentState.WRAP_UP}),
    AgentState.WRAP_UP: frozenset({AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT}),
    AgentState.PAUSED: frozenset({AgentState.AVAILABLE, AgentState.LOGGED_OUT}),
}


STATE_SLOT: Mapping[AgentState, int] = {state: i for i, state in enumerate(AgentState)}


def check_transition(agent_id: str, current: AgentState, wanted: AgentState) -> None:
    if wanted not in LEGAL_TRANSITIONS[current]:
        raise IllegalTransition("agent", agent_id, current.value, wanted.value)


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """An agent as configured: skills with proficiency 1-10, groups, concurrent-call capacity."""

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()
    capacity: int = 1
    name: str = ""
    disabled: bool = False  # cannot log in (an admin disabled it; acd.live_config)

    def __post_init__(self) -> None:
        for skill, level in self.skills.items():
            if not 1 <= level <= 10:
                raise ValueError(f"agent {self.id!r}: skill {skill!r} level {level} is not in 1-10")
        if self.capacity < 1:
            raise ValueError(f"agent {self.id!r}: capacity must be at least 1")

    @property
    def profile(self) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
        """Agents with the same profile are interchangeable for eligibility."""
        return tuple(sorted(self.skills.items())), tuple(sorted(self.groups))


def drop_talks_before(log: list[tuple[float, float]], start: float) -> None:
    """Forget the talks of `log` that ended at or before `start`."""
    gone = 0
    for _, end in log:
        if end > start:
            break
        gone += 1
    if gone:
        del log[:gone]


class Agent:
    """An agent's live state. Mutated only by the `Acd`."""

    __slots__ = (
        "call_id",
        "calls",
        "capacity",
        "config",
        "id",
        "idle_since",
        "indexed",
        "last_ended",
        "logout_pending",
        "order_key",
        "pause_pending",
        "pause_reason",
        "rank",
        "ring_outs",
        "seconds",
        "state",
        "state_since",
        "talk_log",
        "wrap_timer",
    )

    def __init__(self, config: AgentConfig, now: float) -> None:
        self.config = config
        self.id = config.id
        self.capacity = config.capacity
        self.state = AgentState.LOGGED_OUT
        self.state_since = now
        # When the agent last became routable or was last offered a call (routing order).
        self.idle_since = now
        self.pause_reason = ""
        self.call_id = ""  # the call last offered or ended
        # Active calls (ringing or talking): the agent's load, at most `capacity`.
        self.calls: dict[str, Call] = {}
        self.last_ended: Call | None = None  # whose wrap-up follows when the last call is gone
        self.logout_pending = False
        # A ring-no-answer while other calls go on: pause (with this reason) after wrap-up.
        self.pause_pending = ""
        self.indexed = False  # in the ACD's index of routable agents (acd.agent_index)
        self.rank = 0  # its place in idle order there
        # Its last wrap-up timer: (arming order, armed at, due at), for a snapshot.
        self.wrap_timer: tuple[int, float, float] | None = None
        self.order_key: tuple[float, float, float, int, Agent] | None = None  # least-occupied
        self.seconds = [0.0] * len(STATE_SLOT)  # time per state (STATE_SLOT), till state_since
        self.talk_log: list[tuple[float, float]] = []  # (answered, ended) within the window
        self.ring_outs = 0  # consecutive offers that rang out (acd.ring_policy)

    @property
    def load(self) -> int:
        """Calls ringing or talking."""
        return len(self.calls)

    def occupancy(self, now: float, window: float) -> float:
        """Share of the last `window` seconds this agent spent talking, per call slot (an
        agent of capacity 2 on two calls the whole window has occupancy 1)."""
        start = now - window
        log = self.talk_log
        drop_talks_before(log, start)
        busy = sum(min(end, now) - max(begin, start) for begin, end in log)
        for call in self.calls.values():
            if call.state is CallState.ON_CALL:
                busy += now - max(call.answered_at, start)
        return busy / (window * self.capacity) if window > 0 else 0.0

    def time_in(self, state: AgentState, now: float) -> float:
        """Seconds spent in `state` since the agent was added (including the current stretch)."""
        total = self.seconds[STATE_SLOT[state]]
        if self.state is state:
            total += now - self.state_since
        return total

    def __repr__(self) -> str:
        return f"Agent({self.id!r}, {self.state.value})"
