"""API errors: every error under /api is JSON `{"error": code, "message": ..., "details": {...}}`
with a stable code.

    ApiError(status, code, message, **details)   raised by handlers and services
    error_middleware                             renders ApiError, aiohttp's HTTP errors and
                                                 core/store errors as JSON under /api; anything
                                                 unexpected is logged and answered 500 JSON
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from acd.errors import AcdError, IllegalTransition, UnknownAgent, UnknownCall
from casestore.errors import InvalidInput, NotFound, StoreUnavailable
from state.errors import StateError

log = logging.getLogger("hotline.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp's own HTTP errors (routing, body size) -> stable codes
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str = Field(description="stable error code, e.g. `bad_json`, `forbidden`")
    message: str = Field(description="what went wrong, for a person")
    details: dict[str, Any] = Field(default_factory=dict)


class ApiError(Exception):
    """An API error with a stable code and details, rendered as JSON."""

    def __init__(
        self, status: int, error: str, message: str, *, headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = ErrorBody(error=self.error, message=self.message, details=self.details)
        return web.json_response(
            body.model_dump(mode="json"), status=self.status, headers=self.headers
        )


def is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _converted(exc: Exception) -> ApiError | None:
    """Core and store errors that mean "bad request" or "not found", as API errors."""
    if isinstance(exc, UnknownAgent | UnknownCall | NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, IllegalTransition):
        return ApiError(409, "illegal_transition", str(exc), current=exc.current, wanted=exc.wanted)
    if isinstance(exc, AcdError):
        return ApiError(400, "bad_request", str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(400, "invalid_input", str(exc))
    if isinstance(exc, StateError):  # a follower could not reach the ACD leader
        return ApiError(503, "leader_unavailable", str(exc))
    if isinstance(exc, StoreUnavailable):
        return ApiError(503, "store_unavailable", "the case store is unavailable; try again")
    return None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        if is_api(request):
            return exc.response()
        return web.Response(status=exc.status, text=exc.message, headers=exc.headers)
    except web.HTTPException as exc:
        if not is_api(request) or exc.status < 400:
            raise
        code = HTTP_CODES.get(exc.status, "http_error")
        details: dict[str, Any] = {}
        if exc.status == 405 and isinstance(exc, web.HTTPMethodNotAllowed):
            details["allowed"] = sorted(exc.allowed_methods)
        error = ApiError(exc.status, code, exc.reason, **details)
        return error.response()
    except Exception as exc:
        api_error = _converted(exc)
        if api_error is not None:
            if is_api(request):
                return api_error.response()
            return web.Response(status=api_error.status, text=api_error.message)
        log.exception("unexpected error on %s %s", request.method, request.path)
        if is_api(request):
            return ApiError(500, "internal_error", "an unexpected error; it was logged").response()
        raise
