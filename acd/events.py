"""Typed events: every state change in the ACD is one of these, delivered to subscribers.

Events are complete enough that the core's state can be rebuilt from the stream, and
they carry what the case store and reports need (times, queue, agent, priority, tier).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Event:
    kind: ClassVar[str] = "event"
    at: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind
        for key, value in data.items():
            if isinstance(value, frozenset | set | tuple):
                data[key] = sorted(value) if isinstance(value, frozenset | set) else list(value)
        return data


@dataclass(frozen=True, slots=True)
class CallArrived(Event):
    kind: ClassVar[str] = "call_arrived"
    call_id: str
    queue: str
    caller: str = ""
    language: str = ""
    priority: int = 0
    tier: str = "regular"
    skills: tuple[tuple[str, int], ...] = ()
    source: str = ""
    dialed: str = ""
    target: str = ""  # the only agent it may be offered to (acd/targeted.py)
    waited: float = 0.0  # seconds waited before (a callback keeps its first arrival's place)

    def to_dict(self) -> dict[str, Any]:
        data = Event.to_dict(self)
        if not self.target:
            del data["target"]  # as before reservations existed
        if not self.waited:
            del data["waited"]  # as before held callbacks existed
        return data


@dataclass(frozen=True, slots=True)
class CallQueued(Event):
    kind: ClassVar[str] = "call_queued"
    call_id: str
    queue: str
    priority: int
    position: int


@dataclass(frozen=True, slots=True)
class CallAssigned(Event):
    """The router chose an agent; the agent's phone starts ringing."""

    kind: ClassVar[str] = "call_assigned"
    call_id: str
    agent_id: str
    queue: str
    priority: int
    wait: float


@dataclass(frozen=True, slots=True)
class CallRingNoAnswer(Event):
    """The offer came back unanswered; `failed` is the pause reason when it never reached the
    agent's phone (`Acd.offer_failed`), "" when it rang out."""

    kind: ClassVar[str] = "call_ring_no_answer"
    call_id: str
    agent_id: str
    queue: str
    failed: str = ""


@dataclass(frozen=True, slots=True)
class CallAnswered(Event):
    kind: ClassVar[str] = "call_answered"
    call_id: str
    agent_id: str
    queue: str
    wait: float


@dataclass(frozen=True, slots=True)
class CallAbandoned(Event):
    kind: ClassVar[str] = "call_abandoned"
    call_id: str
    queue: str
    wait: float
    reason: str = "caller_hangup"


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    kind: ClassVar[str] = "call_ended"
    call_id: str
    agent_id: str
    queue: str
    talk: float
    disposition: str = ""


@dataclass(frozen=True, slots=True)
class CallDispositioned(Event):
    """The agent set a disposition code (at wrap-up or during the call)."""

    kind: ClassVar[str] = "call_dispositioned"
    call_id: str
    agent_id: str
    code: str


@dataclass(frozen=True, slots=True)
class CallEscalated(Event):
    """A waiting call reached an escalation step of its queue."""

    kind: ClassVar[str] = "call_escalated"
    call_id: str
    queue: str
    step: int
    min_level: int | None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallOverflowed(Event):
    kind: ClassVar[str] = "call_overflowed"
    call_id: str
    from_queue: str
    to_queue: str


@dataclass(frozen=True, slots=True)
class CallbackOffered(Event):
    """Escalation asks the channel to offer the caller a callback (keeping their place)."""

    kind: ClassVar[str] = "callback_offered"
    call_id: str
    queue: str
    wait: float


@dataclass(frozen=True, slots=True)
class CallbackHeld(Event):
    """A callback request kept out of the queue for later (outside the queue's callback hours,
    or a slot still to come; acd/held.py): placed in the queue, with its place, when due."""

    kind: ClassVar[str] = "callback_held"
    call_id: str
    queue: str
    number: str
    arrived_at: float  # the caller's first arrival: its place
    slot: tuple[float, ...] = ()  # (from, until), () for none
    language: str = ""
    priority: int = 0
    tier: str = "regular"
    skills: tuple[tuple[str, int], ...] = ()
    source: str = ""
    dialed: str = ""


