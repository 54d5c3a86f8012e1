"""What a simulation runs: queues (the same format as the server's), traffic streams, agent
groups, duration and warm-up. Parsed from a mapping (the YAML file, already loaded)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.agent import AgentConfig
from acd.queue import QueueConfig
from hotline.config import ConfigError, as_mapping, parse_queue

DISTRIBUTIONS = ("exponential", "lognormal", "fixed")
DEFAULT_CALLS = 500_000


@dataclass(frozen=True, slots=True)
class Distribution:
    """A duration in seconds: exponential(mean), lognormal(mean, sd) or fixed(mean)."""

    kind: str
    mean: float
    sd: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTIONS:
            raise ValueError(f"distribution {self.kind!r} is not one of {', '.join(DISTRIBUTIONS)}")
        if self.mean < 0 or (self.kind != "fixed" and self.mean <= 0):
            raise ValueError(f"{self.kind} distribution needs a positive mean")
        if self.kind == "lognormal" and self.sd <= 0:
            raise ValueError("lognormal distribution needs a positive sd")

    def sampler(self, rng: random.Random) -> Any:
        """A function of no argument drawing one value (bound methods: fast in the hot loop)."""
        if self.kind == "exponential":
            rate = 1.0 / self.mean
            draw, log = rng.random, math.log
            return lambda: -log(1.0 - draw()) / rate  # rng.expovariate(rate), one call fewer
        if self.kind == "lognormal":
            # mean and sd of the duration itself -> mu and sigma of its logarithm
            sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
            mu = math.log(self.mean) - sigma2 / 2.0
            sigma = math.sqrt(sigma2)
            return lambda: rng.lognormvariate(mu, sigma)
        value = self.mean
        return lambda: value


@dataclass(frozen=True, slots=True)
class Stream:
    """One Poisson stream of calls into a queue, with what those calls have in common."""

    queue: str
    calls_per_hour: float
    handle: Distribution
    patience: Distribution | None = None
    priority: int = 0
    tier: str = "regular"
    language: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """Logged in from `start` to `end`, seconds from the start of the simulation."""

    start: float
    end: float | None = None


@dataclass(frozen=True, slots=True)
class AgentGroup:
    name: str
    count: int
    skills: Mapping[str, int] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()
    shifts: tuple[Shift, ...] = ()

    def agent_configs(self) -> list[AgentConfig]:
        return [
            AgentConfig(
                id=f"{self.name}-{i + 1}", skills=dict(self.skills), groups=self.groups, name=self.name
            )
            for i in range(self.count)
        ]


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    queues: tuple[QueueConfig, ...]
    streams: tuple[Stream, ...]
    groups: tuple[AgentGroup, ...]
    duration: float | None = None
    warmup: float | None = None
    seed: int = 1
    ring_delay: Distribution | None = None
    unpause_after: float = 30.0
    pause_on_ring_no_answer: bool = True
    occupancy_window: float = 3600.0
    name: str = "simulation"
    announce_all: bool = False  # judge expected-wait estimates in every queue (acd/simulation/extras.py)

    @property
    def duration_seconds(self) -> float:
        """The measured time, or by default long enough for 500,000 calls (at least 8 hours)."""
        if self.duration is not None:
            return self.duration
        per_second = sum(s.calls_per_hour for s in self.streams) / 3600.0
        return max(8 * 3600.0, DEFAULT_CALLS / per_second if per_second > 0 else 0.0)

    @property
    def warmup_seconds(self) -> float:
        """The warm-up, or by default 10 % of the duration but at least 20 mean handle times."""
        if self.warmup is not None:
            return self.warmup
        longest = max((s.handle.mean for s in self.streams), default=0.0)
        return max(0.1 * self.duration_seconds, 20.0 * longest)

    def with_overrides(
        self, *, seed: int | None = None, duration: float | None = None, announce_all: bool | None = None,
        without_aging: bool = False,
    ) -> SimulationConfig:
        """The same simulation with another seed or duration, estimates judged in every queue,
        or every queue's aging switched off (to compare waits per priority)."""
        queues = tuple(dataclasses.replace(q, aging=None) for q in self.queues) if without_aging else self.queues
        return SimulationConfig(
            queues=queues,
            streams=self.streams,
            groups=self.groups,
            duration=self.duration if duration is None else duration,
            warmup=self.warmup,
            seed=self.seed if seed is None else seed,
            ring_delay=self.ring_delay,
            unpause_after=self.unpause_after,
            pause_on_ring_no_answer=self.pause_on_ring_no_answer,
            occupancy_window=self.occupancy_window,
            name=self.name,
            announce_all=self.announce_all if announce_all is None else announce_all,
        )


# -- parsing ---------------------------------------------------------------------------------


