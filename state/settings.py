"""The `state:` section of config/hotline.yaml, parsed into `StateSettings`.

    state:
      url: redis://127.0.0.1:6379/0   # no url: in-memory only, nothing published
      stream: hotline:acd:events      # the Redis Stream key
      maxlen: 1000000                 # approximate MAXLEN trimming of the stream
      buffer: 100000                  # events kept while Redis is away; beyond, dropped and counted
      batch: 500                      # events per pipelined write
      timeout: 2.0                    # seconds, every Redis call
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from state.errors import StateConfigError


@dataclass(frozen=True)
class StateSettings:
    url: str
    stream: str = "hotline:acd:events"
    maxlen: int = 1_000_000
    buffer: int = 100_000
    batch: int = 500
    timeout: float = 2.0


def parse_state_settings(raw: Mapping[str, Any] | None) -> StateSettings | None:
    """None when the section is absent or has no url (state stays in memory)."""
    data = {k: v for k, v in dict(raw or {}).items() if k not in DURABILITY_KEYS}
    unknown = set(data) - {"url", "stream", "maxlen", "buffer", "batch", "timeout"}
    if unknown:
        raise StateConfigError(f"state: unknown keys {sorted(unknown)}")
    url = data.get("url")
    if not url:
        return None
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise StateConfigError(f"state: url must be a redis:// URL, not {url!r}")
    stream = data.get("stream", StateSettings.stream)
    if not isinstance(stream, str) or not stream:
        raise StateConfigError("state: stream must be a non-empty string")
    ints = {}
    for key in ("maxlen", "buffer", "batch"):
        value = data.get(key, getattr(StateSettings, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise StateConfigError(f"state: {key} must be a positive integer, not {value!r}")
        ints[key] = value
    timeout = data.get("timeout", StateSettings.timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise StateConfigError(f"state: timeout must be a positive number, not {timeout!r}")
    return StateSettings(url, stream, ints["maxlen"], ints["buffer"], ints["batch"], float(timeout))


# -- durability and leadership (docs/state.md) ------------------------------------------------

MODES = ("memory", "local", "publish", "cluster")
DURABILITY_KEYS = frozenset(
    {"mode", "journal", "snapshot_interval", "snapshot_events", "fsync", "prefix", "lease_ttl",
     "renew_interval", "node_id", "sentinel", "sentinel_service"}
)
# The `state:` keys as a schema fragment (for the strict configuration schema).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "mode": {"enum": list(MODES)},
        "url": {"type": "string", "pattern": "^(redis|rediss|unix)://",
                "description": "a redis://, rediss:// or unix:// URL"},
        "stream": {"type": "string", "minLength": 1},
        "maxlen": {"type": "integer", "minimum": 1},
        "buffer": {"type": "integer", "minimum": 1},
        "batch": {"type": "integer", "minimum": 1},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
        "journal": {"type": "string", "minLength": 1},
        "snapshot_interval": {"type": "number", "exclusiveMinimum": 0},
        "snapshot_events": {"type": "integer", "minimum": 1},
        "fsync": {"type": "boolean"},
        "prefix": {"type": "string", "minLength": 1},
        "lease_ttl": {"type": "number", "exclusiveMinimum": 0},
        "renew_interval": {"type": "number", "exclusiveMinimum": 0},
        "node_id": {"type": "string"},
        "sentinel": {"type": "array", "items": {"type": "string"}},
        "sentinel_service": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Durability:
    """How the ACD's state outlives a process: `memory` (not at all), `local` (journal folder,
    the default), `publish` (events to a Redis Stream only), `cluster` (one fenced leader on
    Redis, snapshots + stream per epoch)."""

    mode: str = "local"
    journal: str = "data/state"  # relative to the config file
    snapshot_interval: float = 30.0
    snapshot_events: int = 20_000
    fsync: bool = False
    redis: StateSettings | None = None
    prefix: str = "hotline"
    lease_ttl: float = 3.0
    renew_interval: float = 0.5
    node_id: str = ""
    sentinel: tuple[str, ...] = ()
    sentinel_service: str = "mymaster"
    explicit: frozenset[str] = frozenset()  # the keys the section gave


def parse_durability(raw: Mapping[str, Any] | None) -> Durability:
    data = dict(raw or {})
    unknown = set(data) - DURABILITY_KEYS - {"url", "stream", "maxlen", "buffer", "batch", "timeout"}
    if unknown:
        raise StateConfigError(f"state: unknown keys {sorted(unknown)}")
    base = {k: v for k, v in data.items() if k not in DURABILITY_KEYS}
    sentinel = data.get("sentinel") or []
    if not isinstance(sentinel, list) or not all(isinstance(s, str) and ":" in s for s in sentinel):
        raise StateConfigError("state: sentinel must be a list of host:port")
    if sentinel and not base.get("url"):
        base["url"] = "redis://sentinel"  # the address comes from the sentinels
    redis = parse_state_settings(base)
    mode = data.get("mode", "cluster" if redis is not None else "local")
    if mode not in MODES:
        raise StateConfigError(f"state: mode must be one of {list(MODES)}, not {mode!r}")
    if mode in ("publish", "cluster") and redis is None:
        raise StateConfigError(f"state: mode {mode} needs a url (or sentinel)")
    journal = data.get("journal", Durability.journal)
    if not isinstance(journal, str) or not journal:
        raise StateConfigError("state: journal must be a folder path")
    numbers = {}
    for key in ("snapshot_interval", "lease_ttl", "renew_interval"):
        value = data.get(key, getattr(Durability, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise StateConfigError(f"state: {key} must be a positive number, not {value!r}")
        numbers[key] = float(value)
    if numbers["renew_interval"] * 3 > numbers["lease_ttl"]:
        raise StateConfigError("state: renew_interval must be at most a third of lease_ttl")
    events = data.get("snapshot_events", Durability.snapshot_events)
    if isinstance(events, bool) or not isinstance(events, int) or events < 1:
        raise StateConfigError(f"state: snapshot_events must be a positive integer, not {events!r}")
    fsync = data.get("fsync", False)
    if not isinstance(fsync, bool):
        raise StateConfigError("state: fsync must be true or false")
    for key in ("prefix", "node_id", "sentinel_service"):
        if not isinstance(data.get(key, ""), str):
            raise StateConfigError(f"state: {key} must be a string")
    return Durability(
        mode=mode, journal=journal, snapshot_interval=numbers["snapshot_interval"], snapshot_events=events,
        fsync=fsync, redis=redis, prefix=data.get("prefix") or "hotline", lease_ttl=numbers["lease_ttl"],
        renew_interval=numbers["renew_interval"], node_id=data.get("node_id", ""),
        sentinel=tuple(sentinel), sentinel_service=data.get("sentinel_service") or "mymaster",
        explicit=frozenset(data),
    )
