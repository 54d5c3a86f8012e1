"""`store:` (case store, cases per queue, SLA rules), parsed by casestore/settings.py."""

from hotline.config_schema._types import (
    NAME,
    Schema,
    count,
    list_of,
    mapping_of,
    number,
    optional,
    seconds,
    strict,
)

_PRIORITIES = ["urgent", "major", "complex", "common", "general"]

_CASE = strict({"category": NAME, "priority": {"enum": _PRIORITIES}}, required=("category",))
_SLA_RULE = strict(
    {
        "category": NAME,
        "priority": {"enum": [*_PRIORITIES, "*"]},
        "minutes": {"type": "number", "exclusiveMinimum": 0, "maximum": 366 * 24 * 60},
    },
    required=("minutes",),
)

PROPERTIES: dict[str, Schema] = {
    "store": optional(
        strict(
            {
                "url": {
                    "description": "sqlite+aiosqlite:///PATH or postgresql+asyncpg://...",
                    "type": "string",
                    "pattern": "^(sqlite\\+aiosqlite|postgresql\\+asyncpg)://",
                },
                "data_dir": NAME,
                "retention_years": number(0.01, 100),
                "batch_size": count(1, 100_000),
                "flush_interval": seconds(maximum=3600),
                "cases": optional(mapping_of(_CASE, "queue -> {category, priority}")),
                "sla": optional(list_of(_SLA_RULE)),
                "sources": optional(
                    {
                        "description": "call sources this server writes (asterisk, twilio); "
                        "only their calls are closed as interrupted at start",
                        **list_of(NAME, minItems=1, uniqueItems=True),
                    }
                ),
            }
        )
    ),
}
