"""IVR menu files: loading at start-up, reloading (API and SIGHUP), result views.

A menu that fails the checker is never activated; the running version stays. Calls in
progress keep the version they started with (the registry hands each call its own Menu).
Every version is kept in the case store (`hotline.stored_menus`), so uploads survive a
restart and every node serves them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from casestore.accounts import Actor
from casestore.menus import MenuAudit, NoSuchMenu
from hotline.config import ConfigError
from hotline.durability import STORED_MENUS_KEY
from hotline.roles import Principal
from hotline.stored_menus import StoredMenus
from hotline.web.accounts.service import actor_of
from hotline.web.base.errors import ApiError
from ivr.checker import CheckResult
from ivr.registry import MenuError, MenuRegistry

MAX_MENU_BYTES = 512 * 1024
MENUS_KEY = web.AppKey("menus", MenuRegistry)
MENU_FILES_KEY = web.AppKey("menu_files", list[Path])
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


_NODE = re.compile(r"nodes\.([^.\[]+)")


def node_of(path: str) -> str | None:
    """The node an issue path is in (`nodes.main.options[1].next` -> `main`), else None."""
    m = _NODE.match(path)
    return m.group(1) if m else None


def result_view(result: CheckResult) -> dict[str, Any]:
    """The checker's verdict as plain data; each issue names its line and node."""
    return {
        "ok": result.ok,
        "menu": result.menu.name if result.menu else None,
        "version": result.menu.version if result.menu else None,
        "issues": [
            {"path": i.path, "line": i.line, "node": node_of(i.path), "message": i.message,
             "severity": i.severity}
            for i in result.issues
        ],
    }


def menus_view(registry: MenuRegistry) -> dict[str, Any]:
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


async def activate_version(app: web.Application, who: Principal | None, name: str, version: int) -> str:
    """Make a stored version the active one on every node; audited as `menu.rollback` when it
    is older than the active one, else `menu.activate` (same transaction). Returns the action."""
    menus = app[STORED_MENUS_KEY]
    active = (await menus.store.active()).get(name)
    action = "menu.rollback" if active is not None and version < active else "menu.activate"
    try:
        await menus.activate(name, version, by=who.actor if who else "system",
                             audit=MenuAudit(actor_of(who), action))
    except NoSuchMenu as exc:
        raise ApiError(404, "no_such_version", str(exc), menu=name, version=version) from exc
    except MenuError as exc:  # stored, but refused by today's checker (e.g. a queue is gone)
        issues = result_view(exc.result)["issues"] if exc.result is not None else []
        raise ApiError(409, "menu_refused", str(exc), menu=name, version=version, issues=issues) from exc
    return action


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


async def reload_files(
    menus: StoredMenus, paths: Sequence[Path], audit: MenuAudit | None = None
) -> list[dict[str, Any]]:
    """Re-read menu files; each valid changed file becomes the active version (published in
    the store, with `audit` in the same transaction), a broken one is reported and the running
    version stays. Reading and YAML parsing run off the event loop."""
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            text = await asyncio.to_thread(_read_menu_file, path)
        except OSError as exc:
            log.error("menu %s not reloaded: %s", path, exc.strerror or exc)
            results.append({"ok": False, "source": str(path), "error": exc.strerror or str(exc), "issues": []})
            continue
        except ValueError as exc:
            log.error("menu %s not reloaded: %s", path, exc)
            results.append({"ok": False, "source": str(path), "error": str(exc), "issues": []})
            continue
        result = await menus.publish(text, author="config", message=f"reload of {path.name}", source=str(path),
                                     audit=audit)
        results.append({"source": str(path), **result_view(result)})
        if result.ok:
            log.info("menu %s: version %s active", path, result.menu.version if result.menu else "?")
        else:
            for issue in result.errors:
                log.error("menu not activated: %s", issue.format(str(path)))
    return results


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
            task = loop.create_task(reload_files(app[STORED_MENUS_KEY], files,
                                                 MenuAudit(Actor("sighup"), "menu.reload")))
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
