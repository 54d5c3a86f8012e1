"""IVR menu files: loading at start-up, reloading (API and SIGHUP), result views.

A menu that fails the checker is never activated; the running version stays. Calls in
progress keep the version they started with (the registry hands each call its own Menu).
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
from ivr.checker import CheckResult
from ivr.registry import MenuRegistry

MENUS_KEY = web.AppKey("menus", MenuRegistry)
MENU_FILES_KEY = web.AppKey("menu_files", list[Path])
log = logging.getLogger("hotline.menus")


def load_menu_files(registry: MenuRegistry, paths: Sequence[Path]) -> list[CheckResult]:
    """Load every menu file; at start-up a broken file is a configuration error."""
    results = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read menu: {exc.strerror}") from exc
        result = registry.load(text, str(path))
        if not result.ok:
            errors = "\n  ".join(issue.format(str(path)) for issue in result.errors)
            raise ConfigError(f"menu {path} has errors:\n  {errors}")
        results.append(result)
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


def reload_files(registry: MenuRegistry, paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Re-read menu files; each valid changed file becomes the active version, a broken one
    is reported and the running version stays."""
    results: list[dict[str, Any]] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            results.append({"ok": False, "source": str(path), "error": exc.strerror, "issues": []})
            continue
        result = registry.load(text, str(path))
        results.append({"source": str(path), **result_view(result)})
        if result.ok:
            log.info("menu %s: version %s active", path, result.menu.version if result.menu else "?")
        else:
            for issue in result.errors:
                log.error("menu not activated: %s", issue.format(str(path)))
    return results


def reload_on_sighup(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup_ctx: `kill -HUP <pid>` reloads the menu files without a restart."""

    async def ctx() -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        files: list[Path] = app[MENU_FILES_KEY]
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: reload_files(app[MENUS_KEY], files))
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here
            yield
            return
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGHUP)

    return ctx()
