"""IVR menus over the API: list, check, upload (activate), activate a version, roll back, reload.

A menu that fails the checker is never activated; the running version stays and the answer
lists every error with its node path and line. Calls in progress keep the version they
started with (the registry hands each call its own Menu object). Every version is kept in the
case store (`hotline.stored_menus`), so uploads survive a restart and every node serves them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import web

from casestore.menus import NoSuchMenu
from hotline.api_auth import Role
from hotline.config import ConfigError
from hotline.durability import STORED_MENUS_KEY
from hotline.server import ACD_KEY, ApiError, principal, read_json, require
from hotline.stored_menus import StoredMenus
from ivr.checker import CheckResult, check_menu
from ivr.registry import MenuError, MenuRegistry

MENUS_KEY = web.AppKey("menus", MenuRegistry)
MENU_FILES_KEY = web.AppKey("menu_files", list[Path])
MAX_MENU_BYTES = 512 * 1024
log = logging.getLogger("hotline.menus")


def check_menu_files(registry: MenuRegistry, paths: Sequence[Path]) -> list[CheckResult]:
    """Check every menu file; at start-up a broken file is a configuration error. (They are
    loaded from the case store, where they are the first import: `hotline.stored_menus`.)"""
    results = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read menu: {exc.strerror}") from exc
        result = registry.check(text, str(path))
        if not result.ok:
            errors = "\n  ".join(issue.format(str(path)) for issue in result.errors)
            raise ConfigError(f"menu {path} has errors:\n  {errors}")
        results.append(result)
    return results


def load_menu_files(registry: MenuRegistry, paths: Sequence[Path]) -> list[CheckResult]:
    """Load every menu file into `registry` alone (no store: tools and tests)."""
    results = check_menu_files(registry, paths)
    for path, result in zip(paths, results, strict=True):
        registry.add(result, path.read_text(encoding="utf-8"), str(path))
    return results


def _author(request: web.Request) -> str:
    who = principal(request)
    return who.agent_id or who.role.value


def _result_view(result: CheckResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "menu": result.menu.name if result.menu else None,
        "version": result.menu.version if result.menu else None,
        "issues": [
            {"path": i.path, "line": i.line, "message": i.message, "severity": i.severity}
            for i in result.issues
        ],
    }


def _menus_view(registry: MenuRegistry) -> dict[str, Any]:
    menus = []
    for name in registry.names():
        active = registry.active(name)
        menus.append(
            {
                "name": name,
                "active_version": active.version if active else None,
                "versions": [
                    {"version": v.version, "source": v.source, "loaded_at": v.loaded_at, "sha256": v.digest}
                    for v in registry.versions(name)
                ],
            }
        )
    return {"menus": menus}


async def list_menus(request: web.Request) -> web.Response:
    require(request, Role.ADMIN, Role.SUPERVISOR)
    return web.json_response(_menus_view(request.app[MENUS_KEY]))


async def _menu_text(request: web.Request) -> str:
    if request.content_length is not None and request.content_length > MAX_MENU_BYTES:
        raise ApiError(413, "too_large", f"a menu is at most {MAX_MENU_BYTES} bytes")
    raw = await request.content.read(MAX_MENU_BYTES + 1)
    if len(raw) > MAX_MENU_BYTES:
        raise ApiError(413, "too_large", f"a menu is at most {MAX_MENU_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "bad_encoding", "a menu is UTF-8 YAML text") from exc


async def upload_menu(request: web.Request) -> web.Response:
    """POST YAML text: checked, stored as a new version and activated (`?activate=false`: only
    stored; `?check_only=true`: only checked)."""
    require(request, Role.ADMIN)
    text = await _menu_text(request)
    loop = asyncio.get_running_loop()
    if request.query.get("check_only") == "true":
        queues = list(request.app[ACD_KEY].queues)
        result = await loop.run_in_executor(None, partial(check_menu, text, "<upload>", queues=queues))
        return web.json_response(_result_view(result), status=200 if result.ok else 422)
    activate = request.query.get("activate", "true") != "false"
    result = await request.app[STORED_MENUS_KEY].publish(
        text, author=_author(request), message=request.query.get("message", ""), activate=activate
    )
    return web.json_response(_result_view(result), status=200 if result.ok else 422)


def _version_arg(body: dict[str, Any]) -> int:
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(400, "bad_version", "'version' must be an integer")
    return version


async def activate_menu(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    body = await read_json(request)
    registry = request.app[MENUS_KEY]
    try:
        await request.app[STORED_MENUS_KEY].activate(
            request.match_info["name"], _version_arg(body), by=_author(request)
        )
    except (MenuError, NoSuchMenu, KeyError) as exc:
        raise ApiError(404, "no_such_version", str(exc)) from exc
    return web.json_response(_menus_view(registry))


async def rollback_menu(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    registry = request.app[MENUS_KEY]
    try:
        await request.app[STORED_MENUS_KEY].rollback(request.match_info["name"], by=_author(request))
    except (MenuError, NoSuchMenu, KeyError) as exc:
        raise ApiError(409, "no_rollback", str(exc)) from exc
    return web.json_response(_menus_view(registry))


def _read_menu_file(path: Path) -> str:
    """A menu file's text, at most MAX_MENU_BYTES of UTF-8 (OSError / ValueError otherwise)."""
    with path.open("rb") as fh:
        raw = fh.read(MAX_MENU_BYTES + 1)
    if len(raw) > MAX_MENU_BYTES:
        raise ValueError(f"larger than {MAX_MENU_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8 text") from exc


