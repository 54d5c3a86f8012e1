"""The service report as plain data: figures per queue and overall, a time series, and each
figure checked against the hotline's standards. Pure: no database, no clock.

Definitions (calls counted: those that reached a queue and started inside the range):

- offered: calls counted; answered: calls an agent answered; abandoned: callers who hung up
  waiting; short abandons: those of them who hung up within the standard's
  `short_abandon_seconds` (counted in abandoned too, shown apart); callbacks: callers who took a callback instead of waiting;
- answer rate: answered / offered; abandon rate: abandoned / offered;
- service level: answered within the threshold / offered (per queue: the queue's own
  threshold; the overall row and the series: the standard's threshold);
- ASA: mean wait of answered calls; average talk: mean talk time of answered calls;
- cases: cases opened in the range (per queue: the queue of the call that opened the case;
  cases opened without a call count in the overall row only); overdue: resolved after their SLA due time, or still
  unresolved past it at the report's time; complaints in time: complaint cases not overdue;
- first-contact resolution: resolved cases with exactly one linked call / resolved cases;
- satisfaction: survey answers (any question, 1-5) of those calls scoring 4 or 5 / answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Standards:
    """The hotline standards a report is checked against (shares are 0-1)."""

    sl_seconds: float = 30.0
    sl_target: float = 0.80
    answer_rate: float = 0.95
    complaints_in_time: float = 1.0
    first_contact_resolution: float = 0.80
    satisfaction: float = 0.90
    short_abandon_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class QueueTarget:
    """A queue's own service-level definition (from its `service_level` in the config)."""

    sl_seconds: float
    sl_target: float


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    value: float | None
    target: float
    passed: bool | None  # None: nothing to measure (no calls, no cases, no answers)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts and sums; every rate is derived from them, so figures add up across queues."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandons: int = 0  # abandoned within the standard's short_abandon_seconds
    callbacks: int = 0
    within: int = 0  # answered within the row's service-level threshold
    wait_sum: float = 0.0  # waits of answered calls
    talked: int = 0
    talk_sum: float = 0.0
    cases_opened: int = 0
    cases_overdue: int = 0
    cases_resolved: int = 0
    resolved_first_contact: int = 0
    complaints: int = 0
    complaints_overdue: int = 0
    survey_answers: int = 0
    survey_satisfied: int = 0

    @property
    def answer_rate(self) -> float | None:
        return _ratio(self.answered, self.offered)

    @property
    def abandon_rate(self) -> float | None:
        return _ratio(self.abandoned, self.offered)

    @property
    def service_level(self) -> float | None:
        return _ratio(self.within, self.offered)

    @property
    def asa(self) -> float | None:
        return _ratio(self.wait_sum, self.answered)

    @property
    def average_talk(self) -> float | None:
        return _ratio(self.talk_sum, self.talked)

    @property
    def complaints_in_time(self) -> float | None:
        return _ratio(self.complaints - self.complaints_overdue, self.complaints)

    @property
    def first_contact_resolution(self) -> float | None:
        return _ratio(self.resolved_first_contact, self.cases_resolved)

    @property
    def satisfaction(self) -> float | None:
        return _ratio(self.survey_satisfied, self.survey_answers)

    def to_dict(self) -> dict[str, Any]:
        rates = (
            "answer_rate", "abandon_rate", "service_level", "asa", "average_talk",
            "complaints_in_time", "first_contact_resolution", "satisfaction",
        )
        return {**asdict(self), **{name: getattr(self, name) for name in rates}}


@dataclass(frozen=True, slots=True)
class QueueReport:
    queue: str  # "all" for the overall row
    sl_seconds: float
    sl_target: float
    figures: Figures

    def checks(self, standards: Standards) -> tuple[Check, ...]:
        f = self.figures

        def check(name: str, value: float | None, target: float) -> Check:
            return Check(name, value, target, None if value is None else value >= target)

        return (
            check("service_level", f.service_level, self.sl_target),
            check("answer_rate", f.answer_rate, standards.answer_rate),
            check("complaints_in_time", f.complaints_in_time, standards.complaints_in_time),
            check("first_contact_resolution", f.first_contact_resolution, standards.first_contact_resolution),
            check("satisfaction", f.satisfaction, standards.satisfaction),
        )

    def to_dict(self, standards: Standards) -> dict[str, Any]:
        return {
            "queue": self.queue, "sl_seconds": self.sl_seconds, "sl_target": self.sl_target,
            **self.figures.to_dict(),
            "checks": [asdict(c) for c in self.checks(standards)],
        }


@dataclass(frozen=True, slots=True)
class Bucket:
    """One hour (or day) of the series; service level at the standard's threshold."""

    start: float
    offered: int
    answered: int
    within: int
    wait_sum: float

    @property
    def service_level(self) -> float | None:
        return _ratio(self.within, self.offered)

    @property
    def asa(self) -> float | None:
        return _ratio(self.wait_sum, self.answered)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "service_level": self.service_level, "asa": self.asa}


@dataclass(frozen=True)
class ServiceReport:
    start: float  # epoch seconds, inclusive
    end: float  # exclusive
    generated_at: float
    interval: float  # seconds per bucket of the series (3600 or 86400)
    standards: Standards
    overall: QueueReport
    queues: tuple[QueueReport, ...]
    series: tuple[Bucket, ...]
    queue_targets: Mapping[str, QueueTarget] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.overall.figures.offered == 0 and self.overall.figures.cases_opened == 0

    def failed(self) -> list[tuple[str, Check]]:
        """(queue, check) of every check that failed."""
        return [
            (row.queue, c)
            for row in (self.overall, *self.queues)
            for c in row.checks(self.standards)
            if c.passed is False
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start, "end": self.end, "generated_at": self.generated_at,
            "interval": self.interval, "standards": asdict(self.standards),
            "overall": self.overall.to_dict(self.standards),
            "queues": [q.to_dict(self.standards) for q in self.queues],
            "series": [b.to_dict() for b in self.series],
        }
