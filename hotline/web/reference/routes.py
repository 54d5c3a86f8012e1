"""The API's own description: the OpenAPI document and a browsable reference page (the
vendored Swagger UI, served from the package)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from hotline.roles import PUBLIC_ROLES
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import WEB_KEY
from hotline.web.base.openapi import openapi_document
from hotline.web.base.room import WebRoom

routes = ApiRegistry()


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


@routes.get(
    "/api/openapi.json", roles=PUBLIC_ROLES, response=OpenApiDocument, tag="reference",
    summary="This API's OpenAPI document",
)
async def openapi_json(call: ApiCall[None, None]) -> web.StreamResponse:
    room = call.request.app[WEB_KEY]
    if room.openapi is None:  # routes are all registered before the app starts
        room.openapi = openapi_document(room.api)
    return web.json_response(room.openapi)


async def reference_page(request: web.Request) -> web.StreamResponse:
    return request.app[WEB_KEY].pages.render(request, "reference/reference.html")


def add_pages(room: WebRoom) -> None:
    room.pages.route("GET", "/docs/api", reference_page, roles=PUBLIC_ROLES)
