"""The menu file format as JSON Schema (draft 2020-12): the one structural definition.

The checker validates every menu against it before the semantic checks; `ivr/menu.schema.json`
is the published copy (`hotline ivr schema` prints it; a test keeps the two equal).
"""

from __future__ import annotations

from typing import Any

NODE_KINDS = (
    "prompt",
    "menu",
    "collect",
    "transfer",
    "hours",
    "emergency",
    "language",
    "identify",
    "survey",
    "callback",
    "goto",
    "hangup",
)

_LANG = {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)?$"}
_ID = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_\\-]*$"}
_DTMF = {
    "description": "one DTMF key: 0-9, * or #",
    "oneOf": [
        {"type": "string", "pattern": "^[0-9*#]$"},
        {"type": "integer", "minimum": 0, "maximum": 9},
    ],
}
_POS_NUM = {"type": "number", "exclusiveMinimum": 0}

_PROMPT_ITEM = {
    "description": "a text, or {text, audio}",
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {"text": {"type": "string", "minLength": 1}, "audio": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        },
    ],
}
_PROMPT = {
    "description": "Per language: the text (synthesized) or {text, audio}.",
    "type": "object",
    "propertyNames": _LANG,
    "additionalProperties": {"$ref": "#/$defs/prompt_item"},
    "minProperties": 1,
}
_KEYWORDS = {
    "description": "Per language: spoken keywords and synonyms.",
    "type": "object",
    "propertyNames": _LANG,
    "additionalProperties": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
    },
}
_HANDLER = {
    "description": "What to say on no input / no match before asking again.",
    "type": "object",
    "properties": {"prompt": {"$ref": "#/$defs/prompt"}},
    "additionalProperties": False,
}
_CHOICE = {
    "type": "object",
    "properties": {
        "dtmf": _DTMF,
        "keywords": {"$ref": "#/$defs/keywords"},
        "next": _ID,
    },
    "additionalProperties": False,
}

# Properties every node may carry.
_COMMON: dict[str, Any] = {
    "kind": {"enum": list(NODE_KINDS)},
    "description": {"type": "string"},
    "prompt": {"$ref": "#/$defs/prompt"},
    "next": _ID,
}
# Properties of nodes that wait for the caller.
_ASKING: dict[str, Any] = {
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "timeout": _POS_NUM,
    "barge_in": {"type": "boolean"},
    "speech": {"type": "boolean"},
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "no_input": {"$ref": "#/$defs/handler"},
    "no_match": {"$ref": "#/$defs/handler"},
    "dtmf_fallback": {"$ref": "#/$defs/prompt"},
    "on_failure": _ID,
}


def _node(
    kind: str, props: dict[str, Any], required: list[str], asking: bool = False
) -> dict[str, Any]:
    all_props = {**_COMMON, **(_ASKING if asking else {}), **props, "kind": {"const": kind}}
    return {
        "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
        "then": {
            "properties": all_props,
            "required": ["kind", *required],
            "additionalProperties": False,
        },
    }


_TIME_RANGE = {"type": "string", "pattern": "^\\d{2}:\\d{2}-\\d{2}:\\d{2}$"}
_RANGES = {
    "description": "'HH:MM-HH:MM', a list of them, or 'closed'",
    "oneOf": [
        {"type": "string"},  # "08:00-20:00" or "closed"; checked semantically
        {"type": "array", "items": _TIME_RANGE},
    ],
}

