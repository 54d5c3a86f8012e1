"""The IVR editor's work, shared by its API and its pages: a draft checked (the checker of
`hotline ivr check`, against the ACD's queues) and drawn, in a worker thread; versions and
their texts from the case store; publish and activate with the audit entry in the change's
own transaction; the diff of two versions; a test call on the draft (`hotline.ivr_trial`,
the code of `hotline ivr try`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from casestore.menus import MenuAudit, NoSuchMenu, StoredMenu
from hotline.durability import STORED_MENUS_KEY
from hotline.ivr_trial import TrialCall, TrialError, try_menu
from hotline.roles import Principal
from hotline.web.accounts.service import actor_of
from hotline.web.base.errors import ApiError
from hotline.web.ivr_editor.diff import DiffRow, side_by_side, unified
from hotline.web.ivr_editor.graph import Graph, menu_graph, render_svg
from hotline.web.menus.service import MENUS_KEY, node_of, result_view
from ivr.checker import CheckResult
from ivr.registry import MenuRegistry

DRAFT_SOURCE = "<draft>"


@dataclass
class Draft:
    result: CheckResult
    graph: Graph | None
    svg: str
    node_lines: dict[str, int]

    @property
    def error_nodes(self) -> list[str]:
        return sorted({n for i in self.result.errors if (n := node_of(i.path))})


def _inspect(registry: MenuRegistry, text: str) -> Draft:
    result = registry.check(text, DRAFT_SOURCE)  # parses once; the drawing reuses the parse
    src = result.loaded
    data: Any = src.data if src is not None else None
    lines: dict[str, int] = {}
    if src is not None and isinstance(data, dict) and isinstance(data.get("nodes"), dict):
        lines = {str(k): line for k in data["nodes"] if (line := src.line(("nodes", k))) is not None}
    errors = {n for i in result.errors if (n := node_of(i.path))}
    graph = menu_graph(data, errors)
    name = result.menu.name if result.menu else (str(data.get("menu", "")) if isinstance(data, dict) else "")
    return Draft(result, graph, render_svg(graph, name, lines) if graph else "", lines)


async def inspect(app: web.Application, text: str) -> Draft:
    """Check and draw a draft; parsing, checking and drawing run off the event loop."""
    return await asyncio.to_thread(_inspect, app[MENUS_KEY], text)


def issues_view(result: CheckResult) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = result_view(result)["issues"]
    return issues


async def versions(app: web.Application, name: str) -> tuple[int | None, list[StoredMenu]]:
    """(active version, every stored version oldest first); NoSuchMenu when none is stored."""
    menus = app[STORED_MENUS_KEY]
    stored = await menus.versions(name)
    if not stored:
        raise NoSuchMenu(f"no menu {name!r} in the store")
    active = (await menus.store.active()).get(name)
    return active, stored


async def version_text(app: web.Application, name: str, version: int) -> StoredMenu:
    return await app[STORED_MENUS_KEY].get(name, version)


async def publish(app: web.Application, who: Principal | None, text: str, message: str) -> tuple[CheckResult, bool]:
    """Check and publish `text` as the next active version (author: the signed-in person),
    audited as `menu.upload`. Returns the result and whether a new version was stored (the
    active text again stores nothing). A broken menu changes nothing."""
    menus = app[STORED_MENUS_KEY]
    registry: MenuRegistry = app[MENUS_KEY]
    running = {name: menu.version for name in registry.names() if (menu := registry.active(name))}
    result = await menus.publish(text, author=who.actor if who else "system", message=message,
                                 audit=MenuAudit(actor_of(who), "menu.upload"))
    stored = result.menu is not None and result.ok and running.get(result.menu.name) != result.menu.version
    return result, stored


@dataclass(frozen=True)
class Diff:
    name: str
    old: int
    new: int
    unified: str
    rows: list[DiffRow]


async def diff(app: web.Application, name: str, old: int, new: int) -> Diff:
    menus = app[STORED_MENUS_KEY]
    try:
        a, b = await menus.get(name, old), await menus.get(name, new)
    except NoSuchMenu as exc:
        raise ApiError(404, "no_such_version", str(exc), menu=name) from exc

    def work() -> Diff:
        return Diff(name, old, new, unified(a.text, b.text, f"{name} v{old}", f"{name} v{new}"),
                    side_by_side(a.text, b.text))

    return await asyncio.to_thread(work)


async def trial(app: web.Application, text: str, call: TrialCall) -> dict[str, Any]:
    """Walk the draft `text` with the real interpreter (422 `menu_has_errors` naming the
    issues when it does not pass the checker; 400 `bad_call` for an unknown node, language,
    time zone or keys)."""
    result = await asyncio.to_thread(app[MENUS_KEY].check, text, DRAFT_SOURCE)
    if result.menu is None:
        first = result.errors[0] if result.errors else None
        where = f" (line {first.line}, {first.path})" if first and first.line else ""
        raise ApiError(422, "menu_has_errors", f"the draft has errors{where}; fix them to try it",
                       issues=issues_view(result))
    try:
        return await try_menu(result.menu, call)
    except TrialError as exc:
        raise ApiError(400, "bad_call", str(exc)) from exc
