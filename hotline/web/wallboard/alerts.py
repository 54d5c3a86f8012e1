"""Wallboard alerts, pure: a queue breaches its service-level target today, or a caller has
waited longer than the threshold. Compared between checks, so only changes are announced."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SL_BREACH = "sl_breach"
LONG_WAIT = "long_wait"


@dataclass(frozen=True, slots=True)
class Alert:
    queue: str
    kind: str  # SL_BREACH or LONG_WAIT
    value: float  # the service level (0-1) or the longest wait (seconds)
    threshold: float  # the queue's target or the configured wait

    @property
    def key(self) -> tuple[str, str]:
        return (self.queue, self.kind)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What an alert looks at for one queue."""

    queue: str
    offered: int
    service_level: float | None
    sl_target: float
    longest_wait: float


def alerts_for(rows: Iterable[QueueFigures], *, long_wait: float, min_offered: int) -> list[Alert]:
    found = []
    for row in rows:
        if row.offered >= min_offered and row.service_level is not None and row.service_level < row.sl_target:
            found.append(Alert(row.queue, SL_BREACH, row.service_level, row.sl_target))
        if row.longest_wait > long_wait:
            found.append(Alert(row.queue, LONG_WAIT, row.longest_wait, long_wait))
    return found


def changes(before: Iterable[Alert], now: Iterable[Alert]) -> tuple[list[Alert], list[Alert]]:
    """(raised, cleared) between two checks; a standing alert whose value moved is neither."""
    old = {a.key: a for a in before}
    new = {a.key: a for a in now}
    raised = [a for k, a in new.items() if k not in old]
    cleared = [a for k, a in old.items() if k not in new]
    return raised, cleared
