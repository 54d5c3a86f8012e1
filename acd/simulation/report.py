"""What a simulation measured, per queue and overall, with Erlang C beside it when it applies.

Definitions (calls counted are those that arrived inside the measurement window, after the
warm-up; each is followed until it is answered or abandoned):

- offered: calls counted; answered / abandoned: what became of them (a call that overflowed
  is still counted in the queue it was offered to);
- service level: answered within the queue's `service_level.seconds` / offered;
- ASA (average speed of answer): mean wait from arrival to answer, over answered calls;
- probability of waiting: share of offered calls no agent could take at arrival;
- abandon rate: abandoned / offered;
- occupancy: time agents spent busy (ringing, talking, wrapping up) / time they were staffed
  (available or busy; paused and logged-out time excluded), inside the window. Per queue: the
  busy time spent on that queue's calls / staffed time of the agents eligible for it.

Beside P(wait), ASA and service level the report gives their standard error by batch means:
the window is cut into `BATCHES` equal spans (by arrival time), the figure is computed per
span, and the spread of those values gives the error of the overall figure. Successive calls'
waits are correlated, so this is wider (and more honest) than a binomial error would be.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acd.erlang import ErlangC, erlang
from acd.queue import requirement_at_step
from acd.simulation.extras import EstimateReport, PriorityReport, estimate_report

if TYPE_CHECKING:
    from acd.simulation.config import SimulationConfig
    from acd.simulation.runner import Simulation


BATCHES = 20
# per batch: offered, waited, answered, answered within the target, sum of waits
_OFFERED, _WAITED, _ANSWERED, _WITHIN, _WAIT_SUM = range(5)


class Tally:
    """Running counts of one queue (overall and per batch of the window)."""

    __slots__ = (
        "abandoned",
        "batches",
        "busy",
        "longest",
        "n_answered",
        "name",
        "offered",
        "sl_seconds",
        "wait_sum",
        "waited",
        "within",
    )

    def __init__(self, name: str, sl_seconds: float) -> None:
        self.name = name
        self.sl_seconds = sl_seconds
        self.offered = 0
        self.waited = 0
        self.n_answered = 0
        self.within = 0
        self.abandoned = 0
        self.wait_sum = 0.0
        self.longest = 0.0
        self.busy = 0.0
        self.batches = [[0.0] * 5 for _ in range(BATCHES)]

    def offer(self, batch: int, waited: bool) -> None:
        self.offered += 1
        row = self.batches[batch]
        row[_OFFERED] += 1
        if waited:
            self.waited += 1
            row[_WAITED] += 1

    def answered(self, wait: float, batch: int) -> None:
        self.n_answered += 1
        self.wait_sum += wait
        row = self.batches[batch]
        row[_ANSWERED] += 1
        row[_WAIT_SUM] += wait
        if wait <= self.sl_seconds:
            self.within += 1
            row[_WITHIN] += 1
        if wait > self.longest:
            self.longest = wait

    def add(self, other: Tally) -> None:
        self.offered += other.offered
        self.waited += other.waited
        self.n_answered += other.n_answered
        self.within += other.within
        self.abandoned += other.abandoned
        self.wait_sum += other.wait_sum
        self.longest = max(self.longest, other.longest)
        for mine, theirs in zip(self.batches, other.batches, strict=True):
            for i, value in enumerate(theirs):
                mine[i] += value

    def standard_errors(self) -> dict[str, float] | None:
        """Batch-means standard errors of p_wait, asa and service_level (None: too few data)."""
        rows = [row for row in self.batches if row[_OFFERED] > 0 and row[_ANSWERED] > 0]
        if len(rows) < BATCHES // 2:
            return None

        def se(values: list[float]) -> float:
            return statistics.stdev(values) / math.sqrt(len(values))

        return {
            "p_wait": se([row[_WAITED] / row[_OFFERED] for row in rows]),
            "asa": se([row[_WAIT_SUM] / row[_ANSWERED] for row in rows]),
            "service_level": se([row[_WITHIN] / row[_OFFERED] for row in rows]),
        }


@dataclass(frozen=True, slots=True)
class QueueReport:
    name: str
    offered: int
    answered: int
    abandoned: int
    unfinished: int
    sl_seconds: float | None
    service_level: float | None
    asa: float | None
    p_wait: float | None
    abandon_rate: float | None
    occupancy: float | None
    longest_wait: float
    sl_target: float | None = None
    erlang: ErlangC | None = None
    standard_errors: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "unfinished": self.unfinished,
            "sl_seconds": self.sl_seconds,
            "sl_target": self.sl_target,
            "service_level": self.service_level,
            "asa": self.asa,
            "p_wait": self.p_wait,
            "abandon_rate": self.abandon_rate,
            "occupancy": self.occupancy,
            "longest_wait": self.longest_wait,
            "standard_errors": self.standard_errors,
        }
        if self.erlang is not None:
            data["erlang_c"] = self.erlang.to_dict()
        return data


@dataclass(frozen=True, slots=True)
class GroupReport:
    name: str
    agents: int
    staffed_hours: float
    occupancy: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agents": self.agents,
            "staffed_hours": self.staffed_hours,
            "occupancy": self.occupancy,
        }


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    seed: int
    warmup: float
    duration: float
    arrivals: int
    simulated_until: float
    queues: tuple[QueueReport, ...]
    overall: QueueReport
    groups: tuple[GroupReport, ...] = field(default=())
    priorities: tuple[PriorityReport, ...] = field(default=())  # waits per arrival priority
    estimates: tuple[EstimateReport, ...] = field(default=())  # told vs real waits, per queue

    def queue(self, name: str) -> QueueReport:
        for q in self.queues:
            if q.name == name:
                return q
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seed": self.seed,
            "warmup": self.warmup,
            "duration": self.duration,
            "arrivals": self.arrivals,
            "simulated_until": self.simulated_until,
            "queues": [q.to_dict() for q in self.queues],
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "priorities": [p.to_dict() for p in self.priorities],
            "estimates": [e.to_dict() for e in self.estimates],
        }


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def erlang_model(config: SimulationConfig) -> ErlangC | None:
    """Erlang C figures when the config is an M/M/N queue, else None.

    M/M/N here: one queue, one Poisson stream with exponential handle times and no patience,
    no maximum wait, no wrap-up and no ring delay, one group of agents without shifts, all
    of whom can take the queue's calls from the start.
    """
    if len(config.queues) != 1 or len(config.streams) != 1 or len(config.groups) != 1:
        return None
    queue, stream, group = config.queues[0], config.streams[0], config.groups[0]
    if stream.handle.kind != "exponential" or stream.patience is not None:
        return None
    if queue.max_wait is not None or (queue.wrap_up or 0.0) > 0:
        return None
    if config.ring_delay is not None and not (
        config.ring_delay.kind == "fixed" and config.ring_delay.mean == 0
    ):
        return None
    if group.shifts or group.count < 1:
        return None
    requirement = requirement_at_step(queue, tuple(sorted(stream.skills.items())), 0)
    if not requirement.satisfied_by(group.skills, group.groups):
        return None
    return erlang(stream.calls_per_hour / 3600.0, stream.handle.mean, group.count, queue.sl_seconds)


def _queue_report(
    tally: Tally, unfinished: int, staffed: float, sl_target: float | None, model: ErlangC | None
) -> QueueReport:
    offered = tally.offered
    return QueueReport(
        name=tally.name,
        offered=offered,
        answered=tally.n_answered,
        abandoned=tally.abandoned,
        unfinished=unfinished,
        sl_seconds=tally.sl_seconds if not math.isnan(tally.sl_seconds) else None,
        service_level=_ratio(tally.within, offered),
        asa=_ratio(tally.wait_sum, tally.n_answered),
        p_wait=_ratio(tally.waited, offered),
        abandon_rate=_ratio(tally.abandoned, offered),
        occupancy=_ratio(tally.busy, staffed),
        longest_wait=tally.longest,
        sl_target=sl_target,
        erlang=model,
        standard_errors=tally.standard_errors(),
    )


def build_report(sim: Simulation) -> Report:
    config = sim.config
    busy_states, staffed_states = sim.busy_states, sim.staffed_states
    agents = sim.acd.agents
    staffed = {a: sum(sim.window_seconds(a, s) for s in staffed_states) for a in agents}
    busy = {a: sum(sim.window_seconds(a, s) for s in busy_states) for a in agents}

    unfinished = {
        name: t.offered - t.n_answered - t.abandoned for name, t in sim.tallies.items()
    }

    model = erlang_model(config)
    queues = []
    for queue in config.queues:
        requirement = requirement_at_step(queue, (), 0)
        eligible_staffed = sum(
            staffed[a.id]
            for a in agents.values()
            if requirement.satisfied_by(a.config.skills, a.config.groups)
        )
        queues.append(
            _queue_report(
                sim.tallies[queue.name], unfinished[queue.name], eligible_staffed, queue.sl_target, model
            )
        )

    total = Tally("overall", math.nan)
    for tally in sim.tallies.values():
        total.add(tally)
    total.busy = sum(busy.values())
    overall = _queue_report(total, sum(unfinished.values()), sum(staffed.values()), None, model)

    groups = []
    for group in config.groups:
        ids = [f"{group.name}-{i + 1}" for i in range(group.count)]
        group_staffed = sum(staffed[i] for i in ids)
        groups.append(
            GroupReport(
                name=group.name,
                agents=group.count,
                staffed_hours=group_staffed / 3600.0,
                occupancy=_ratio(sum(busy[i] for i in ids), group_staffed),
            )
        )
    return Report(
        name=config.name,
        seed=config.seed,
        warmup=sim.start,
        duration=config.duration_seconds,
        arrivals=sim.arrivals,
        simulated_until=sim.clock.now(),
        queues=tuple(queues),
        overall=overall,
        groups=tuple(groups),
        priorities=sim.priority_waits.report(),
        estimates=_estimates(sim),
    )


def _estimates(sim: Simulation) -> tuple[EstimateReport, ...]:
    estimator = sim.estimator
    if estimator is None or estimator.all_errors is None:
        return ()
    return tuple(
        estimate_report(name, estimator.all_errors.get(name, []), estimator.config(name).margin,
                        estimator.reliable(name))
        for name in estimator.settings
    )
