"""The IVR menus as every node sees them: versions kept in the case store, the running
`MenuRegistry` loaded from it, changes made on another node picked up by polling.

    menus = StoredMenus(registry, MenuStore(engine), clock)
    await menus.start(config_files)         # first import of the YAML files, then load all
    await menus.publish(text, author="ann", message="storm wording")   # -> CheckResult
    await menus.activate("airline", 3, by="ann")
    await menus.rollback("airline", by="ann")
    menus.list(); await menus.versions("airline"); await menus.get("airline", 2)

A broken menu is never stored and the running version stays. Checking (YAML parsing) runs in
a worker thread. A YAML file of the configuration is imported once, when the store has no
version of that menu yet; afterwards the store is the truth (files change it only through
`publish`, e.g. the SIGHUP reload).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from acd.clock import Clock
from casestore.errors import StoreUnavailable
from casestore.menus import MenuAudit, MenuStore, NoSuchMenu, StoredMenu
from ivr.checker import CheckResult
from ivr.registry import MenuError, MenuRegistry

log = logging.getLogger("hotline.menus")


@dataclass(frozen=True, slots=True)
class MenuSummary:
    name: str
    active_version: int | None
    versions: int


class StoredMenus:
    def __init__(self, registry: MenuRegistry, store: MenuStore, clock: Clock, *, poll: float = 2.0) -> None:
        self.registry = registry
        self.store = store
        self.clock = clock
        self.poll = poll
        self._seen: tuple[int, float, int] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- start and stop --------------------------------------------------------------------

    async def start(self, files: Sequence[Path] = ()) -> None:
        """Import the configured files the store does not know yet, load every stored
        version and the active ones, then poll for changes made by other nodes."""
        known = {m.name for m in await self.store.versions()}
        for path in files:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
            result = await asyncio.to_thread(self.registry.check, text, str(path))
            if result.menu is None or result.menu.name in known:
                continue
            await self._publish_checked(result, text, source=str(path), author="config",
                                        message=f"first import of {path.name}")
            known.add(result.menu.name)
        await self.refresh(force=True)
        if self.poll > 0:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="menus-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.refresh()
            except StoreUnavailable as exc:
                log.warning("menus: cannot read the store (%s); the running versions stay", exc)

    async def refresh(self, *, force: bool = False) -> None:
        """Load versions and activations made elsewhere (by another node)."""
        async with self._lock:
            seen = await self.store.fingerprint()
            if seen == self._seen and not force:
                return
            for name, version in (await self.store.active()).items():
                current = self.registry.active(name)
                if current is not None and current.version == version:
                    continue
                try:
                    if version not in self.registry.version_numbers(name):
                        await self._load_version(name, version)
                    self.registry.activate(name, version)
                except (MenuError, NoSuchMenu) as exc:
                    log.error("menus: cannot activate %s v%d: %s", name, version, exc)
            self._seen = seen

    async def _load_version(self, name: str, version: int) -> None:
        full = await self.store.get(name, version)
        result = await asyncio.to_thread(self.registry.check, full.text, full.source or "<store>")
        if result.menu is None:  # stored under another configuration (queues): refused
            raise MenuError(f"menu {name!r} v{version} no longer passes the checker", result)
        self.registry.add(result, full.text, full.source, activate=False, version=version,
                          loaded_at=full.created_at)

    # -- the editor's API ------------------------------------------------------------------

    def list(self) -> builtins.list[MenuSummary]:
        """Menus with their active version (from the running registry)."""
        out = []
        for name in self.registry.known():
            active = self.registry.active(name)
            out.append(MenuSummary(name, active.version if active else None, len(self.registry.versions(name))))
        return out

    async def versions(self, name: str) -> builtins.list[StoredMenu]:
        """Every stored version of `name` (author, message, time; no text), oldest first."""
        return await self.store.versions(name)

    async def get(self, name: str, version: int | None = None) -> StoredMenu:
        """One stored version with its text (default: the active one). NoSuchMenu if absent."""
        if version is None:
            active = (await self.store.active()).get(name)
            if active is None:
                raise NoSuchMenu(f"no active menu {name!r}")
            version = active
        return await self.store.get(name, version)

    async def publish(
        self, text: str, *, author: str, message: str = "", source: str = "<upload>", activate: bool = True,
        audit: MenuAudit | None = None,
    ) -> CheckResult:
        """Check `text`; a menu without errors becomes the next version in the store (and the
        active one unless `activate=False`), with `audit` in the same transaction. A broken one
        changes nothing (`result.ok`); nor does the active text again (no new version)."""
        result = await asyncio.to_thread(self.registry.check, text, source)
        if result.menu is None:
            return result
        return await self._publish_checked(result, text, source=source, author=author, message=message,
                                           activate=activate, audit=audit)

    async def _publish_checked(
        self, result: CheckResult, text: str, *, source: str, author: str, message: str, activate: bool = True,
        audit: MenuAudit | None = None,
    ) -> CheckResult:
        assert result.menu is not None
        name = result.menu.name
        digest = hashlib.sha256(text.encode()).hexdigest()
        current = self.registry.active(name)
        if activate and current is not None and self._digest(name, current.version) == digest:
            result.menu = current
            return result  # the running text again: nothing new
        async with self._lock:
            at = self.clock.now()
            number = await self.store.publish(name, text, digest, at=at, source=source, author=author,
                                              message=message, activate=activate, audit=audit)
            added = self.registry.add(result, text, source, activate=activate, version=number, loaded_at=at)
            log.info("menu %s: version %d published by %s%s", name, number, author, " (active)" if activate else "")
            return added

    def _digest(self, name: str, version: int) -> str:
        for entry in self.registry.versions(name):
            if entry.version == version:
                return entry.digest
        return ""

    async def activate(self, name: str, version: int, *, by: str, audit: MenuAudit | None = None) -> int | None:
        """Make a stored version active on every node (with `audit` in the same transaction);
        returns the version active before. NoSuchMenu if it is not stored."""
        async with self._lock:
            if version not in self.registry.version_numbers(name):
                await self._load_version(name, version)  # NoSuchMenu, or refused by the checker
            before = await self.store.activate(name, version, at=self.clock.now(), by=by, audit=audit)
            self.registry.activate(name, version)
            log.info("menu %s: version %d activated by %s", name, version, by)
            return before

    async def rollback(self, name: str, *, by: str, audit: MenuAudit | None = None) -> int:
        """Activate the stored version before the active one; returns its number."""
        active = (await self.store.active()).get(name)
        older = [v.version for v in await self.store.versions(name) if active is not None and v.version < active]
        if not older:
            raise MenuError(f"menu {name!r} has no earlier version to roll back to")
        await self.activate(name, older[-1], by=by, audit=audit)
        return older[-1]
