"""The `messaging` (SMS through Twilio) and `smtp` (e-mail) config sections, validated by
their JSON schemas; errors name the key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

MESSAGING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"},
        "auth_token": {"type": "string", "minLength": 1},
        "from": {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"},
        "messaging_service_sid": {"type": "string", "pattern": "^MG[0-9a-fA-F]{32}$"},
        "status_callback": {"type": "string", "format": "uri"},
        "default_region": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
}

SMTP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean"},
        "host": {"type": "string", "minLength": 1},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "username": {"type": "string"},
        "password": {"type": "string"},
        "starttls": {"type": "boolean"},
        "use_tls": {"type": "boolean"},
        "from": {"type": "string", "minLength": 3},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
}


@dataclass(frozen=True, slots=True)
class MessagingSettings:
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    messaging_service_sid: str = ""
    status_callback: str = ""
    default_region: str = "KR"
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    enabled: bool = False
    host: str = "localhost"
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_tls: bool = False
    from_address: str = "hotline@localhost"
    timeout: float = 10.0


def _check(schema: dict[str, Any], raw: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    data = dict(raw or {})
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        path = ".".join(str(p) for p in errors[0].absolute_path)
        raise ValueError(f"{where}{'.' + path if path else ''}: {errors[0].message}")
    return data


def parse_messaging(raw: Mapping[str, Any] | None, where: str = "messaging") -> MessagingSettings:
    d = _check(MESSAGING_SCHEMA, raw, where)
    enabled = bool(d.get("enabled", bool(d)))
    if enabled and not (d.get("account_sid") and d.get("auth_token") and (d.get("from") or d.get("messaging_service_sid"))):
        raise ValueError(f"{where}: account_sid, auth_token and from (or messaging_service_sid) are needed")
    base = MessagingSettings()
    return MessagingSettings(
        enabled=enabled, account_sid=d.get("account_sid", ""), auth_token=d.get("auth_token", ""),
        from_number=d.get("from", ""), messaging_service_sid=d.get("messaging_service_sid", ""),
        status_callback=d.get("status_callback", ""), default_region=d.get("default_region", base.default_region),
        timeout=float(d.get("timeout", base.timeout)),
    )


def parse_smtp(raw: Mapping[str, Any] | None, where: str = "smtp") -> SmtpSettings:
    d = _check(SMTP_SCHEMA, raw, where)
    if d.get("starttls") and d.get("use_tls"):
        raise ValueError(f"{where}: starttls and use_tls exclude each other")
    base = SmtpSettings()
    return SmtpSettings(
        enabled=bool(d.get("enabled", bool(d))), host=d.get("host", base.host), port=int(d.get("port", base.port)),
        username=d.get("username", ""), password=d.get("password", ""), starttls=bool(d.get("starttls", False)),
        use_tls=bool(d.get("use_tls", False)), from_address=d.get("from", base.from_address),
        timeout=float(d.get("timeout", base.timeout)),
    )
