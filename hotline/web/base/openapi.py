"""The OpenAPI 3.1 document, produced from the route registry: the same pydantic models that
validate requests and build responses describe them here (no hand-written copy)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hotline import __version__
from hotline.web.base.api import ApiRegistry, Endpoint
from hotline.web.base.errors import ErrorBody

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "bad request (JSON error body with a stable code)",
    401: "not signed in, or unknown/expired token",
    403: "role not allowed, or CSRF token missing/wrong",
    404: "not found",
    409: "conflict with the current state",
    413: "body too large",
    415: "unsupported media type or charset",
    422: "checked and refused",
    429: "too many attempts",
    502: "an adapter failed",
    503: "a backing service is unavailable",
}


def _models(registry: ApiRegistry) -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
    for ep in registry.endpoints:
        for model in (ep.body, ep.response, *ep.extra_statuses.values()):
            if model is not None:
                seen.setdefault(model.__name__, model)
    return list(seen.values())


def _query_parameters(ep: Endpoint, schema: dict[str, Any]) -> list[dict[str, Any]]:
    if ep.query is None:
        return []
    query_schema = ep.query.model_json_schema(ref_template=REF)
    required = set(query_schema.get("required", []))
    return [
        {
            "name": name, "in": "query", "required": name in required, "schema": prop,
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in query_schema.get("properties", {}).items()
    ]


def _operation(ep: Endpoint, schema: dict[str, Any]) -> dict[str, Any]:
    roles = sorted(r.value for r in ep.roles)
    op: dict[str, Any] = {
        "operationId": ep.operation_id,
        "summary": ep.summary,
        "tags": [ep.tag],
        "x-roles": roles,
        "description": (ep.description + "\n\n" if ep.description else "")
        + (f"Roles: {', '.join(roles)}." if roles else "Public (no sign-in)."),
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in ep.path_params
        ]
        + _query_parameters(ep, schema),
        "responses": {},
    }
    if ep.roles:
        op["security"] = [{"bearerToken": []}, {"sessionCookie": []}]
    else:
        op["security"] = []
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=ep.body.__name__)}}},
        }
    elif ep.raw_body is not None:
        op["requestBody"] = {
            "required": True,
            "description": ep.raw_body.description or f"at most {ep.raw_body.max_bytes} bytes",
            "content": {ep.raw_body.media_type: {"schema": {"type": "string"}}},
        }
    if ep.stream:
        op["responses"][str(ep.status)] = {
            "description": "an event stream", "content": {ep.stream: {"schema": {"type": "string"}}},
        }
    elif ep.response is not None:
        op["responses"][str(ep.status)] = {
            "description": ep.response.__doc__.strip().splitlines()[0] if ep.response.__doc__ else "OK",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=ep.response.__name__)}}},
        }
    for status, model in ep.extra_statuses.items():
        op["responses"][str(status)] = {
            "description": ERROR_TEXT.get(status, "see the body"),
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
        }
    statuses = set(ep.errors) | {400}
    if ep.roles:
        statuses |= {401, 403}
    if ep.body is not None or ep.raw_body is not None:
        statuses |= {413, 415}
    for status in sorted(statuses - set(ep.extra_statuses)):
        op["responses"][str(status)] = {
            "description": ERROR_TEXT.get(status, "error"),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
        }
    return op


def openapi_document(registry: ApiRegistry, title: str = "Hotline API") -> dict[str, Any]:
    models = _models(registry)
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = defs.get("$defs", {})
    for (model, _), ref in refs.items():  # every model by its own name
        assert ref.get("$ref") == REF.format(model=model.__name__), ref
    paths: dict[str, dict[str, Any]] = {}
    for ep in registry.endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title, "version": __version__,
            "description": (
                "Hotline's JSON API. Sign in with a browser session (cookie, plus the "
                "`X-CSRF-Token` header on changes) or send a personal API token as "
                "`Authorization: Bearer hlt_...`. Every error is JSON with a stable `error` code."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "a personal API token"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "hotline_session"},
            },
        },
    }
