"""The schema of the whole configuration file: one module per top-level section.

Every module here whose name does not start with `_` defines `PROPERTIES`, a mapping from the
top-level key(s) it owns to their JSON Schema (draft 2020-12); `config_schema()` joins them
into one object schema that refuses unknown keys. To add a section, add a module (for example
`metrics.py` with `PROPERTIES = {"metrics": strict({...})}`); to add a key to a section, add
it to that section's `strict(...)` properties. docs/configuration.md says the same.

The schema checks shapes, types and ranges for every section; an adapter's settings code
still parses its own section (and checks what needs more than a schema: environment
variables, files, cross references).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any


@cache
def section_properties() -> dict[str, dict[str, Any]]:
    """Top-level key -> schema, from every section module of this package."""
    properties: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, schema in module.PROPERTIES.items():
            if key in properties:
                raise RuntimeError(f"config key {key!r} defined by both {owners[key]} and {info.name}")
            properties[key] = schema
            owners[key] = info.name
    return properties


@cache
def config_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hotline configuration",
        "type": "object",
        "properties": section_properties(),
        "additionalProperties": False,
    }
