"""What the simulator reports beside the queue figures: waits per priority (to see what aging
does), and the error band of the expected waits callers would have been told.

Waits per priority: calls counted in the window, grouped by the priority they arrived with
(stream priority + tier bonus, before any aging): answered, abandoned, mean, 90th percentile
and longest wait to answer.

Estimates: a `WaitEstimator` (acd/wait_estimate.py) runs on the simulated ACD; every waiting
call of a queue with `announce` (or of every queue, `SimulationConfig.announce_all`) is
"told" its expected wait when it starts waiting and every `interval` after, exactly as the
channels do; when it is answered each told estimate is compared with the wait that really
followed. The band: bias (mean of real - told), median, 80th and 95th percentile of the
absolute error, share within the queue's margin, and whether the queue would announce the
wait at the end of the run (or the position only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from acd.wait_estimate import quantile


@dataclass(frozen=True, slots=True)
class PriorityReport:
    priority: int
    answered: int
    abandoned: int
    mean_wait: float | None
    p90_wait: float | None
    longest_wait: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "priority": self.priority, "answered": self.answered, "abandoned": self.abandoned,
            "mean_wait": self.mean_wait, "p90_wait": self.p90_wait, "longest_wait": self.longest_wait,
        }


@dataclass(frozen=True, slots=True)
class EstimateReport:
    queue: str
    samples: int
    bias: float
    p50_abs_error: float
    p80_abs_error: float
    p95_abs_error: float
    within_margin: float
    margin: float
    announces_wait: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue, "samples": self.samples, "bias": self.bias,
            "p50_abs_error": self.p50_abs_error, "p80_abs_error": self.p80_abs_error,
            "p95_abs_error": self.p95_abs_error, "within_margin": self.within_margin,
            "margin": self.margin, "announces_wait": self.announces_wait,
        }


class PriorityWaits:
    """Waits of counted calls by arrival priority."""

    def __init__(self) -> None:
        self.waits: dict[int, list[float]] = {}
        self.abandoned: dict[int, int] = {}

    def answered(self, priority: int, wait: float) -> None:
        self.waits.setdefault(priority, []).append(wait)

    def gave_up(self, priority: int) -> None:
        self.abandoned[priority] = self.abandoned.get(priority, 0) + 1

    def report(self) -> tuple[PriorityReport, ...]:
        rows = []
        for priority in sorted(set(self.waits) | set(self.abandoned), reverse=True):
            waits = self.waits.get(priority, [])
            rows.append(
                PriorityReport(
                    priority=priority,
                    answered=len(waits),
                    abandoned=self.abandoned.get(priority, 0),
                    mean_wait=sum(waits) / len(waits) if waits else None,
                    p90_wait=quantile(waits, 0.9) if waits else None,
                    longest_wait=max(waits, default=0.0),
                )
            )
        return tuple(rows)


def estimate_report(queue: str, errors: list[float], margin: float, announces: bool) -> EstimateReport:
    absolute = [abs(e) for e in errors]

    def q(share: float) -> float:
        return quantile(absolute, share) if absolute else math.nan

    return EstimateReport(
        queue=queue,
        samples=len(errors),
        bias=sum(errors) / len(errors) if errors else math.nan,
        p50_abs_error=q(0.5),
        p80_abs_error=q(0.8),
        p95_abs_error=q(0.95),
        within_margin=sum(1 for a in absolute if a <= margin) / len(absolute) if absolute else math.nan,
        margin=margin,
        announces_wait=announces,
    )
