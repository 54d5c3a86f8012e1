"""Reading a JSON request body safely: size, charset, nesting depth and field types checked.

`read_json_object` returns the body as a dict or raises `InputError`, which carries the HTTP
status (400, 413, 415) and a stable error id; the API turns it into its JSON error. The
field helpers check one value's type, so a handler never compares a list with a set of
strings (`{"action": ["login"]}`) or takes `str()` of a mapping.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Protocol

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class InputError(ValueError):
    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details


class _Content(Protocol):
    async def read(self, n: int = -1) -> bytes: ...


class _Request(Protocol):
    @property
    def can_read_body(self) -> bool: ...
    @property
    def charset(self) -> str | None: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def content(self) -> _Content: ...


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped); linear."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _no_constants(name: str) -> Any:
    raise InputError(400, "bad_json", f"{name} is not a JSON number")


def parse_json_object(
    raw: bytes, charset: str | None = None, *, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """`raw` as a JSON object, or InputError."""
    encoding = charset or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(415, "unsupported_charset", f"unknown charset {encoding[:40]!r}; send UTF-8") from None
    try:
        text = raw.decode(encoding)
    except LookupError:  # a codec that is not a text encoding (rot13, base64)
        raise InputError(415, "unsupported_charset", f"{encoding[:40]!r} is not a text charset") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(400, "bad_encoding", f"request body is not valid {encoding[:40]} text") from exc
    if json_depth(text.encode("utf-8", "surrogatepass")) > max_depth:
        raise InputError(400, "too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        body = json.loads(text, parse_constant=_no_constants)
    except InputError:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, 5000-digit numbers
        raise InputError(400, "bad_json", f"request body is not valid JSON: {str(exc)[:120]}") from exc
    if not isinstance(body, dict):
        raise InputError(400, "bad_json", "request body must be a JSON object")
    return body


async def read_json_object(
    request: _Request, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """The request's JSON object body ({} when there is none), read to at most `max_bytes`."""
    if not request.can_read_body:
        return {}
    if request.content_length is not None and request.content_length > max_bytes:
        raise InputError(413, "too_large", f"a JSON body is at most {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(max_bytes + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise InputError(413, "too_large", f"a JSON body is at most {max_bytes} bytes")
    if not size:
        return {}
    return parse_json_object(b"".join(chunks), request.charset, max_depth=max_depth)


def choice_field(body: Mapping[str, Any], key: str, choices: Collection[str]) -> str:
    """`body[key]`, which must be one of `choices` (strings)."""
    value = body.get(key)
    if not isinstance(value, str) or value not in choices:
        raise InputError(400, f"bad_{key}", f"{key!r} must be one of {sorted(choices)}",
                         got=value if isinstance(value, str | int | float | bool) else type(value).__name__)
    return value


def text_field(body: Mapping[str, Any], key: str, default: str = "", *, max_length: int = 1000) -> str:
    """`body[key]` as text (absent or null: `default`)."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InputError(400, f"bad_{key}", f"{key!r} must be a string")
    if len(value) > max_length:
        raise InputError(400, f"bad_{key}", f"{key!r} is longer than {max_length} characters")
    return value