@dataclass(frozen=True, slots=True)
class CallbackMerged(Event):
    """A second request of the same number folded into a held one (the earlier place, the
    later slot asked)."""

    kind: ClassVar[str] = "callback_merged"
    call_id: str
    into: str
    arrived_at: float
    slot: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class CallbackAccepted(Event):
    """A waiting caller accepted a callback offer and hung up: the call keeps its place as a
    callback to `number` (its caller and source change; acd/held.py)."""

    kind: ClassVar[str] = "callback_accepted"
    call_id: str
    queue: str
    number: str
    source: str


@dataclass(frozen=True, slots=True)
class CallbackDropped(Event):
    """A held callback request called off before it was placed in the queue."""

    kind: ClassVar[str] = "callback_dropped"
    call_id: str
    queue: str
    reason: str = "callback_cancelled"


@dataclass(frozen=True, slots=True)
class CallAged(Event):
    """A waiting call earned a raise of its priority by waiting (the queue's `aging`)."""

    kind: ClassVar[str] = "call_aged"
    call_id: str
    queue: str
    priority: int


@dataclass(frozen=True, slots=True)
class CallReoffered(Event):
    """A call held from the agent it rang out on (`ring_policy.reoffer_same_agent` false) is
    offered again to whoever is best."""

    kind: ClassVar[str] = "call_reoffered"
    call_id: str
    queue: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged(Event):
    kind: ClassVar[str] = "agent_state_changed"
    agent_id: str
    old: str
    new: str
    reason: str = ""
    call_id: str = ""


@dataclass(frozen=True, slots=True)
class AgentLoggedIn(Event):
    kind: ClassVar[str] = "agent_logged_in"
    agent_id: str
    skills: tuple[tuple[str, int], ...] = ()
    groups: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class AgentPendingChanged(Event):
    """What the agent will do once its calls and wrap-up are over changed while it stays
    busy: `logout(when_free=True)` deferred (`logout` true), withdrawn by `cancel_logout`
    (false), or an extra offer rang out and the agent will pause (`pause` the reason, "" for
    none). The pair is the agent's pending state after the change. Pending requests end with
    the agent's next state change (to paused, logged out or available), not with this event.
    """

    kind: ClassVar[str] = "agent_pending_changed"
    agent_id: str
    logout: bool
    pause: str = ""


# -- transfers, consultations, conferences, supervisors (acd/transfer.py) -------------------


@dataclass(frozen=True, slots=True)
class CallTransferred(Event):
    """The call changed hands. `mode`: `blind` (at once), `attended` (the consulted party
    takes it), `conference` (its agent left a conference to the others). `target_kind`:
    `agent`, `queue` or `number` (the call then leaves the ACD). `queue` and `priority`: the
    call's after the transfer (it keeps its arrival time)."""

    kind: ClassVar[str] = "call_transferred"
    call_id: str
    agent_id: str
    mode: str
    target_kind: str
    target: str
    queue: str
    priority: int


@dataclass(frozen=True, slots=True)
class SegmentEnded(Event):
    """One person's part of a call ended (an agent handing it on, a consulted or conferenced
    party leaving): `party` is an agent id or `tel:<number>`, `role` `agent` (it held the
    call), `consult` or `conference`. A call's segments are these plus its `call_ended`."""

    kind: ClassVar[str] = "segment_ended"
    call_id: str
    party: str
    role: str
    started: float
    talk: float
    queue: str = ""


@dataclass(frozen=True, slots=True)
class PartyAdded(Event):
    """The call's agent rings a third party: to consult it (the caller on hold) or to
    conference it in. `party`: the agent id (chosen from `queue` for a consult to a queue)
    or `tel:<number>`."""

    kind: ClassVar[str] = "party_added"
    call_id: str
    agent_id: str
    party: str
    target_kind: str
    target: str
    role: str
    queue: str = ""


