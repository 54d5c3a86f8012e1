"""Hotline's configuration file (YAML): queues and agents parsed here, into the core's types.

The whole file is first checked against one schema (`hotline.config_schema`, one module per
section): unknown keys, duplicate keys, wrong shapes and out-of-range values are refused all
at once, each error naming the file, the line and the key path, before anything starts.
The YAML is read with limits (size, depth, alias expansion; `ivr.source`).

Adapter sections (`asterisk`, `twilio`, `store`, `speech`, ...) then stay as raw mappings in
`HotlineConfig.sections`; each adapter parses its own section into its own typed settings
(and checks what a schema cannot: environment variables, files, cross references).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from acd.agent import AgentConfig
from acd.aging import Aging
from acd.callbacks import BusinessHours, CallbackPolicy
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy
from acd.ring_policy import RingPolicy
from acd.wait_estimate import Announcements
from hotline.config_validation import ConfigIssue, check_document
from ivr.source import Source, SourceError, YamlLimits, format_path, load_source

CONFIG_LIMITS = YamlLimits(max_bytes=4 * 1024 * 1024, max_depth=32, max_values=500_000)


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file, the line and the key
    (one line per problem)."""


@dataclass(frozen=True)
class AcdSettings:
    pause_on_ring_no_answer: bool = True
    occupancy_window: float = 3600.0
    queue_log: str | None = None  # a file to append Asterisk queue_log lines to (hotline/queue_log.py)


@dataclass(frozen=True)
class HotlineConfig:
    name: str
    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentConfig, ...]
    acd: AcdSettings = AcdSettings()
    sections: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    country: str = "KR"  # national phone numbers are read as this country's (hotline.phone)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.sections.get(name) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.path}: section '{name}' must be a mapping")
        return value

    def resolve(self, relative: str | Path) -> Path:
        """A path from the config file, taken relative to the file's folder."""
        path = Path(relative)
        if path.is_absolute() or self.path is None:
            return path
        return self.path.parent / path


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """`value` as a mapping (None: empty), else a ConfigError naming `where`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def _skills(value: Any, where: str) -> dict[str, int]:
    skills = {}
    for skill, level in as_mapping(value, where).items():
        if not isinstance(level, int) or isinstance(level, bool):
            raise ConfigError(f"{where}.{skill}: level must be an integer 1-10")
        skills[str(skill)] = level
    return skills


def parse_queue(raw: Any, where: str) -> QueueConfig:
    data = as_mapping(raw, where)
    known = {
        "name", "skills", "policy", "service_level", "max_wait", "overflow", "escalation",
        "ring_timeout", "wrap_up", "tier_priority", "description", "aging", "ring_no_answer", "announce",
        "callbacks",
    }
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    if "name" not in data:
        raise ConfigError(f"{where}: a queue needs a name")
    name = str(data["name"])
    where = f"{where}({name})"
    try:
        policy = RoutingPolicy(data.get("policy", RoutingPolicy.LONGEST_IDLE.value))
    except ValueError:
        choices = ", ".join(p.value for p in RoutingPolicy)
        raise ConfigError(f"{where}.policy: {data.get('policy')!r} is not one of {choices}") from None
    sl = as_mapping(data.get("service_level"), f"{where}.service_level")
    policies = queue_policies(data, where)
    steps = []
    for i, raw_step in enumerate(data.get("escalation") or []):
        step = as_mapping(raw_step, f"{where}.escalation[{i}]")
        if "after" not in step:
            raise ConfigError(f"{where}.escalation[{i}]: 'after' (seconds) is required")
        steps.append(
            EscalationStep(
                after=float(step["after"]),
                min_level=step.get("min_level"),
                groups=frozenset(step.get("groups") or ()),
                offer_callback=bool(step.get("offer_callback", False)),
            )
        )
    try:
        return QueueConfig(
            name=name,
            skills=_skills(data.get("skills"), f"{where}.skills"),
            policy=policy,
            sl_target=float(sl.get("target", 0.8)),
            sl_seconds=float(sl.get("seconds", 20)),
            max_wait=None if data.get("max_wait") is None else float(data["max_wait"]),
            overflow=data.get("overflow"),
            escalation=tuple(steps),
            ring_timeout=None if data.get("ring_timeout", 20) is None else float(data.get("ring_timeout", 20)),
            wrap_up=None if data.get("wrap_up", 0) is None else float(data.get("wrap_up", 0)),
            tier_priority={str(k): int(v) for k, v in as_mapping(data.get("tier_priority"), where).items()},
            **policies,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def queue_policies(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A queue's `aging`, `ring_no_answer`, `announce` and `callbacks` keys as the core's types."""
    try:
        return _queue_policies(data, where)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _queue_policies(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    aging = as_mapping(data.get("aging"), f"{where}.aging")
    if aging:
        _only(aging, {"rate", "cap"}, f"{where}.aging")
        if "rate" not in aging or "cap" not in aging:
            raise ConfigError(f"{where}.aging: 'rate' (points per minute) and 'cap' are required")
        out["aging"] = Aging.per_minute(float(aging["rate"]), int(aging["cap"]))
    ring = as_mapping(data.get("ring_no_answer"), f"{where}.ring_no_answer")
    if ring:
        _only(ring, {"pause_after", "reoffer_same_agent", "reoffer_delay"}, f"{where}.ring_no_answer")
        out["ring_policy"] = RingPolicy(
            pause_after=int(ring.get("pause_after", 1)),
            reoffer_same_agent=bool(ring.get("reoffer_same_agent", True)),
            reoffer_delay=float(ring.get("reoffer_delay", 30.0)),
        )
    announce = data.get("announce")
    if announce is not None:
        fields = as_mapping(announce, f"{where}.announce")
        known = {f.name for f in dataclasses.fields(Announcements)}
        _only(fields, known, f"{where}.announce")
        ints = {"window", "min_samples", "handle_window"}
        values: dict[str, Any] = {
            k: (bool(v) if k == "expected_wait" else int(v) if k in ints else float(v)) for k, v in fields.items()
        }
        out["announce"] = Announcements(**values)
    callbacks = data.get("callbacks")
    if callbacks is not None:
        fields = as_mapping(callbacks, f"{where}.callbacks")
        _only(fields, {"hours", "timezone", "merge_same_number"}, f"{where}.callbacks")
        try:
            hours = BusinessHours.parse(as_mapping(fields.get("hours"), f"{where}.callbacks.hours"),
                                        str(fields.get("timezone", "UTC")))
        except KeyError as exc:  # zoneinfo: an unknown time zone
            raise ConfigError(f"{where}.callbacks.timezone: unknown time zone {exc}") from None
        out["callbacks"] = CallbackPolicy(hours, bool(fields.get("merge_same_number", True)))
    return out


def _only(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(known)})")