_NODES = [
    _node("prompt", {}, ["prompt", "next"]),
    _node(
        "menu",
        {"options": {"type": "array", "items": {"$ref": "#/$defs/option"}, "minItems": 1}},
        ["prompt", "options"],
        asking=True,
    ),
    _node(
        "collect",
        {
            "input": {"enum": ["digits", "speech"]},
            "min_digits": {"type": "integer", "minimum": 1, "maximum": 32},
            "max_digits": {"type": "integer", "minimum": 1, "maximum": 32},
            "terminator": {"type": "string", "pattern": "^[*#]?$"},
            "pattern": {"type": "string"},
            "checksum": {"enum": ["luhn", "mod10", "mod11", "mod7"]},
            "grammar": {"$ref": "#/$defs/keywords"},
            "store": _ID,
        },
        ["prompt", "store", "next"],
        asking=True,
    ),
    _node(
        "transfer",
        {
            "queue": {"type": "string", "minLength": 1},
            "skills": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 10},
            },
            "priority": {"type": "integer"},
            "tier": {"type": "string"},
        },
        ["queue"],
    ),
    _node(
        "hours",
        {
            "timezone": {"type": "string"},
            "weekly": {
                "type": "object",
                "additionalProperties": _RANGES,
                "description": "day or day range (mon, mon-fri) -> '08:00-20:00', list, or 'closed'",
            },
            "holidays": {
                "type": "array",
                "items": {
                    "description": "a date (YYYY-MM-DD) or {date, hours}",
                    "oneOf": [
                        {"type": "string"},
                        {
                            "type": "object",
                            "properties": {"date": {"type": "string"}, "hours": _RANGES},
                            "required": ["date"],
                            "additionalProperties": False,
                        },
                    ],
                },
            },
            "open": _ID,
            "closed": _ID,
        },
        ["timezone", "weekly", "open", "closed"],
    ),
    _node(
        "emergency",
        {"name": {"type": "string"}, "announcement": {"$ref": "#/$defs/prompt"}, "target": _ID},
        ["announcement", "target", "next"],
    ),
    _node(
        "language",
        {
            "options": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "language": _LANG,
                        "dtmf": _DTMF,
                        "keywords": {"$ref": "#/$defs/keywords"},
                    },
                    "required": ["language"],
                    "additionalProperties": False,
                },
            },
        },
        ["prompt", "options", "next"],
        asking=True,
    ),
    _node("identify", {"use_language": {"type": "boolean"}}, ["next"]),
    _node(
        "survey",
        {
            "store": _ID,
            "answers": {
                "description": "score (1-5) -> spoken keywords per language",
                "type": "object",
                "propertyNames": {"pattern": "^[1-5]$"},
                "additionalProperties": {"$ref": "#/$defs/keywords"},
            },
        },
        ["prompt", "next"],
        asking=True,
    ),
    _node(
        "callback",
        {
            "queue": {"type": "string", "minLength": 1},
            "accept": {"$ref": "#/$defs/choice"},
            "decline": {"$ref": "#/$defs/choice"},
            "confirm": {"$ref": "#/$defs/prompt"},
        },
        ["prompt", "queue", "accept", "decline"],
        asking=True,
    ),
    _node("goto", {"target": _ID}, ["target"]),
    _node("hangup", {"reason": {"type": "string"}}, []),
]

MENU_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://hotline.example/schemas/ivr-menu.json",
    "title": "Hotline IVR menu",
    "type": "object",
    "properties": {
        "menu": _ID,
        "description": {"type": "string"},
        "languages": {"type": "array", "items": _LANG, "minItems": 1, "uniqueItems": True},
        "default_language": _LANG,
        "start": _ID,
        "entries": {"type": "array", "items": _ID},
        "settings": {
            "type": "object",
            "properties": {
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "timeout": _POS_NUM,
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "speech_attempts": {"type": "integer", "minimum": 0},
                "max_steps": {"type": "integer", "minimum": 1, "maximum": 1000},
                "on_failure": _ID,
            },
            "additionalProperties": False,
        },
        "nodes": {
            "type": "object",
            "propertyNames": _ID,
            "additionalProperties": {"$ref": "#/$defs/node"},
            "minProperties": 1,
        },
    },
    "required": ["menu", "languages", "start", "nodes"],
    "additionalProperties": False,
    "$defs": {
        "prompt_item": _PROMPT_ITEM,
        "prompt": _PROMPT,
        "keywords": _KEYWORDS,
        "handler": _HANDLER,
        "choice": _CHOICE,
        "option": {**_CHOICE, "required": ["next"]},
        "node": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": list(NODE_KINDS)}},
            "allOf": _NODES,
        },
    },
}