def _check_keys(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")


def _number(value: Any, where: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ConfigError(f"{where}: must be a {'positive' if positive else 'non-negative'} number")
    return number


def _skills(value: Any, where: str) -> dict[str, int]:
    skills: dict[str, int] = {}
    for skill, level in as_mapping(value, where).items():
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise ConfigError(f"{where}.{skill}: level must be an integer 1-10")
        skills[str(skill)] = level
    return skills


def parse_distribution(raw: Any, where: str) -> Distribution:
    """`{dist: exponential, mean: 180}`, `{dist: lognormal, mean: 180, sd: 90}`,
    `{dist: fixed, mean: 180}`."""
    data = as_mapping(raw, where)
    _check_keys(data, {"dist", "mean", "sd"}, where)
    if "dist" not in data or "mean" not in data:
        raise ConfigError(f"{where}: needs 'dist' ({', '.join(DISTRIBUTIONS)}) and 'mean' (seconds)")
    try:
        return Distribution(
            kind=str(data["dist"]),
            mean=_number(data["mean"], f"{where}.mean"),
            sd=_number(data.get("sd", 0.0), f"{where}.sd"),
        )
    except ValueError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{where}: {exc}") from exc


def _parse_stream(raw: Any, where: str, queues: set[str]) -> Stream:
    data = as_mapping(raw, where)
    known = {"name", "queue", "calls_per_hour", "handle", "patience", "priority", "tier", "language", "skills"}
    _check_keys(data, known, where)
    for key in ("queue", "calls_per_hour", "handle"):
        if key not in data:
            raise ConfigError(f"{where}: '{key}' is required")
    queue = str(data["queue"])
    if queue not in queues:
        raise ConfigError(f"{where}: queue {queue!r} is not defined under 'queues'")
    priority = data.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConfigError(f"{where}.priority: must be an integer")
    return Stream(
        queue=queue,
        calls_per_hour=_number(data["calls_per_hour"], f"{where}.calls_per_hour"),
        handle=parse_distribution(data["handle"], f"{where}.handle"),
        patience=None
        if data.get("patience") is None
        else parse_distribution(data["patience"], f"{where}.patience"),
        priority=priority,
        tier=str(data.get("tier", "regular")),
        language=str(data.get("language", "")),
        skills=_skills(data.get("skills"), f"{where}.skills"),
        name=str(data.get("name", queue)),
    )


def _parse_group(raw: Any, where: str) -> AgentGroup:
    data = as_mapping(raw, where)
    _check_keys(data, {"group", "count", "skills", "groups", "shifts"}, where)
    if "group" not in data:
        raise ConfigError(f"{where}: an agent group needs a name ('group')")
    name = str(data["group"])
    where = f"{where}({name})"
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigError(f"{where}.count: must be a non-negative integer")
    shifts = []
    for i, raw_shift in enumerate(data.get("shifts") or []):
        shift = as_mapping(raw_shift, f"{where}.shifts[{i}]")
        _check_keys(shift, {"start", "end"}, f"{where}.shifts[{i}]")
        start = _number(shift.get("start", 0), f"{where}.shifts[{i}].start")
        end = None if shift.get("end") is None else _number(shift["end"], f"{where}.shifts[{i}].end")
        if end is not None and end <= start:
            raise ConfigError(f"{where}.shifts[{i}]: end must be after start")
        shifts.append(Shift(start, end))
    ordered = sorted(shifts, key=lambda s: s.start)
    for before, after in itertools.pairwise(ordered):
        if before.end is None or before.end > after.start:
            raise ConfigError(f"{where}.shifts: shifts overlap")
    groups = data.get("groups") or ()
    if isinstance(groups, str):
        raise ConfigError(f"{where}.groups: must be a list")
    return AgentGroup(
        name=name,
        count=count,
        skills=_skills(data.get("skills"), f"{where}.skills"),
        groups=frozenset(str(g) for g in groups),
        shifts=tuple(ordered),
    )


def parse_simulation(raw: Any, where: str = "simulation") -> SimulationConfig:
    """Build a `SimulationConfig` from the loaded YAML mapping; `ConfigError` names the key."""
    data = as_mapping(raw, where)
    known = {
        "name", "seed", "duration", "warmup", "ring_delay", "unpause_after", "acd",
        "queues", "traffic", "agents",
    }
    _check_keys(data, known, where)
    queues = tuple(parse_queue(q, f"{where}: queues[{i}]") for i, q in enumerate(data.get("queues") or []))
    if not queues:
        raise ConfigError(f"{where}: 'queues' must list at least one queue")
    names = [q.name for q in queues]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: a queue is defined twice")
    for q in queues:
        if q.overflow is not None and q.overflow not in names:
            raise ConfigError(f"{where}: queue {q.name!r} overflows to unknown queue {q.overflow!r}")
    streams = tuple(
        _parse_stream(s, f"{where}: traffic[{i}]", set(names)) for i, s in enumerate(data.get("traffic") or [])
    )
    if not streams:
        raise ConfigError(f"{where}: 'traffic' must list at least one stream of calls")
    groups = tuple(_parse_group(g, f"{where}: agents[{i}]") for i, g in enumerate(data.get("agents") or []))
    group_names = [g.name for g in groups]
    if len(set(group_names)) != len(group_names):
        raise ConfigError(f"{where}: an agent group is defined twice")
    acd = as_mapping(data.get("acd"), f"{where}: acd")
    _check_keys(acd, {"pause_on_ring_no_answer", "occupancy_window"}, f"{where}: acd")
    seed = data.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"{where}.seed: must be an integer")
    ring_delay = data.get("ring_delay")
    return SimulationConfig(
        queues=queues,
        streams=streams,
        groups=groups,
        duration=None
        if data.get("duration") is None
        else _number(data["duration"], f"{where}.duration", positive=True),
        warmup=None if data.get("warmup") is None else _number(data["warmup"], f"{where}.warmup"),
        seed=seed,
        ring_delay=None if ring_delay is None else parse_distribution(ring_delay, f"{where}.ring_delay"),
        unpause_after=_number(data.get("unpause_after", 30), f"{where}.unpause_after"),
        pause_on_ring_no_answer=bool(acd.get("pause_on_ring_no_answer", True)),
        occupancy_window=_number(acd.get("occupancy_window", 3600), f"{where}: acd.occupancy_window", positive=True),
        name=str(data.get("name", "simulation")),
    )
