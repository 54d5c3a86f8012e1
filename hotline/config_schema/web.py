"""`web:` (sessions, cookies, sign-in throttle, tokens, language, live events), parsed by
hotline/web/base/settings.py (`parse_web_section`)."""

from hotline.config_schema._types import BOOL, Schema, count, number, optional, seconds, strict

_THROTTLE: Schema = strict(
    {
        "max_failures": count(1, 1000),
        "window": seconds(),
        "lockout": seconds(),
    }
)

PROPERTIES: dict[str, Schema] = {
    "web": optional(
        strict(
            {
                "public_url": {"type": ["string", "null"], "description": "how people reach Hotline"},
                "session_idle_timeout": {**number(60, 366 * 86400), "description": "seconds, 60 or more"},
                "session_max_age": {**number(300, 366 * 86400), "description": "seconds, 300 or more"},
                "cookie_secure": {"anyOf": [{"const": "auto"}, BOOL]},
                "same_site": {"enum": ["Lax", "Strict"]},
                "login_throttle": _THROTTLE,
                "token_default_days": count(1, 3650),
                "token_max_days": count(1, 3650),
                "default_language": {"enum": ["en", "ko"]},
                "live_queue_size": count(8, 100_000),
                "live_heartbeat": number(0.1, 300),
            }
        )
    ),
}
