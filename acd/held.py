"""Callback requests the ACD keeps for later: part of the ACD's own state.

A callback request that may not be dialled yet (outside its queue's `callbacks.hours`, or a
slot still to come; acd/callbacks.py) is *held*: kept in `Acd.held` with the caller's first
arrival (its place), and placed in its queue when due, in arrival order with the others, by
a timer of the ACD's clock. Every change is one ACD operation with its event, so the journal,
a replica re-running the stream (acd/replay.py) and a snapshot (acd/snapshot.py) keep held
requests exactly like waiting calls, and their timer is re-armed after a restart or failover:

    hold_callback(acd, request)        -> CallbackHeld
    merge_held(acd, into, call_id, ..) -> CallbackMerged (same number: earlier place, later slot)
    drop_held(acd, call_id, reason)    -> CallbackDropped (called off before it was placed)
    place_held(acd, call_id)           -> CallArrived (waited = since the first arrival), ...
    accept_callback(acd, call_id, ..)  -> CallbackAccepted (a waiting call taken as a callback)

The timer runs `place_due`: every held request due now, in arrival order, each one a
`place_held` (what a replay re-runs for each `CallArrived` of a held call id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acd.call import CallState
from acd.callbacks import CallbackPolicy, Request, apply_merge
from acd.clock import Timer
from acd.dispatch import operation
from acd.errors import AcdError, DuplicateCall, UnknownCall, UnknownQueue
from acd.events import CallbackAccepted, CallbackDropped, CallbackHeld, CallbackMerged

if TYPE_CHECKING:
    from acd.call import Call
    from acd.engine import Acd

REFUSED = "callback_refused"  # reason of a held request the ACD could not place when due
KEPT_PLACED = 1000  # recently placed requests kept for the channel's book (acd/callbacks.py)


@dataclass
class HeldCallbacks:
    requests: dict[str, Request] = field(default_factory=dict)  # call id -> held request
    timer: Timer | None = None
    placed: dict[str, Request] = field(default_factory=dict)  # placed, not yet taken by a book

    def take_placed(self, call_id: str) -> Request | None:
        return self.placed.pop(call_id, None)


def policy(acd: Acd, queue: str) -> CallbackPolicy:
    config = acd.queues.get(queue)
    return (config.callbacks if config is not None else None) or CallbackPolicy()


def due_at(acd: Acd, request: Request) -> float | None:
    """When a held request may be placed: its slot's start (or now), moved to the next opening."""
    start = acd.clock.now()
    if request.slot is not None:
        start = max(start, request.slot[0])
    return policy(acd, request.queue).hours.next_open(start)


def request_from_event(event: CallbackHeld) -> Request:
    slot = (event.slot[0], event.slot[1]) if len(event.slot) == 2 else None
    details: dict[str, object] = {"language": event.language, "priority": event.priority, "tier": event.tier,
                                  "skills": dict(event.skills), "source": event.source, "dialed": event.dialed}
    return Request(event.call_id, event.queue, event.number, event.arrived_at, event.at, slot, details)


def _skills(request: Request) -> tuple[tuple[str, int], ...]:
    skills = request.details.get("skills")
    return tuple(sorted((str(k), int(v)) for k, v in skills.items())) if isinstance(skills, dict) else ()


@operation
def hold_callback(acd: Acd, request: Request) -> None:
    """Keep `request` (not placed) until it is due (see the module doc)."""
    if request.call_id in acd.calls or request.call_id in acd.held.requests:
        raise DuplicateCall(request.call_id)
    if request.queue not in acd.queues:
        raise UnknownQueue(request.queue)
    request.placed = False
    acd.held.requests[request.call_id] = request
    if CallbackHeld in acd._wants:
        d = request.details
        acd._emit(CallbackHeld(
            acd.clock.now(), request.call_id, request.queue, request.number, request.arrived_at,
            tuple(request.slot or ()), str(d.get("language", "")), int(str(d.get("priority", 0) or 0)),
            str(d.get("tier", "regular")), _skills(request), str(d.get("source", "")), str(d.get("dialed", "")),
        ))
    _arm(acd)


@operation
def merge_held(acd: Acd, into: str, call_id: str, arrived_at: float, slot: tuple[float, float] | None) -> Request:
    request = acd.held.requests.get(into)
    if request is None:
        raise UnknownCall(into)
    apply_merge(request, call_id, arrived_at, slot)
    if CallbackMerged in acd._wants:
        acd._emit(CallbackMerged(acd.clock.now(), call_id, into, arrived_at, tuple(slot or ())))
    _arm(acd)
    return request


@operation
def drop_held(acd: Acd, call_id: str, reason: str = "callback_cancelled") -> Request | None:
    request = acd.held.requests.pop(call_id, None)
    if request is None:
        return None
    if CallbackDropped in acd._wants:
        acd._emit(CallbackDropped(acd.clock.now(), call_id, request.queue, reason))
    _arm(acd)
    return request


