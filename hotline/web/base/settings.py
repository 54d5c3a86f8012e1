"""The `api` and `web` sections of the configuration, as pydantic models (their JSON schema
fragments are `API_SECTION_SCHEMA` and `WEB_SECTION_SCHEMA`, for the whole-config schema).

`api.tokens` (static bearer tokens in YAML) is gone: people and their API tokens live in the
case store. A config that still has it is refused with a message saying what to run instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotline.config import ConfigError

TOKENS_GONE = (
    "api.tokens (static tokens in the config) is no longer supported: people and their API "
    "tokens live in the case store. Remove api.tokens, then create the people with "
    "`hotline users add LOGIN --role admin|supervisor|agent [--agent ID]` and a machine's token "
    "with `hotline users token LOGIN`; on a fresh install `hotline serve` prints a one-time "
    "link to create the first admin."
)


class ThrottleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_failures: int = Field(5, ge=1, le=1000, description="failed sign-ins before a lockout")
    window: float = Field(900, gt=0, description="seconds over which failures are counted")
    lockout: float = Field(300, gt=0, description="seconds a login (or address) is locked out")


class WebSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_url: str | None = Field(
        None, description="how people reach Hotline (the first-run setup link uses it)"
    )
    session_idle_timeout: float = Field(1800, ge=60, description="seconds without a request before a session ends")
    session_max_age: float = Field(43200, ge=300, description="seconds a session lasts at most")
    cookie_secure: Literal["auto", True, False] = Field(
        "auto", description="Secure cookies: auto = when the request came over HTTPS"
    )
    same_site: Literal["Lax", "Strict"] = "Lax"
    login_throttle: ThrottleSettings = Field(default_factory=lambda: ThrottleSettings())
    token_default_days: int = Field(90, ge=1, le=3650)
    token_max_days: int = Field(365, ge=1, le=3650)
    default_language: Literal["en", "ko"] = "en"
    live_queue_size: int = Field(256, ge=8, le=100_000, description="events buffered per browser")
    live_heartbeat: float = Field(
        15, ge=0.1, le=300, description="seconds between keep-alives of an event stream (and re-checks of its session)"
    )


class ApiSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    tls: dict[str, Any] | None = Field(None, description="cert and key files (hotline/tls.py)")


WEB_SECTION_SCHEMA: dict[str, Any] = WebSettings.model_json_schema()
API_SECTION_SCHEMA: dict[str, Any] = ApiSection.model_json_schema()


def _errors(where: str, exc: ValidationError) -> str:
    lines = [
        f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_url=False)
    ]
    return "; ".join(lines)


def parse_api_section(raw: Mapping[str, Any], where: str = "api") -> ApiSection:
    if "tokens" in raw:
        tokens = raw.get("tokens") or {}
        samples = [str(t) for t in tokens if "change-me" in str(t)] if isinstance(tokens, Mapping) else []
        prefix = f"{where}.tokens holds the sample secrets {sorted(samples)}. " if samples else ""
        raise ConfigError(f"{prefix}{TOKENS_GONE}")
    try:
        return ApiSection.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_errors(where, exc)) from exc


def parse_web_section(raw: Mapping[str, Any], where: str = "web") -> WebSettings:
    try:
        settings = WebSettings.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_errors(where, exc)) from exc
    if settings.token_default_days > settings.token_max_days:
        raise ConfigError(f"{where}.token_default_days is above {where}.token_max_days")
    return settings
