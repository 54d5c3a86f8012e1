"""The `desk` section of the config: the codes people pick in the desktop and the case pages.

    desk:
      pause_reasons: [break, lunch, training, meeting]
      dispositions: [resolved, callback, transferred, information, complaint]
      resolution_codes: [answered, refunded, rebooked, compensated, no_action, duplicate]
      categories: [ticketing, refund, baggage, complaint, consultation, emergency]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hotline.config import ConfigError, HotlineConfig

DEFAULTS: dict[str, tuple[str, ...]] = {
    "pause_reasons": ("break", "lunch", "training", "meeting"),
    "dispositions": ("resolved", "callback", "transferred", "information", "complaint"),
    "resolution_codes": ("answered", "refunded", "rebooked", "compensated", "no_action", "duplicate"),
    "categories": ("ticketing", "refund", "baggage", "complaint", "consultation", "emergency"),
}


@dataclass(frozen=True)
class DeskSettings:
    pause_reasons: tuple[str, ...] = DEFAULTS["pause_reasons"]
    dispositions: tuple[str, ...] = DEFAULTS["dispositions"]
    resolution_codes: tuple[str, ...] = DEFAULTS["resolution_codes"]
    categories: tuple[str, ...] = DEFAULTS["categories"]


def parse_desk_section(raw: Mapping[str, Any], where: str) -> DeskSettings:
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, tuple[str, ...]] = {}
    for key, default in DEFAULTS.items():
        given = raw.get(key, default)
        if not isinstance(given, list | tuple) or not given or not all(
            isinstance(v, str) and v.strip() and len(v) <= 64 for v in given
        ):
            raise ConfigError(f"{where}.{key}: a non-empty list of codes (text, at most 64 characters)")
        values[key] = tuple(given)
    return DeskSettings(**values)


DESK_KEY = web.AppKey("desk_settings", DeskSettings)


def install_desk(app: web.Application, config: HotlineConfig) -> DeskSettings:
    """Parse the section at start (a bad one stops the start, naming the file and key)."""
    where = f"{config.path}: desk" if config.path else "desk"
    app[DESK_KEY] = settings = parse_desk_section(config.section("desk"), where)
    return settings