@dataclass(frozen=True, slots=True)
class PartyAnswered(Event):
    kind: ClassVar[str] = "party_answered"
    call_id: str
    party: str


@dataclass(frozen=True, slots=True)
class PartyJoined(Event):
    """The consulted party joins the caller and the agent: a conference of three."""

    kind: ClassVar[str] = "party_joined"
    call_id: str
    party: str


@dataclass(frozen=True, slots=True)
class PartyLeft(Event):
    """A third party is gone: `reason` `cancelled` (consult cancelled), `left` (hung up or
    left the conference), `no_answer`, `failed`, `call_ended`."""

    kind: ClassVar[str] = "party_left"
    call_id: str
    party: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallMonitored(Event):
    """A supervisor listens to (`listen`), coaches (`whisper`: the agent alone hears them)
    or joins (`barge`) the call of `agent_id`; emitted again when the mode changes."""

    kind: ClassVar[str] = "call_monitored"
    call_id: str
    supervisor: str
    mode: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class CallMonitorEnded(Event):
    kind: ClassVar[str] = "call_monitor_ended"
    call_id: str
    supervisor: str
    reason: str = "stopped"


@dataclass(frozen=True, slots=True)
class QueueConfigured(Event):
    """An admin added a queue or changed its configuration live (`data`: the queue as
    canonical JSON, `acd.live_config.queue_data`); its waiting calls keep their places."""

    kind: ClassVar[str] = "queue_configured"
    queue: str
    data: str


@dataclass(frozen=True, slots=True)
class AgentConfigured(Event):
    """An admin added an agent or changed it live (skills, groups, capacity, name, disabled);
    its calls in progress stay. A disabled agent logs out once free and cannot log in."""

    kind: ClassVar[str] = "agent_configured"
    agent_id: str
    skills: tuple[tuple[str, int], ...] = ()
    groups: tuple[str, ...] = ()
    capacity: int = 1
    name: str = ""
    disabled: bool = False


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        CallArrived,
        CallQueued,
        CallAssigned,
        CallRingNoAnswer,
        CallAnswered,
        CallAbandoned,
        CallEnded,
        CallDispositioned,
        CallEscalated,
        CallOverflowed,
        CallbackOffered,
        CallbackHeld,
        CallbackMerged,
        CallbackAccepted,
        CallbackDropped,
        CallAged,
        CallReoffered,
        AgentStateChanged,
        AgentLoggedIn,
        AgentPendingChanged,
        CallTransferred,
        SegmentEnded,
        PartyAdded,
        PartyAnswered,
        PartyJoined,
        PartyLeft,
        CallMonitored,
        CallMonitorEnded,
        QueueConfigured,
        AgentConfigured,
    )
}



def _quick_init(cls: type[Event]) -> None:
    """Replace the frozen dataclass's `__init__` by one that stores each field through its
    slot directly: the generated one calls `object.__setattr__` per field (frozen classes
    refuse plain assignment), which made building an event cost about as much as the ACD
    operation that emits it. Same parameters, defaults and result; still frozen."""
    params, body, env = [], [], {}
    for f in fields(cls):
        if f.default_factory is not MISSING or not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: events take plain defaults only")
        if f.default is MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        env[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's descriptor
        body.append(f"    _set_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]


for _cls in EVENT_TYPES.values():
    _quick_init(_cls)

Subscriber = Callable[[Event], None]


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from `Event.to_dict()` output (e.g. a JSON line or a Redis stream)."""
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("kind")]
    for key in ("skills",):
        if key in fields:
            fields[key] = tuple(tuple(pair) for pair in fields[key])
    if "slot" in fields:
        fields["slot"] = tuple(fields["slot"])
    if "groups" in fields:
        fields["groups"] = tuple(fields["groups"])
    return cls(**fields)