@operation
def accept_callback(acd: Acd, call_id: str, number: str, source: str) -> Call:
    """A waiting call becomes a callback to `number` with its place (caller and source change,
    so a restart or another node tells it apart from a caller on hold)."""
    call = acd.call(call_id)
    if call.state is not CallState.QUEUED:
        raise AcdError(f"call {call_id!r} is {call.state.value}, not queued: no callback taken")
    call.caller = number
    call.source = source
    if CallbackAccepted in acd._wants:
        acd._emit(CallbackAccepted(acd.clock.now(), call_id, call.queue, number, source))
    return call


@operation
def place_held(acd: Acd, call_id: str) -> Call:
    """The held request enters its queue now, its wait counted from the first arrival."""
    request = acd.held.requests.get(call_id)
    if request is None:
        raise UnknownCall(call_id)
    d = request.details
    now = acd.clock.now()
    del acd.held.requests[call_id]  # first: `arrive` refuses a held call id
    try:
        call = acd.arrive(
            call_id, request.queue, caller=request.number, language=str(d.get("language", "")),
            priority=int(str(d.get("priority", 0) or 0)), tier=str(d.get("tier", "regular")),
            skills=dict(_skills(request)), source=str(d.get("source", "")), dialed=str(d.get("dialed", "")),
            waited=now - request.arrived_at,
        )
    except AcdError:
        acd.held.requests[call_id] = request
        raise
    request.placed = True
    request.attempts += 1
    acd.held.placed[call_id] = request
    while len(acd.held.placed) > KEPT_PLACED:
        del acd.held.placed[next(iter(acd.held.placed))]
    _arm(acd)
    return call


@operation
def place_due(acd: Acd) -> list[Request]:
    """Place every held request due now, in the order callers arrived (the timer)."""
    acd.held.timer = None
    now = acd.clock.now()
    due = sorted(
        (r for r in acd.held.requests.values() if (t := due_at(acd, r)) is not None and t <= now),
        key=lambda r: (r.arrived_at, r.requested_at, r.call_id),
    )
    placed = []
    for request in due:
        try:
            place_held(acd, request.call_id)
        except AcdError:  # refused (its queue's configuration changed): not kept forever
            drop_held(acd, request.call_id, reason=REFUSED)
        else:
            placed.append(request)
    _arm(acd)
    return placed


def _arm(acd: Acd) -> None:
    """One timer, for the earliest held request (re-armed after every change)."""
    held = acd.held
    if held.timer is not None:
        held.timer.cancel()
        held.timer = None
    times = [t for r in held.requests.values() if (t := due_at(acd, r)) is not None]
    if times:
        now = acd.clock.now()
        held.timer = acd.clock.call_later(max(0.0, min(times) - now), lambda: _fire(acd))


def _fire(acd: Acd) -> None:
    place_due(acd)


def rearm(acd: Acd) -> None:
    """After a restore: the timer of the held requests on the ACD's (replay) clock."""
    _arm(acd)


class LivePolicies(Mapping[str, CallbackPolicy]):
    """The queues' callback policies as the ACD has them now (live edits included)."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    def __getitem__(self, queue: str) -> CallbackPolicy:
        config = self.acd.queues[queue]
        if config.callbacks is None:
            raise KeyError(queue)
        return config.callbacks

    def __iter__(self) -> Iterator[str]:
        return (name for name, q in self.acd.queues.items() if q.callbacks is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class AcdKeeper:
    """The ACD as a `CallbackBook`'s keeper (acd/callbacks.py)."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    @property
    def held(self) -> Mapping[str, Request]:
        return self.acd.held.requests

    def hold(self, request: Request) -> None:
        hold_callback(self.acd, request)

    def merge(self, into: str, call_id: str, arrived_at: float, slot: tuple[float, float] | None) -> None:
        merge_held(self.acd, into, call_id, arrived_at, slot)

    def drop(self, call_id: str) -> Request | None:
        return drop_held(self.acd, call_id)

    def take_placed(self, call_id: str) -> Request | None:
        return self.acd.held.take_placed(call_id)


# -- plain data (snapshot) --------------------------------------------------------------------


def held_data(acd: Acd) -> list[dict[str, Any]]:
    return [
        {"call_id": r.call_id, "queue": r.queue, "number": r.number, "arrived_at": r.arrived_at,
         "requested_at": r.requested_at, "slot": list(r.slot) if r.slot is not None else None,
         "details": {**r.details, "skills": dict(_skills(r))}, "merged": list(r.merged), "attempts": r.attempts}
        for r in acd.held.requests.values()
    ]


def restore_held(acd: Acd, items: list[Mapping[str, Any]]) -> None:
    for item in items:
        slot = item.get("slot")
        request = Request(
            str(item["call_id"]), str(item["queue"]), str(item["number"]), float(item["arrived_at"]),
            float(item["requested_at"]), (float(slot[0]), float(slot[1])) if slot else None,
            dict(item.get("details") or {}), [str(m) for m in item.get("merged") or ()],
            attempts=int(item.get("attempts", 0)),
        )
        if request.queue not in acd.queues:
            raise ValueError(f"held callback {request.call_id!r} is for queue {request.queue!r}, not configured")
        acd.held.requests[request.call_id] = request
    _arm(acd)
