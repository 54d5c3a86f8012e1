"""IVR menus over the API: list, check, upload (activate), activate a version, roll back, reload.
Every change is audited."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from casestore.menus import MenuAudit, NoSuchMenu
from hotline.durability import STORED_MENUS_KEY
from hotline.roles import STAFF, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry, RawBody, Status
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, WEB_KEY
from hotline.web.menus.service import (
    MAX_MENU_BYTES,
    MENU_FILES_KEY,
    MENUS_KEY,
    activate_version,
    menus_view,
    reload_files,
    result_view,
)
from ivr.checker import check_menu
from ivr.registry import MenuError

ADMIN = frozenset({Role.ADMIN})
routes = ApiRegistry()


class MenuVersion(BaseModel):
    version: int
    source: str
    loaded_at: float
    sha256: str


class MenuOut(BaseModel):
    name: str
    active_version: int | None
    versions: list[MenuVersion]


class MenuList(BaseModel):
    """Menus, their versions and the active one."""

    menus: list[MenuOut]


class Issue(BaseModel):
    path: str
    line: int | None
    node: str | None = Field(None, description="the node the issue is in")
    message: str
    severity: str


class CheckOut(BaseModel):
    """The checker's verdict (422 when the menu has errors; nothing was activated)."""

    ok: bool
    menu: str | None
    version: int | None
    issues: list[Issue]


class ReloadResult(CheckOut):
    source: str
    error: str | None = None


class ReloadOut(MenuList):
    """Each file's result and the menus after the reload (422 when a file was refused)."""

    results: list[ReloadResult]


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int


class UploadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activate: bool = True
    check_only: bool = False
    message: str = Field("", max_length=1000, description="why this version (kept with it in the store)")


def _list(call: ApiCall[Any, Any]) -> MenuList:
    return MenuList.model_validate(menus_view(call.request.app[MENUS_KEY]))


def _author(call: ApiCall[Any, Any]) -> str:
    """The signed-in person (or the token's owner), kept with the menu version in the store."""
    return call.who.actor if call.who is not None else "system"


async def _audit(call: ApiCall[Any, Any], action: str, target: str, after: dict[str, Any]) -> None:
    await call.request.app[WEB_KEY].accounts.repo.record(actor_of(call.who), action, target, after=after)


@routes.get("/api/menus", roles=STAFF, response=MenuList, tag="menus", summary="List menus and versions")
async def list_menus(call: ApiCall[None, None]) -> MenuList:
    return _list(call)


@routes.post(
    "/api/menus", roles=ADMIN, query=UploadQuery, response=CheckOut, tag="menus",
    raw_body=RawBody("application/yaml", MAX_MENU_BYTES, "a menu as UTF-8 YAML text"),
    summary="Upload a menu: checked, stored as a new version, activated", extra_statuses={422: CheckOut},
)
async def upload_menu(call: ApiCall[None, UploadQuery]) -> Status:
    """`?activate=false`: only stored; `?check_only=true`: only checked."""
    if call.query.check_only:
        queues = list(call.request.app[ACD_KEY].queues)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, partial(check_menu, call.text, "<upload>", queues=queues))
    else:
        result = await call.request.app[STORED_MENUS_KEY].publish(
            call.text, author=_author(call), message=call.query.message, activate=call.query.activate,
            audit=MenuAudit(actor_of(call.who), "menu.upload"),
        )
    return Status(200 if result.ok else 422, CheckOut.model_validate(result_view(result)))


@routes.post(
    "/api/menus/reload", roles=ADMIN, response=ReloadOut, tag="menus",
    summary="Re-read the configured menu files (also done on SIGHUP)", extra_statuses={422: ReloadOut},
)
async def reload_menus(call: ApiCall[None, None]) -> Status:
    registry = call.request.app[MENUS_KEY]
    files: list[Path] = call.request.app[MENU_FILES_KEY]
    results = await reload_files(call.request.app[STORED_MENUS_KEY], files,
                                 MenuAudit(actor_of(call.who), "menu.reload"))
    await _audit(call, "menu.reload", "menus", {"results": [
        {"source": r["source"], "ok": r["ok"], "version": r.get("version")} for r in results
    ]})
    body = ReloadOut.model_validate({"results": results, **menus_view(registry)})
    return Status(200 if all(r["ok"] for r in results) else 422, body)


@routes.post(
    "/api/menus/{name}/activate", roles=ADMIN, body=VersionIn, response=MenuList, tag="menus",
    summary="Activate a stored version (roll back to any)", errors=(404, 409), invalid_code="bad_version",
)
async def activate_menu(call: ApiCall[VersionIn, None]) -> MenuList:
    """An older version than the active one is audited as `menu.rollback`, else `menu.activate`
    (404 `no_such_version`; 409 `menu_refused` when today's checker refuses it)."""
    await activate_version(call.request.app, call.who, call.params["name"], call.body.version)
    return _list(call)


@routes.post(
    "/api/menus/{name}/rollback", roles=ADMIN, response=MenuList, tag="menus",
    summary="Go back to the previously active version", errors=(409,),
)
async def rollback_menu(call: ApiCall[None, None]) -> MenuList:
    name = call.params["name"]
    try:
        await call.request.app[STORED_MENUS_KEY].rollback(
            name, by=_author(call), audit=MenuAudit(actor_of(call.who), "menu.rollback"))
    except (MenuError, NoSuchMenu, KeyError) as exc:
        raise ApiError(409, "no_rollback", str(exc)) from exc
    return _list(call)
