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
    data = dict(raw or {})
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
