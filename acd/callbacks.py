"""Fair callbacks: when a callback request is dialled, in which order, and how it ended.

Pure (an injected clock; no I/O). The channel adapters (asterisk/callback.py) hand every
accepted callback to a `CallbackBook` instead of the ACD, and the book places requests into
the ACD when they are due:

- **Original place**: requests are placed in the order callers *arrived* (their first arrival
  in the hotline, kept through merges and retries), before any call that arrived later.
- **Business hours**: a queue's `callbacks.hours` (weekly windows in the queue's time zone)
  bound when its requests are dialled; a request made after hours is placed at the next
  opening, in arrival order with the others that waited.
- **Merging**: a second request from the same number while one is open (waiting in the book
  or in the ACD) is merged into it: one callback, the earlier place, the later slot asked.
- **Slots**: a caller may ask for a time slot (from, until); the request is placed at its
  start (if within hours), and a slot that ended before it could be placed is still served
  at the next opening rather than dropped.
- **Outcomes**: `reached`, `no_answer` (the customer not reached after the attempts), or
  `cancelled`; kept per request and counted per queue and outcome by `report()`.

With a `Keeper` (the ACD itself: acd/held.py, `AcdKeeper`), requests not due yet are held in
the ACD's state (journal, snapshot, replicas) and placed by the ACD's timer, so they survive a
restart or failover; without one (a bare book) the adapter's timer calls `place_due`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Weekly windows: day -> ((start minute, end minute), ...) in `timezone` (empty: always open)."""

    windows: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    timezone: str = "UTC"

    @classmethod
    def parse(cls, hours: Mapping[str, str | list[str]], timezone: str = "UTC") -> BusinessHours:
        """`{mon: "09:00-18:00", sat: ["09:00-12:00", "13:00-15:00"]}`; days not named are closed."""
        windows: dict[str, tuple[tuple[int, int], ...]] = {}
        for day, spans in hours.items():
            if day not in DAYS:
                raise ValueError(f"callbacks.hours: {day!r} is not one of {', '.join(DAYS)}")
            items = [spans] if isinstance(spans, str) else list(spans)
            parsed = []
            for span in items:
                try:
                    start, end = (_minutes(part) for part in span.split("-"))
                except ValueError:
                    raise ValueError(f"callbacks.hours.{day}: {span!r} is not HH:MM-HH:MM") from None
                if end <= start:
                    raise ValueError(f"callbacks.hours.{day}: {span!r} ends before it starts")
                parsed.append((start, end))
            windows[day] = tuple(sorted(parsed))
        ZoneInfo(timezone)  # unknown zone: ZoneInfoNotFoundError (a KeyError) now, not later
        return cls(windows, timezone)

    def data(self) -> dict[str, list[str]]:
        """The configuration file's form (`parse` reads it back)."""
        return {day: [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans]
                for day, spans in self.windows.items()}

    def is_open(self, at: float) -> bool:
        if not self.windows:
            return True
        local = dt.datetime.fromtimestamp(at, ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.windows.get(DAYS[local.weekday()], ()))

    def next_open(self, at: float) -> float | None:
        """The first moment at or after `at` the hours are open (None: never open)."""
        if not self.windows:
            return at
        if self.is_open(at):
            return at
        zone = ZoneInfo(self.timezone)
        local = dt.datetime.fromtimestamp(at, zone)
        for offset in range(8):
            day = (local + dt.timedelta(days=offset)).date()
            for start, _ in self.windows.get(DAYS[day.weekday()], ()):
                opening = dt.datetime.combine(day, dt.time(start // 60, start % 60), zone).timestamp()
                if opening >= at:
                    return opening
        return None


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60 or not 0 <= int(minutes) < 60:
        raise ValueError(text)
    return value


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """Per queue: business hours for dialling, and whether same-number requests merge."""

    hours: BusinessHours = BusinessHours()
    merge_same_number: bool = True


@dataclass(slots=True)
class Request:
    call_id: str  # the ACD call this request becomes (the first caller's)
    queue: str
    number: str
    arrived_at: float  # the caller's first arrival: its place
    requested_at: float
    slot: tuple[float, float] | None = None
    details: dict[str, object] = field(default_factory=dict)  # language, priority, tier, skills, dialed
    merged: list[str] = field(default_factory=list)  # call ids of later requests folded in
    placed: bool = False
    attempts: int = 0
    outcome: Outcome | None = None


Place = Callable[[Request], None]


def apply_merge(request: Request, call_id: str, arrived_at: float, slot: tuple[float, float] | None) -> None:
    """Fold a later request of the same number (`call_id`) into `request`."""
    request.merged.append(call_id)
    request.arrived_at = min(request.arrived_at, arrived_at)
    if slot is not None and not request.placed:
        request.slot = slot


class Keeper(Protocol):
    """Where requests not due yet are kept and placed when due (the ACD: acd/held.py)."""

    @property
    def held(self) -> Mapping[str, Request]: ...

    def hold(self, request: Request) -> None: ...

    def merge(self, into: str, call_id: str, arrived_at: float, slot: tuple[float, float] | None) -> None: ...

    def drop(self, call_id: str) -> Request | None: ...

    def take_placed(self, call_id: str) -> Request | None: ...


class CallbackBook:
    """Callback requests not yet dialled or done; places them into the ACD when due."""

    def __init__(
        self, now: Callable[[], float], policies: Mapping[str, CallbackPolicy], place: Place,
        keeper: Keeper | None = None,
    ) -> None:
        self._now = now
        self.policies = policies  # may be live (acd/held.py, `LivePolicies`)
        self._place = place
        self.keeper = keeper
        self._open: dict[str, Request] = {}  # call id -> request not finished (held ones: see keeper)
        self.done: list[Request] = []
        self.hooks: list[Callable[[Request], None]] = []  # called with each finished request

    @property
    def open(self) -> dict[str, Request]:
        """Every request not finished: held (kept for later) and placed."""
        if self.keeper is None:
            return self._open
        return {**self.keeper.held, **self._open}

    def adopt(self, request: Request) -> None:
        """A request placed in the ACD before this book saw it (restart, another node)."""
        self._open[request.call_id] = request

    def forget(self, call_id: str) -> None:
        self._open.pop(call_id, None)

    def placed(self, call_id: str) -> Request | None:
        """The keeper placed a held request in the ACD: it stays open here until it ends."""
        request = self.keeper.take_placed(call_id) if self.keeper is not None else None
        if request is not None:
            self._open[call_id] = request
        return self._open.get(call_id)

    def policy(self, queue: str) -> CallbackPolicy:
        return self.policies.get(queue) or CallbackPolicy()

    def by_number(self, queue: str, number: str) -> Request | None:
        return next((r for r in self.open.values() if r.queue == queue and r.number == number), None)

    def request(
        self, call_id: str, queue: str, number: str, *, arrived_at: float | None = None,
        slot: tuple[float, float] | None = None, **details: object,
    ) -> Request:
        """A caller accepted a callback. Returns the request that will serve it (an earlier
        one of the same number when merged). Placed at once when due, else at `due_at`."""
        now = self._now()
        arrived = now if arrived_at is None else min(arrived_at, now)
        if slot is not None and slot[1] <= slot[0]:
            raise ValueError(f"callback {call_id}: slot ends before it starts")
        same = self.by_number(queue, number) if self.policy(queue).merge_same_number else None
        if same is not None:
            if self.keeper is not None and same.call_id in self.keeper.held:
                self.keeper.merge(same.call_id, call_id, arrived, slot)
            else:
                apply_merge(same, call_id, arrived, slot)
            return same
        request = Request(call_id, queue, number, arrived, now, slot, dict(details))
        if self.keeper is None:
            self._open[call_id] = request
            self.place_due()
            return request
        due = self.due_at(request)
        if due is not None and due <= now:
            self._open[call_id] = request
            self._placing(request)
        else:
            self.keeper.hold(request)  # the ACD places it when due
        return request

    def due_at(self, request: Request) -> float | None:
        """When the request may be placed: its slot's start (or now), moved to the next opening."""
        start = self._now()
        if request.slot is not None:
            start = max(start, request.slot[0])
        return self.policy(request.queue).hours.next_open(start)

    def next_due(self) -> float | None:
        """The earliest moment a waiting request becomes due (for the adapter's timer; with
        a keeper, the ACD's own timer places them: None)."""
        if self.keeper is not None:
            return None
        times = [t for r in self._open.values() if not r.placed and (t := self.due_at(r)) is not None]
        return min(times, default=None)

    def place_due(self) -> list[Request]:
        """Place every request due now, in the order callers arrived."""
        if self.keeper is not None:
            return []
        now = self._now()
        due = sorted(
            (r for r in self._open.values() if not r.placed and (t := self.due_at(r)) is not None and t <= now),
            key=lambda r: (r.arrived_at, r.requested_at),
        )
        for request in due:
            self._placing(request)
        return due

    def _placing(self, request: Request) -> None:
        request.placed = True
        request.attempts += 1
        try:
            self._place(request)
        except Exception:
            self._open.pop(request.call_id, None)
            raise

    def finish(self, call_id: str, outcome: Outcome) -> Request | None:
        request = self._open.pop(call_id, None)
        if request is None and self.keeper is not None:
            request = self.keeper.take_placed(call_id) or self.keeper.drop(call_id)
        if request is not None:
            request.outcome = outcome
            self.done.append(request)
            del self.done[:-10_000]
            for hook in self.hooks:
                hook(request)
        return request

    def cancel(self, queue: str, number: str) -> Request | None:
        """The customer no longer wants the callback (not yet dialled, or waiting in the ACD:
        the adapter takes it out of the ACD)."""
        request = self.by_number(queue, number)
        return None if request is None else self.finish(request.call_id, Outcome.CANCELLED)

    def report(self, requests: Iterable[Request] | None = None) -> dict[str, dict[str, int]]:
        """Finished requests per queue and outcome (merged requests counted once, with them)."""
        out: dict[str, dict[str, int]] = {}
        for request in self.done if requests is None else requests:
            if request.outcome is None:
                continue
            row = out.setdefault(request.queue, {o.value: 0 for o in Outcome} | {"merged": 0, "waiting": 0})
            row[request.outcome.value] += 1
            row["merged"] += len(request.merged)
        for request in self.open.values():
            row = out.setdefault(request.queue, {o.value: 0 for o in Outcome} | {"merged": 0, "waiting": 0})
            row["waiting"] += 1
        return out