async def reload_files(menus: StoredMenus, paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Re-read menu files; each valid changed file becomes the active version (published in
    the store), a broken one is reported and the running version stays. Reading and YAML
    parsing run off the event loop."""
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            text = await asyncio.to_thread(_read_menu_file, path)
        except OSError as exc:
            log.error("menu %s not reloaded: %s", path, exc.strerror or exc)
            results.append({"ok": False, "source": str(path), "error": exc.strerror or str(exc)})
            continue
        except ValueError as exc:
            log.error("menu %s not reloaded: %s", path, exc)
            results.append({"ok": False, "source": str(path), "error": str(exc)})
            continue
        result = await menus.publish(text, author="config", message=f"reload of {path.name}", source=str(path))
        results.append({"source": str(path), **_result_view(result)})
        if result.ok:
            log.info("menu %s: version %s active", path, result.menu.version if result.menu else "?")
        else:
            for issue in result.errors:
                log.error("menu not activated: %s", issue.format(str(path)))
    return results


async def reload_menus(request: web.Request) -> web.Response:
    """Re-read the configured menu files (also done on SIGHUP by `hotline serve`)."""
    require(request, Role.ADMIN)
    registry = request.app[MENUS_KEY]
    files: list[Path] = request.app[MENU_FILES_KEY]
    results = await reload_files(request.app[STORED_MENUS_KEY], files)
    ok = all(r["ok"] for r in results)
    return web.json_response({"results": results, **_menus_view(registry)}, status=200 if ok else 422)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("menu reload failed: %s", task.exception())


def reload_on_sighup(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup_ctx: `kill -HUP <pid>` reloads the menu files without a restart."""

    async def ctx() -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        files: list[Path] = app[MENU_FILES_KEY]
        running: set[asyncio.Task[Any]] = set()

        def on_sighup() -> None:
            task = loop.create_task(reload_files(app[STORED_MENUS_KEY], files))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(_log_failure)

        try:
            loop.add_signal_handler(signal.SIGHUP, on_sighup)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here
            yield
            return
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
            for task in list(running):
                task.cancel()

    return ctx()


def add_menu_routes(app: web.Application, files: Sequence[Path]) -> None:
    app[MENU_FILES_KEY] = list(files)
    app.router.add_get("/api/menus", list_menus)
    app.router.add_post("/api/menus", upload_menu)
    app.router.add_post("/api/menus/reload", reload_menus)
    app.router.add_post("/api/menus/{name}/activate", activate_menu)
    app.router.add_post("/api/menus/{name}/rollback", rollback_menu)
