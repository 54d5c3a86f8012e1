"""Reading request bodies without trusting them: size, media type, charset, JSON depth.

Every refusal is an `ApiError` with a stable code (413 `too_large`, 415
`unsupported_media_type` / `unsupported_charset`, 400 `bad_json` / `too_deep`).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from hotline.web.base.errors import ApiError

MAX_JSON_BYTES = 256 * 1024
MAX_DEPTH = 32
CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


async def read_bytes(request: web.Request, limit: int) -> bytes:
    """The whole body (chunked or not, however it is split into segments), at most `limit`."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", f"the body is at most {limit} bytes", limit=limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"the body is at most {limit} bytes", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def check_charset(request: web.Request) -> None:
    charset = (request.charset or "utf-8").lower()
    if charset not in CHARSETS:
        raise ApiError(415, "unsupported_charset", "bodies are UTF-8", charset=charset[:40])


def _depth_ok(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: web.Request, limit: int = MAX_JSON_BYTES) -> Any:
    """The JSON document of the body (None for an empty body)."""
    if request.content_type not in ("application/json", "application/octet-stream", "") and not (
        request.content_type.endswith("+json")
    ):
        raise ApiError(
            415, "unsupported_media_type", "send JSON (Content-Type: application/json)",
            content_type=request.content_type[:80],
        )
    check_charset(request)
    raw = await read_bytes(request, limit)
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
        document = json.loads(text, parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_json", "the body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ApiError(400, "too_deep", f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # NaN/Infinity, integers too long to convert
        raise ApiError(400, "bad_json", f"request body is not valid JSON: {exc}") from exc
    if not _depth_ok(document, MAX_DEPTH):
        raise ApiError(400, "too_deep", f"JSON nested deeper than {MAX_DEPTH} levels")
    return document


async def read_text(request: web.Request, limit: int) -> str:
    """A UTF-8 text body (YAML uploads and the like)."""
    check_charset(request)
    raw = await read_bytes(request, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_encoding", "the body is UTF-8 text") from exc


async def read_form(request: web.Request) -> MultiDictProxy[Any]:
    """A form body (urlencoded or multipart), read once and cached by aiohttp."""
    check_charset(request)
    try:
        return await request.post()
    except ValueError as exc:  # bad boundary, undecodable bytes (UnicodeDecodeError), ...
        raise ApiError(400, "bad_form", "the form could not be read") from exc
