"""The route registry of the JSON API: each endpoint declares its method, path, roles, request
and response schemas (pydantic models) in one place; the same declaration validates requests,
checks roles and produces the OpenAPI document (`hotline.web.base.openapi`).

    api = ApiRegistry()

    @api.post("/api/agents/{agent_id}/state", roles=ALL_ROLES, body=StateChange,
              response=AgentOut, summary="Change an agent's state", tag="agents")
    async def change_state(call: ApiCall[StateChange, None]) -> AgentOut:
        ...

Handlers get an `ApiCall` (the aiohttp request, the principal, the validated body, query and
path parameters) and return a response model (serialised as JSON, status `status`) or, for
streams, a `web.StreamResponse` they prepared themselves.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from hotline.roles import Principal, Role
from hotline.web.base.bodies import MAX_JSON_BYTES, read_json, read_text
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import PRINCIPAL

B = TypeVar("B")
Q = TypeVar("Q")


@dataclass(frozen=True)
class RawBody:
    """A non-JSON request body (e.g. a YAML upload), handed to the handler as text."""

    media_type: str
    max_bytes: int
    description: str = ""


@dataclass
class ApiCall(Generic[B, Q]):
    request: web.Request
    who: Principal | None
    body: B
    query: Q
    params: dict[str, str]
    text: str = ""  # a RawBody endpoint's body

    @property
    def principal(self) -> Principal:
        """The caller of an endpoint that needs sign-in (never None there)."""
        if self.who is None:
            raise ApiError(401, "unauthorized", "sign in or send a valid API token")
        return self.who

    def app(self) -> web.Application:
        return self.request.app


@dataclass(frozen=True)
class Status:
    """A response model answered with another status than the endpoint's default (declared in
    `extra_statuses`), e.g. 422 for a checked menu with errors."""

    status: int
    model: BaseModel


Handler = Callable[[ApiCall[Any, Any]], Awaitable[BaseModel | Status | web.StreamResponse]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    roles: frozenset[Role]
    summary: str
    tag: str
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    raw_body: RawBody | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    description: str = ""
    stream: str = ""  # media type of a streamed response (text/event-stream)
    invalid_code: str = "invalid_request"
    extra_statuses: dict[int, type[BaseModel]] = field(default_factory=dict)
    json_limit: int = MAX_JSON_BYTES  # a JSON body's size limit (e.g. one carrying a menu)

    @property
    def public(self) -> bool:
        return not self.roles

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def operation_id(self) -> str:
        return getattr(self.handler, "__name__", self.path)


def _validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in err["loc"]], "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


class ApiRegistry:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self, method: str, path: str, *, roles: Iterable[Role], summary: str, tag: str,
        response: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None, raw_body: RawBody | None = None,
        status: int = 200, errors: Iterable[int] = (), stream: str = "",
        invalid_code: str = "invalid_request", extra_statuses: dict[int, type[BaseModel]] | None = None,
        json_limit: int = MAX_JSON_BYTES,
    ) -> Callable[[Callable[[ApiCall[Any, Any]], Awaitable[Any]]], Handler]:
        if not path.startswith("/api/"):
            raise ValueError(f"API routes live under /api/: {path}")

        def register(handler: Callable[[ApiCall[Any, Any]], Awaitable[Any]]) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method.upper(), path=path, handler=handler, roles=frozenset(roles),
                    summary=summary, tag=tag, response=response, body=body, query=query,
                    raw_body=raw_body, status=status, errors=tuple(errors), stream=stream,
                    description=(handler.__doc__ or "").strip(), invalid_code=invalid_code,
                    extra_statuses=dict(extra_statuses or {}), json_limit=json_limit,
                )
            )
            return handler

        return register

    def get(self, path: str, **kwargs: Any) -> Callable[[Callable[[ApiCall[Any, Any]], Awaitable[Any]]], Handler]:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Callable[[ApiCall[Any, Any]], Awaitable[Any]]], Handler]:
        return self.route("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Callable[[ApiCall[Any, Any]], Awaitable[Any]]], Handler]:
        return self.route("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Callable[[ApiCall[Any, Any]], Awaitable[Any]]], Handler]:
        return self.route("DELETE", path, **kwargs)

    def include(self, other: ApiRegistry) -> None:
        """Take in a feature folder's routes."""
        self.endpoints.extend(other.endpoints)

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _aiohttp_handler(endpoint))


def authorize(endpoint: Endpoint, who: Principal | None) -> None:
    if endpoint.public:
        return
    if who is None:
        raise ApiError(401, "unauthorized", "sign in or send a valid API token")
    if who.role not in endpoint.roles:
        raise ApiError(
            403, "forbidden", f"role {who.role.value} may not do this",
            allowed=sorted(r.value for r in endpoint.roles),
        )


async def _parse(endpoint: Endpoint, request: web.Request) -> tuple[Any, Any, str]:
    body: Any = None
    text = ""
    if endpoint.raw_body is not None:
        text = await read_text(request, endpoint.raw_body.max_bytes)
    elif endpoint.body is not None:
        document = await read_json(request, endpoint.json_limit)
        try:
            body = endpoint.body.model_validate({} if document is None else document)
        except ValidationError as exc:
            raise ApiError(
                400, endpoint.invalid_code, "the request body does not match its schema",
                errors=_validation_details(exc),
            ) from exc
    query: Any = None
    if endpoint.query is not None:
        try:
            query = endpoint.query.model_validate(dict(request.query))
        except ValidationError as exc:
            raise ApiError(
                400, "invalid_query", "the query parameters do not match their schema",
                errors=_validation_details(exc),
            ) from exc
    return body, query, text


def _aiohttp_handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        who = request.get(PRINCIPAL)
        authorize(endpoint, who)
        body, query, text = await _parse(endpoint, request)
        call: ApiCall[Any, Any] = ApiCall(
            request=request, who=who, body=body, query=query, params=dict(request.match_info),
            text=text,
        )
        result = await endpoint.handler(call)
        if isinstance(result, web.StreamResponse):
            return result
        status = endpoint.status
        if isinstance(result, Status):
            status, result = result.status, result.model
            declared = endpoint.extra_statuses.get(status) or endpoint.response
        else:
            declared = endpoint.response
        if declared is not None and not isinstance(result, declared):  # a programming error
            raise TypeError(f"{endpoint.method} {endpoint.path} answered {type(result).__name__}, not {declared.__name__}")
        return web.json_response(result.model_dump(mode="json"), status=status)

    handle.__name__ = endpoint.operation_id
    return handle
