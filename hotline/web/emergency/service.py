"""The emergency override's scopes (the emergency nodes the active menus have) and its
persistence, the one path it takes: stored in the case store's live settings with its audit
entry on every change (`switch`), restored when the server starts, and followed on every
node of a cluster (`emergency_ctx` reads the stored value again every `POLL` seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from casestore.accounts import Actor
from casestore.live_settings import LiveSettings
from hotline.roles import Principal
from hotline.web.accounts.service import actor_of
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, EMERGENCY_KEY, STORE_KEY
from hotline.web.menus.service import MENUS_KEY
from ivr.emergency import Emergency, EmergencyState
from ivr.registry import MenuRegistry

log = logging.getLogger("hotline.emergency")
SETTING = "emergency"
POLL = 2.0  # seconds between two reads of the stored override (changes made on another node)


def known_scopes(registry: MenuRegistry) -> set[str]:
    """The names of the emergency nodes in the active menus (what a scope may name)."""
    names: set[str] = set()
    for menu_name in registry.names():
        menu = registry.active(menu_name)
        if menu is None:
            continue
        names.update(n.emergency_name for n in menu.nodes.values() if n.kind == "emergency")
    return names


def as_dict(current: Emergency) -> dict[str, Any]:
    return {
        "active": current.active, "announcement": dict(current.announcement), "since": current.since,
        "by": current.by, "scope": sorted(current.scope),
    }


def restore(state: EmergencyState, stored: Mapping[str, Any] | None) -> None:
    if not stored or not stored.get("active"):
        state.clear()
        return
    state.replace(Emergency(
        True, {str(k): str(v) for k, v in dict(stored.get("announcement") or {}).items()},
        float(stored.get("since") or 0.0), str(stored.get("by", "")),
        frozenset(str(s) for s in stored.get("scope") or ()),
    ))


async def save(settings: LiveSettings, actor: Actor, before: Emergency, after: Emergency) -> None:
    await settings.put(actor, SETTING, as_dict(after), action="emergency.set", before=as_dict(before))


async def switch(
    app: web.Application, who: Principal, active: bool, announcement: Mapping[str, str],
    scope: list[str] | tuple[str, ...],
) -> Emergency:
    """Switch the override on (for `scope`: emergency node names the active menus have; empty
    means all) or off; stored with its audit entry, undone if the store refuses."""
    state = app[EMERGENCY_KEY]
    if active:
        known = known_scopes(app[MENUS_KEY])
        unknown = sorted(set(scope) - known)
        if unknown:
            raise ApiError(
                400, "unknown_scope", f"no active menu has an emergency node named {', '.join(unknown)}",
                unknown=unknown, known=sorted(known),
            )
    before = state.current()
    if active:
        state.activate(app[ACD_KEY].clock.now(), who.agent_id or who.actor, announcement, frozenset(scope))
    else:
        state.clear()
    try:
        await save(app[STORE_KEY].live_settings, actor_of(who), before, state.current())
    except Exception:
        state.replace(before)  # not stored, not switched: it would not survive a restart
        raise
    log.warning("emergency override %s by %s (scope %s)", "ON" if active else "off", who.actor,
                sorted(scope) or "all")
    return state.current()


async def emergency_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the store opens: the stored override becomes the running one; while the app
    runs, a change stored by another node (same case store) is applied here too."""
    settings = app[STORE_KEY].live_settings
    state = app[EMERGENCY_KEY]
    stored = await settings.get(SETTING)
    restore(state, stored)
    if state.current().active:
        scope = sorted(state.current().scope) or "all"
        unknown = set(state.current().scope) - known_scopes(app[MENUS_KEY])
        log.warning("emergency override restored ON (scope %s)%s", scope,
                    f"; scopes no menu has now: {sorted(unknown)}" if unknown else "")
    watcher = asyncio.get_running_loop().create_task(follow(settings, state, stored), name="emergency-follow")
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def follow(settings: LiveSettings, state: EmergencyState, seen: Mapping[str, Any] | None, *,
                 poll: float = POLL) -> None:
    """Apply a stored override that changed since it was last read and differs from the
    running one (a switch on this node stores what it runs already: nothing to apply)."""
    while True:
        await asyncio.sleep(poll)
        try:
            stored = await settings.get(SETTING)
        except Exception as exc:  # the store is away: the running override stays
            log.debug("emergency override not read: %r", exc)
            continue
        if stored == seen:
            continue
        seen = stored
        running = as_dict(state.current())
        if stored is None or stored.get("active") != running["active"] or (
            stored.get("active") and {k: stored.get(k) for k in running} != running
        ):
            restore(state, stored)
            log.warning("emergency override %s (changed on another node)",
                        "ON" if state.current().active else "off")
