"""Checks a configuration document against `hotline.config_schema`, all errors at once.

Every issue names the file, the line (when the document came from YAML) and the key path,
e.g. `config/hotline.yaml:42: agents[1].skils: unknown key (did you mean 'skills'?)`.
Numbers must be finite: NaN and infinities are not numbers here.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, validators

from hotline.config_schema import config_schema
from ivr.source import format_path


def _finite_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, int | float):
        return False
    return not (isinstance(instance, float) and not math.isfinite(instance))


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number)
_Validator = validators.extend(Draft202012Validator, type_checker=_TYPES)

_JSON_TYPES = {
    dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "an integer",
    float: "a number", type(None): "nothing (null)",
}
_WANTED = {
    "object": "a mapping", "array": "a list", "string": "text", "boolean": "true or false",
    "integer": "an integer", "number": "a finite number", "null": "nothing",
}


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    path: tuple[str | int, ...]
    line: int | None
    message: str

    def format(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        key = format_path(self.path) or "top level"
        return f"{where}: {key}: {self.message}"


def _kind(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _wanted(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_WANTED.get(n, n) for n in names)


def _unknown_keys(error: Any) -> list[tuple[str, str]]:
    """(key, message) for each key refused by `additionalProperties: false`."""
    known = list(error.schema.get("properties", {}))
    out = []
    for key in error.instance:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        out.append((str(key), f"unknown key{hint}; known keys: {', '.join(known)}"))
    return out


def _message(error: Any) -> str:
    v, value, schema = error.validator, error.instance, error.schema
    if v == "type":
        return f"expected {_wanted(error.validator_value)}, got {_kind(value)} {_short(value)}"
    if v == "enum":
        return f"{_short(value)} is not one of {', '.join(map(str, error.validator_value))}"
    if v == "required":
        missing = [k for k in error.validator_value if k not in value]
        return f"missing required key {', '.join(map(repr, missing))}"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": "at least", "exclusiveMinimum": "more than",
                 "maximum": "at most", "exclusiveMaximum": "less than"}
        described = f" ({schema['description']})" if schema.get("description") else ""
        return f"{_short(value)} is out of range: must be {words[v]} {error.validator_value}{described}"
    if v == "pattern":
        described = schema.get("description")
        return f"{_short(value)} is not {described}" if described else (
            f"{_short(value)} does not match {error.validator_value}")
    if v in ("anyOf", "oneOf"):
        described = schema.get("description")
        if described:
            return f"expected {described}, got {_kind(value)} {_short(value)}"
        kinds = [s.get("type") for s in error.validator_value if s.get("type") not in (None, "null")]
        if kinds:
            return f"expected {' or '.join(_wanted(k) for k in kinds)}, got {_kind(value)} {_short(value)}"
    if v == "minLength":
        return "must not be empty" if error.validator_value == 1 else (
            f"must be at least {error.validator_value} characters")
    if v == "propertyNames":
        return f"{_short(value)}: a key here is not allowed"
    return error.message if len(error.message) < 200 else error.message[:197] + "..."


def _matches_type(schema: Any, value: Any) -> bool:
    types = schema.get("type") if isinstance(schema, dict) else None
    if types is None:
        return False
    names = [types] if isinstance(types, str) else types
    checker = _Validator.TYPE_CHECKER
    return any(checker.is_type(value, name) for name in names)


def _leaves(error: Any) -> Iterable[Any]:
    """For anyOf/oneOf where exactly one alternative has the value's type (a mapping where
    `null` or a mapping is allowed), report that alternative's own errors."""
    if error.validator in ("anyOf", "oneOf"):
        fitting = [i for i, s in enumerate(error.validator_value) if _matches_type(s, error.instance)]
        if len(fitting) == 1:
            context = [e for e in error.context or () if e.schema_path and e.schema_path[0] == fitting[0]]
            if context:
                for sub in context:
                    yield from _leaves(sub)
                return
    yield error


def check_document(
    data: Any,
    *,
    line: Callable[[Sequence[str | int]], int | None] = lambda path: None,
    schema: dict[str, Any] | None = None,
) -> list[ConfigIssue]:
    """Every schema violation of `data` (an empty list when it is valid)."""
    validator = _Validator(schema or config_schema())
    issues: list[ConfigIssue] = []
    for top in validator.iter_errors(data):
        for error in _leaves(top):
            path = tuple(error.absolute_path)
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                for key, message in _unknown_keys(error):
                    issues.append(ConfigIssue((*path, key), line((*path, key)), message))
                continue
            issues.append(ConfigIssue(path, line(path), _message(error)))
    issues.sort(key=lambda i: (i.line or 0, format_path(i.path)))
    return issues
