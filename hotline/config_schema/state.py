"""`state:` (Redis Stream of the ACD's events), parsed by state/settings.py."""

from hotline.config_schema._types import NAME, Schema, count, optional, seconds, strict

PROPERTIES: dict[str, Schema] = {
    "state": optional(
        strict(
            {
                "url": optional(
                    {"type": "string", "pattern": "^(redis|rediss|unix)://",
                     "description": "a redis://, rediss:// or unix:// URL"}
                ),
                "stream": NAME,
                "maxlen": count(1),
                "buffer": count(1),
                "batch": count(1, 1_000_000),
                "timeout": seconds(maximum=3600),
            }
        )
    ),
}
