"""Event delivery of the ACD: subscribers, and operations whose events wait until they are done.

Events are built only for kinds somebody subscribed to (`_wants`), so an ACD nobody listens
to does no work for the rest. They are delivered when the operation that caused them is
complete (`operation`), so a subscriber always sees a consistent ACD and may call back into
it; the events that causes are delivered after the current ones, still in order.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable
from typing import Concatenate, ParamSpec, TypeVar

from acd.events import EVENT_TYPES, Event, Subscriber

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D", bound="EventDispatch")


def operation(method: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """Mark an entry point (a public operation or a timer): the events it emits are delivered
    once it is complete, not half-way through while the ACD is in between states."""

    @functools.wraps(method)
    def run(self: D, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._depth:  # inside another operation: that one delivers
            return method(self, *args, **kwargs)
        self._depth = 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._depth = 0
            if self._pending and not self._dispatching:
                self._flush()

    return run


class EventDispatch:
    def __init__(self) -> None:
        self._subscribers: tuple[tuple[Subscriber, frozenset[type[Event]] | None], ...] = ()
        self._wants: frozenset[type[Event]] = frozenset()
        # kind -> its subscribers in subscription order (only kinds somebody wants)
        self._by_kind: dict[type[Event], tuple[Subscriber, ...]] = {}
        self._pending: deque[Event] = deque()
        self._dispatching = False
        self._depth = 0

    def subscribe(
        self, subscriber: Subscriber, kinds: Iterable[type[Event]] | None = None
    ) -> Callable[[], None]:
        """Deliver events to `subscriber` in order (all kinds, or only `kinds`).

        Events reach subscribers once the operation that caused them is complete. A
        subscriber may call back into the ACD; the events that causes are delivered after the
        current ones, still in order.
        """
        entry = (subscriber, None if kinds is None else frozenset(kinds))
        self._subscribers = (*self._subscribers, entry)
        self._update_wants()

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not entry)
            self._update_wants()

        return unsubscribe

    def _update_wants(self) -> None:
        by_kind: dict[type[Event], tuple[Subscriber, ...]] = {}
        for subscriber, kinds in self._subscribers:
            for kind in EVENT_TYPES.values() if kinds is None else kinds:
                by_kind[kind] = (*by_kind.get(kind, ()), subscriber)
        self._by_kind = by_kind
        self._wants = frozenset(by_kind)

    def _emit(self, event: Event) -> None:
        self._pending.append(event)
        if self._depth == 0 and not self._dispatching:
            self._flush()

    def _flush(self) -> None:
        self._dispatching = True
        try:
            pending = self._pending
            while pending:
                event = pending.popleft()
                for subscriber in self._by_kind.get(type(event), ()):  # a tuple: safe to (un)subscribe
                    subscriber(event)
        finally:
            self._dispatching = False
