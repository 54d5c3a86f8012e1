"""The `ivr:` section of the Hotline config, parsed into typed settings.

    ivr:
      menus: [menus/airline.yaml]     # menu files, relative to the config file
      default_menu: skyrail-main      # the menu for numbers not listed below
      numbers: {"15880000": skyrail-main}   # dialled number -> menu name
      confidence: 0.95                # speech confidence threshold (menus may override)
      max_steps: 50                   # bound on nodes per call (menus may lower it)
      lookup_timeout: 2.0             # seconds for the caller-identification lookup

Reading the files and loading them into a `MenuRegistry` is the wiring's job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.interpreter import IvrSettings


class IvrConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IvrConfig:
    menus: tuple[str, ...] = ()
    default_menu: str | None = None
    numbers: Mapping[str, str] = field(default_factory=dict)
    run: IvrSettings = field(default_factory=IvrSettings)

    def menu_for(self, dialed: str | None) -> str | None:
        """The menu name for a dialled number (digits compared, punctuation ignored)."""
        if dialed:
            digits = "".join(ch for ch in dialed if ch.isdigit() or ch == "+")
            for number, name in self.numbers.items():
                if "".join(ch for ch in number if ch.isdigit() or ch == "+") == digits:
                    return name
        return self.default_menu


_KEYS = {"menus", "default_menu", "numbers", "confidence", "max_steps", "lookup_timeout"}


def _number(data: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise IvrConfigError(f"ivr.{key}: expected a number {low}-{high}, got {value!r}")
    return float(value)


def parse_ivr_settings(section: Mapping[str, Any]) -> IvrConfig:
    unknown = set(section) - _KEYS
    if unknown:
        raise IvrConfigError(f"ivr: unknown keys {sorted(unknown)}")
    menus = section.get("menus") or []
    if not isinstance(menus, list) or not all(isinstance(m, str) for m in menus):
        raise IvrConfigError("ivr.menus: a list of menu file paths")
    numbers = section.get("numbers") or {}
    if not isinstance(numbers, Mapping) or not all(isinstance(v, str) for v in numbers.values()):
        raise IvrConfigError("ivr.numbers: a mapping of dialled number to menu name")
    default = section.get("default_menu")
    if default is not None and not isinstance(default, str):
        raise IvrConfigError("ivr.default_menu: a menu name")
    confidence = _number(section, "confidence", 0.0, 1.0)
    max_steps = _number(section, "max_steps", 1, 1000)
    lookup = _number(section, "lookup_timeout", 0.01, 30.0)
    run = IvrSettings(
        confidence=confidence, max_steps=int(max_steps) if max_steps is not None else None
    )
    if lookup is not None:
        run = dataclasses.replace(run, lookup_timeout=lookup)
    return IvrConfig(tuple(menus), default, {str(k): v for k, v in numbers.items()}, run)
