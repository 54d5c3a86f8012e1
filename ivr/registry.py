"""Menus by name, with versions: load + check + activate, reload without restart, roll back.

`load(text, source)` checks the text; a menu with errors is never stored nor activated (the
running version stays). A good menu becomes the next version of its name (1, 2, ...) and, by
default, the active one. Calls take `active(name)` once and keep that Menu object, so calls
already in the IVR finish on the version they started with. `activate(name, version)` switches
to any kept version (rollback). Reading files is the caller's job (the core does no I/O).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from acd.clock import Clock
from ivr.checker import CheckResult, check_menu
from ivr.menu import Menu


class MenuError(Exception):
    """A menu could not be loaded or activated; `issues` lists the checker's findings."""

    def __init__(self, message: str, result: CheckResult | None = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True, slots=True)
class MenuVersion:
    name: str
    version: int
    source: str
    digest: str  # sha256 of the text
    loaded_at: float
    menu: Menu


class MenuRegistry:
    def __init__(
        self,
        clock: Clock | None = None,
        *,
        queues: Collection[str] | None = None,
        keep: int = 20,
    ) -> None:
        self._clock = clock
        self._queues = queues
        self._keep = keep
        self._versions: dict[str, list[MenuVersion]] = {}
        self._active: dict[str, MenuVersion] = {}
        self._listeners: list[Callable[[MenuVersion], None]] = []

    def check(self, text: str, source: str = "<menu>") -> CheckResult:
        """The checker's verdict on `text`, against this registry's queues; nothing stored."""
        return check_menu(text, source, queues=self._queues)

    def load(
        self,
        text: str,
        source: str = "<menu>",
        *,
        activate: bool = True,
        version: int | None = None,
        loaded_at: float | None = None,
    ) -> CheckResult:
        """Check `text`; if it has no error, store it as a new version (activated unless told
        not to). Loading the text of the active version again changes nothing. The result's
        `menu` carries its version number; `ok` is False when it was rejected. `version`: the
        number a store gave it (default: the next one); a number already kept is replaced."""
        return self.add(self.check(text, source), text, source, activate=activate, version=version,
                        loaded_at=loaded_at)

    def add(
        self,
        result: CheckResult,
        text: str,
        source: str = "<menu>",
        *,
        activate: bool = True,
        version: int | None = None,
        loaded_at: float | None = None,
    ) -> CheckResult:
        """`load` with the checker's result already at hand (checked off the event loop)."""
        if result.menu is None:
            return result
        digest = hashlib.sha256(text.encode()).hexdigest()
        name = result.menu.name
        current = self._active.get(name)
        if version is None and current is not None and current.digest == digest:
            result.menu = current.menu
            return result
        history = self._versions.setdefault(name, [])
        if version is not None:
            history[:] = [e for e in history if e.version != version]
        number = version if version is not None else (history[-1].version + 1 if history else 1)
        menu = dataclasses.replace(result.menu, version=number)
        if loaded_at is not None:
            at = loaded_at
        else:
            at = self._clock.now() if self._clock is not None else 0.0
        entry = MenuVersion(name, number, source, digest, at, menu)
        history.append(entry)
        history.sort(key=lambda e: e.version)
        self._trim(name)
        result.menu = menu
        if activate:
            self._set_active(entry)
        return result

    def activate(self, name: str, version: int) -> Menu:
        """Make a kept version active (e.g. roll back); calls in progress are not affected."""
        for entry in self._versions.get(name, []):
            if entry.version == version:
                self._set_active(entry)
                return entry.menu
        raise MenuError(
            f"menu {name!r} has no version {version} (kept: {self.version_numbers(name)})"
        )

    def rollback(self, name: str) -> Menu:
        """Activate the version before the active one."""
        current = self._active.get(name)
        older = [e for e in self._versions.get(name, []) if current and e.version < current.version]
        if not older:
            raise MenuError(f"menu {name!r} has no earlier version to roll back to")
        self._set_active(older[-1])
        return older[-1].menu

    def active(self, name: str) -> Menu | None:
        entry = self._active.get(name)
        return entry.menu if entry is not None else None

    def get(self, name: str) -> Menu:
        menu = self.active(name)
        if menu is None:
            raise MenuError(f"no active menu {name!r}")
        return menu

    def names(self) -> list[str]:
        return sorted(self._active)

    def known(self) -> list[str]:
        """Every menu with a kept version, active or not."""
        return sorted(self._versions)

    def versions(self, name: str) -> list[MenuVersion]:
        return list(self._versions.get(name, []))

    def version_numbers(self, name: str) -> list[int]:
        return [e.version for e in self._versions.get(name, [])]

    def subscribe(self, fn: Callable[[MenuVersion], None]) -> Callable[[], None]:
        """Called with each newly activated version."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn)

    def _set_active(self, entry: MenuVersion) -> None:
        self._active[entry.name] = entry
        for fn in list(self._listeners):
            fn(entry)

    def _trim(self, name: str) -> None:
        history = self._versions[name]
        active = self._active.get(name)
        while len(history) > self._keep:
            victim = next(e for e in history if e is not active)
            history.remove(victim)
