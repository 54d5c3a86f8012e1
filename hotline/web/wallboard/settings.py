"""The `wallboard` section of the configuration (alert thresholds), as a pydantic model; its
JSON schema fragment is `WALLBOARD_SECTION_SCHEMA`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.config import ConfigError


class WallboardSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    long_wait_alert: float = Field(
        120, gt=0, description="seconds a caller may wait before the queue shows a long-wait alert"
    )
    sl_alert_min_offered: int = Field(
        5, ge=1, description="calls a queue must have offered today before its service level can raise an alert"
    )
    check_interval: float = Field(
        5, ge=0.5, le=300, description="seconds between alert checks (waits grow without events)"
    )


WALLBOARD_SECTION_SCHEMA: dict[str, Any] = WallboardSettings.model_json_schema()


def parse_wallboard_section(raw: Mapping[str, Any], where: str = "wallboard") -> WallboardSettings:
    try:
        return WallboardSettings.model_validate(dict(raw))
    except ValidationError as exc:
        lines = [
            f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise ConfigError("; ".join(lines)) from exc
