"""`acd:`, `queues:` and `agents:`, parsed by hotline/config.py into the core's types."""

from hotline.config_schema._types import (
    BOOL,
    ID,
    LEVEL,
    NAME,
    TEXT,
    Schema,
    count,
    list_of,
    mapping_of,
    optional,
    seconds,
    strict,
)

_SKILLS = mapping_of(LEVEL, "skill -> level 1-10")
_POLICIES = ["longest_idle", "least_occupied", "best_skill"]
_SL_TARGET: Schema = {"description": "a share over 0, at most 1", "type": "number",
                      "exclusiveMinimum": 0, "maximum": 1}

_ESCALATION_STEP = strict(
    {
        "after": seconds(zero=True),
        "min_level": optional(LEVEL),
        "groups": optional(list_of(NAME)),
        "offer_callback": BOOL,
    },
    required=("after",),
)

_AGING = strict(
    {
        "rate": {"description": "priority points per minute of waiting", "type": "number",
                 "exclusiveMinimum": 0, "maximum": 60},
        "cap": count(1, 1000),
    },
    required=("rate", "cap"),
)

_RING_NO_ANSWER = strict(
    {
        "pause_after": count(1, 100),
        "reoffer_same_agent": BOOL,
        "reoffer_delay": seconds(maximum=3600),
    }
)

_ANNOUNCE = strict(
    {
        "interval": seconds(maximum=3600),
        "expected_wait": BOOL,
        "margin": seconds(maximum=3600),
        "quantile": {"description": "a share over 0, at most 1", "type": "number",
                     "exclusiveMinimum": 0, "maximum": 1},
        "window": count(1, 100_000),
        "min_samples": count(1, 100_000),
        "handle_window": count(1, 100_000),
        "default_handle": seconds(maximum=86400),
    }
)

_SPANS: Schema = {"description": "HH:MM-HH:MM, or a list of them", "anyOf": [
    {"type": "string", "pattern": r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"},
    {"type": "array", "items": {"type": "string", "pattern": r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"}},
]}
_CALLBACKS = strict(
    {
        "hours": strict({day: _SPANS for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
        "timezone": NAME,
        "merge_same_number": BOOL,
    }
)

QUEUE = strict(
    {
        "name": NAME,
        "description": TEXT,
        "skills": optional(_SKILLS),
        "policy": {"enum": _POLICIES},
        "service_level": optional(
            strict({"target": _SL_TARGET, "seconds": seconds()})
        ),
        "max_wait": seconds(null=True),
        "overflow": optional(NAME),
        "escalation": optional(list_of(_ESCALATION_STEP)),
        "ring_timeout": seconds(null=True),
        "wrap_up": seconds(zero=True, null=True),
        "tier_priority": optional(mapping_of({"type": "integer", "minimum": -1000, "maximum": 1000})),
        "aging": optional(_AGING),
        "ring_no_answer": optional(_RING_NO_ANSWER),
        "announce": optional(_ANNOUNCE),
        "callbacks": optional(_CALLBACKS),
    },
    required=("name",),
)

AGENT = strict(
    {
        "id": ID,
        "name": TEXT,
        "skills": optional(_SKILLS),
        "groups": optional(list_of(NAME)),
        "capacity": count(1, 100),
    },
    required=("id",),
)

PROPERTIES: dict[str, Schema] = {
    "acd": optional(
        strict({"pause_on_ring_no_answer": BOOL, "occupancy_window": seconds(maximum=30 * 86400),
                "queue_log": optional(NAME)})
    ),
    "queues": optional(list_of(QUEUE)),
    "agents": optional(list_of(AGENT)),
}
