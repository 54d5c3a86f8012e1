"""Building blocks of the section schemas (JSON Schema draft 2020-12 fragments)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
NAME: Schema = {"type": "string", "minLength": 1}
ID: Schema = {"description": "an id (text or digits)", "type": ["string", "integer"]}
BOOL: Schema = {"type": "boolean"}
HOST: Schema = {"type": "string", "minLength": 1}
PORT: Schema = {"description": "a TCP port 1-65535", "type": "integer", "minimum": 1, "maximum": 65535}
LISTEN_PORT: Schema = {"description": "a TCP port 1-65535 to listen on, or 0 for any free one",
                       "type": "integer", "minimum": 0, "maximum": 65535}
LEVEL: Schema = {"description": "a level 1-10", "type": "integer", "minimum": 1, "maximum": 10}
SHARE: Schema = {"description": "a share 0-1", "type": "number", "minimum": 0, "maximum": 1}
YEAR_SECONDS = 366 * 86400


def seconds(*, zero: bool = False, maximum: float = YEAR_SECONDS, null: bool = False) -> Schema:
    """A duration in seconds: positive (or >= 0 with `zero`), at most `maximum`; `null` allowed."""
    schema: Schema = {"type": ["number", "null"] if null else "number", "maximum": maximum}
    schema["minimum" if zero else "exclusiveMinimum"] = 0
    schema["description"] = "seconds, " + ("0 or more" if zero else "more than 0")
    return schema


def count(minimum: int = 1, maximum: int = 1_000_000_000) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def number(minimum: float, maximum: float) -> Schema:
    return {"type": "number", "minimum": minimum, "maximum": maximum}


def strict(properties: Schema, required: tuple[str, ...] = (), **extra: Any) -> Schema:
    """An object with exactly these keys (unknown keys are errors)."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def mapping_of(values: Schema, description: str = "") -> Schema:
    """A mapping from any key to `values` (agent ids, queue names, numbers...)."""
    schema: Schema = {"type": "object", "additionalProperties": values}
    if description:
        schema["description"] = description
    return schema


def list_of(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


def optional(schema: Schema) -> Schema:
    """`schema` or null (the key written with no value)."""
    return {"anyOf": [{"type": "null"}, schema]}
