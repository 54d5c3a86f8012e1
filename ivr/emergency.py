"""Emergency override: a supervisor switches it on, emergency nodes in menus read it.

While active, an `emergency` node plays the disruption announcement (the supervisor's text,
per language, or the menu's own) and sends callers to its alternative target instead of the
normal flow. The interpreter only reads the state, at the moment the caller reaches the node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Emergency:
    active: bool = False
    announcement: Mapping[str, str] = field(default_factory=dict)  # language -> text
    since: float = 0.0
    by: str = ""  # supervisor id
    scope: frozenset[str] = frozenset()  # emergency node ids (or names) it applies to; empty: all


class EmergencyState:
    """The current override, shared by every call (one per server; Redis-backed later)."""

    def __init__(self) -> None:
        self._current = Emergency()
        self._listeners: list[Callable[[Emergency], None]] = []

    def current(self) -> Emergency:
        return self._current

    def is_active(self, name: str = "") -> bool:
        cur = self._current
        return cur.active and (not cur.scope or name in cur.scope)

    def activate(
        self,
        at: float,
        by: str,
        announcement: Mapping[str, str] | None = None,
        scope: frozenset[str] = frozenset(),
    ) -> None:
        self._set(Emergency(True, dict(announcement or {}), at, by, scope))

    def clear(self) -> None:
        self._set(Emergency())

    def replace(self, value: Emergency) -> None:
        """Put back a known state (a stored one at start, or the one before a refused change)."""
        self._set(value)

    def subscribe(self, fn: Callable[[Emergency], None]) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn)

    def _set(self, value: Emergency) -> None:
        self._current = value
        for fn in list(self._listeners):
            fn(value)