def parse_agent(raw: Any, where: str) -> AgentConfig:
    data = as_mapping(raw, where)
    if "id" not in data:
        raise ConfigError(f"{where}: an agent needs an id")
    agent_id = str(data["id"])
    try:
        return AgentConfig(
            id=agent_id,
            name=str(data.get("name", "")),
            skills=_skills(data.get("skills"), f"{where}({agent_id}).skills"),
            groups=frozenset(str(g) for g in data.get("groups") or ()),
            capacity=int(data.get("capacity", 1)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}({agent_id}): {exc}") from exc


def _overflow_cycle(queues: tuple[QueueConfig, ...]) -> list[str] | None:
    target = {q.name: q.overflow for q in queues if q.overflow is not None}
    for start in target:
        seen = [start]
        current = target.get(start)
        while current is not None:
            if current == start:
                return [*seen, start]
            if current in seen:
                break
            seen.append(current)
            current = target.get(current)
    return None


def validate(raw: Any, path: Path | None = None, source: Source | None = None) -> None:
    """Check the document against the schema; a ConfigError lists every problem."""
    where = str(path) if path else "config"
    line = source.line if source is not None else (lambda p: None)
    issues = [
        ConfigIssue(tuple(dup), at, "duplicate key (a key may appear once; YAML would keep only the last)")
        for dup, at in (source.duplicates if source is not None else [])
    ]
    issues += check_document(raw, line=line)
    issues.sort(key=lambda i: i.line or 0)
    if issues:
        raise ConfigError("\n".join(issue.format(where) for issue in issues))


def parse_config(raw: Any, path: Path | None = None, source: Source | None = None) -> HotlineConfig:
    where = str(path) if path else "config"
    validate(raw, path, source)
    data = as_mapping(raw, where)
    queues = tuple(parse_queue(q, f"{where}: queues[{i}]") for i, q in enumerate(data.get("queues") or []))
    names = [q.name for q in queues]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ConfigError(f"{where}: queues defined twice: {sorted(dupes)}")
    for q in queues:
        if q.overflow is not None and q.overflow not in names:
            raise ConfigError(f"{where}: queue {q.name!r} overflows to unknown queue {q.overflow!r}")
    cycle = _overflow_cycle(queues)
    if cycle:
        raise ConfigError(f"{where}: queues overflow in a circle: {' -> '.join(cycle)}")
    agents = tuple(parse_agent(a, f"{where}: agents[{i}]") for i, a in enumerate(data.get("agents") or []))
    ids = [a.id for a in agents]
    dupes = {n for n in ids if ids.count(n) > 1}
    if dupes:
        raise ConfigError(f"{where}: agents defined twice: {sorted(dupes)}")
    acd_raw = as_mapping(data.get("acd"), f"{where}: acd")
    acd = AcdSettings(
        pause_on_ring_no_answer=bool(acd_raw.get("pause_on_ring_no_answer", True)),
        occupancy_window=float(acd_raw.get("occupancy_window", 3600.0)),
        queue_log=None if acd_raw.get("queue_log") is None else str(acd_raw["queue_log"]),
    )
    country = str(data.get("country", "KR")).upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{where}: country: {country!r} is not a known ISO 3166 country code")
    sections = {k: v for k, v in data.items() if k not in {"queues", "agents", "acd", "name", "country"}}
    return HotlineConfig(
        name=str(data.get("name", "Hotline")), queues=queues, agents=agents, acd=acd,
        sections=sections, path=path, country=country,
    )


def read_source(path: Path, limits: YamlLimits = CONFIG_LIMITS) -> Source:
    """The YAML document in `path` with the line of every key; unreadable, oversized or
    invalid files are a ConfigError naming the file (and the line)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > limits.max_bytes:
        raise ConfigError(f"{path}: too large (more than {limits.max_bytes} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return load_source(text, str(path), limits)
    except SourceError as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise ConfigError(f"{where}: {exc}") from exc


def read_yaml(path: Path) -> Any:
    """The YAML document in `path` as plain data (see `read_source`); duplicate keys are errors."""
    source = read_source(path)
    if source.duplicates:
        dup, line = source.duplicates[0]
        raise ConfigError(f"{path}:{line}: {format_path(dup)}: duplicate key")
    return source.data


def load_config(path: str | Path) -> HotlineConfig:
    path = Path(path)
    source = read_source(path)
    return parse_config(source.data, path, source)
