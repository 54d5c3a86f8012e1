"""The `backup:` section of config/hotline.yaml (docs/backup.md).

    backup:
      location: /srv/backup/hotline   # the second location (another disk or a mounted share)
      at: "02:30"                     # UTC time of the daily backup
      full: weekly                    # daily | weekly | monthly: how often a full backup is made
      full_weekday: sunday            # full: weekly -> on this day
      full_day: 1                     # full: monthly -> on this day of the month (1-28)
      keep: {daily: 7, weekly: 5, monthly: 12}
      verify: true                    # verify each scheduled backup in a scratch database
      serve: true                     # `hotline serve` runs the schedule (false: a timer does)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["location"],
    "properties": {
        "location": {"type": "string", "minLength": 1},
        "at": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "full": {"enum": ["daily", "weekly", "monthly"]},
        "full_weekday": {"enum": list(WEEKDAYS)},
        "full_day": {"type": "integer", "minimum": 1, "maximum": 28},
        "keep": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {"type": "integer", "minimum": 0, "maximum": 10000}
                for name in ("daily", "weekly", "monthly")
            },
        },
        "verify": {"type": "boolean"},
        "serve": {"type": "boolean"},
    },
}


class BackupConfigError(ValueError):
    """The `backup:` section is invalid; the message names the key."""


@dataclass(frozen=True)
class Keep:
    daily: int = 7
    weekly: int = 5
    monthly: int = 12


@dataclass(frozen=True)
class BackupSettings:
    location: Path
    at_minutes: int = 2 * 60 + 30  # minutes after midnight UTC
    full: Literal["daily", "weekly", "monthly"] = "weekly"
    full_weekday: int = 6  # Monday 0 .. Sunday 6
    full_day: int = 1
    keep: Keep = Keep()
    verify: bool = True
    serve: bool = True


def parse_backup_settings(raw: Mapping[str, Any] | None, base: Path | None = None) -> BackupSettings | None:
    """None without a section; relative `location` is taken from `base` (the config's folder)."""
    if not raw:
        return None
    data = dict(raw)
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        key = ".".join(["backup", *(str(p) for p in first.path)])
        raise BackupConfigError(f"{key}: {first.message}")
    location = Path(data["location"])
    if base is not None and not location.is_absolute():
        location = base / location
    hours, minutes = (int(part) for part in str(data.get("at", "02:30")).split(":"))
    keep = data.get("keep") or {}
    return BackupSettings(
        location=location,
        at_minutes=hours * 60 + minutes,
        full=data.get("full", "weekly"),
        full_weekday=WEEKDAYS.index(data.get("full_weekday", "sunday")),
        full_day=int(data.get("full_day", 1)),
        keep=Keep(**{k: int(v) for k, v in keep.items()}),
        verify=bool(data.get("verify", True)),
        serve=bool(data.get("serve", True)),
    )
