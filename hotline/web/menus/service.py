"""IVR menu files: loading at start-up, reloading (API and SIGHUP), result views.

A menu that fails the checker is never activated; the running version stays. Calls in
progress keep the version they started with (the registry hands each call its own Menu).
Every version is kept in the case store (`hotline.stored_menus`), so uploads survive a
restart and every node serves them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.config import ConfigError
from hotline.durability import STORED_MENUS_KEY
from hotline.stored_menus import StoredMenus
from ivr.checker import CheckResult
from ivr.registry import MenuRegistry

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


def result_view(result: CheckResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "menu": result.menu.name if result.menu else None,
        "version": result.menu.version if result.menu else None,
        "issues": [
            {"path": i.path, "line": i.line, "message": i.message, "severity": i.severity}
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
            results.append({"ok": False, "source": str(path), "error": exc.strerror or str(exc), "issues": []})
            continue
        except ValueError as exc:
            log.error("menu %s not reloaded: %s", path, exc)
            results.append({"ok": False, "source": str(path), "error": str(exc), "issues": []})
            continue
        result = await menus.publish(text, author="config", message=f"reload of {path.name}", source=str(path))
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
