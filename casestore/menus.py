"""IVR menus in the case store: every published version and the active one per menu (the
emergency override is a live setting: casestore/live_settings.py). Plain data in and out;
checking menus is the IVR's job (hotline/stored_menus.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import insert, writing
from casestore.errors import StoreUnavailable
from casestore.models import MENU_ACTIVE, MENU_VERSIONS


@dataclass(frozen=True, slots=True)
class StoredMenu:
    name: str
    version: int
    digest: str
    source: str
    author: str
    message: str
    created_at: float
    text: str = ""  # only filled by `get`


@dataclass(frozen=True, slots=True)
class MenuAudit:
    """The audit entry of a menu change, written in the change's own transaction: `action`
    (e.g. `menu.publish`, `menu.rollback`) on target `menu:<name>` by `actor`; `after` gets
    the version number (and `activated`), `before` the version active until then."""

    actor: Actor
    action: str
    details: Mapping[str, Any] | None = None


class NoSuchMenu(LookupError):
    """The menu or version is not in the store."""


class MenuStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write = writing(engine)

    async def versions(self, name: str | None = None, *, text: bool = False) -> list[StoredMenu]:
        """Versions of one menu (or all), oldest first; the texts only when asked."""
        columns = [MENU_VERSIONS.c[c] for c in ("name", "version", "digest", "source", "author", "message",
                                                 "created_at")]
        if text:
            columns.append(MENU_VERSIONS.c.text)
        query = select(*columns).order_by(MENU_VERSIONS.c.name, MENU_VERSIONS.c.version)
        if name is not None:
            query = query.where(MENU_VERSIONS.c.name == name)
        rows = await self._read(query)
        return [StoredMenu(**row) for row in rows]

    async def get(self, name: str, version: int) -> StoredMenu:
        query = select(MENU_VERSIONS).where(MENU_VERSIONS.c.name == name, MENU_VERSIONS.c.version == version)
        rows = await self._read(query)
        if not rows:
            raise NoSuchMenu(f"menu {name!r} has no version {version} in the store")
        return StoredMenu(**rows[0])

    async def active(self) -> dict[str, int]:
        rows = await self._read(select(MENU_ACTIVE.c.name, MENU_ACTIVE.c.version))
        return {row["name"]: row["version"] for row in rows}

    async def fingerprint(self) -> tuple[int, float, int]:
        """Changes when a version is published or activated anywhere (cheap to poll)."""
        try:
            async with self.engine.connect() as conn:
                count = await conn.scalar(select(func.count()).select_from(MENU_VERSIONS))
                changed = await conn.scalar(select(func.coalesce(func.max(MENU_ACTIVE.c.changed_at), 0.0)))
                active = await conn.scalar(select(func.coalesce(func.sum(MENU_ACTIVE.c.version), 0)))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"reading menus failed: {exc}") from exc
        return int(count or 0), float(changed or 0.0), int(active or 0)

    async def publish(
        self, name: str, text: str, digest: str, *, at: float, source: str = "", author: str = "",
        message: str = "", activate: bool = True, audit: MenuAudit | None = None,
    ) -> int:
        """Store `text` as the next version of `name` (and make it active); returns its number.
        Two nodes publishing at once get two numbers (the primary key decides). `audit` is
        written in the same transaction."""
        for _ in range(5):
            try:
                async with self._write.begin() as conn:
                    latest = await conn.scalar(
                        select(func.coalesce(func.max(MENU_VERSIONS.c.version), 0)).where(MENU_VERSIONS.c.name == name)
                    )
                    number = int(latest or 0) + 1
                    await conn.execute(
                        MENU_VERSIONS.insert().values(
                            name=name, version=number, text=text, digest=digest, source=source[:512],
                            author=author[:128], message=message, created_at=at,
                        )
                    )
                    before = await self._active_version(conn, name)
                    if activate:
                        await self._set_active(conn, name, number, at, author)
                    if audit is not None:
                        await self._audit(conn, audit, name, at, before,
                                          {"version": number, "activated": activate, "message": message})
                return number
            except IntegrityError:
                continue  # another node took that number: try the next one
            except (SQLAlchemyError, OSError) as exc:
                raise StoreUnavailable(f"publishing menu {name!r} failed: {exc}") from exc
        raise StoreUnavailable(f"publishing menu {name!r}: version numbers kept colliding")

    async def activate(
        self, name: str, version: int, *, at: float, by: str = "", audit: MenuAudit | None = None
    ) -> int | None:
        """Make a stored version the active one (with its audit entry, in one transaction);
        returns the version active before."""
        try:
            async with self._write.begin() as conn:
                found = await conn.scalar(
                    select(func.count()).select_from(MENU_VERSIONS).where(
                        MENU_VERSIONS.c.name == name, MENU_VERSIONS.c.version == version
                    )
                )
                if not found:
                    raise NoSuchMenu(f"menu {name!r} has no version {version} in the store")
                before = await self._active_version(conn, name)
                await self._set_active(conn, name, version, at, by)
                if audit is not None:
                    await self._audit(conn, audit, name, at, before, {"version": version})
                return before
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"activating menu {name!r} failed: {exc}") from exc

    async def _active_version(self, conn: Any, name: str) -> int | None:
        found = await conn.scalar(select(MENU_ACTIVE.c.version).where(MENU_ACTIVE.c.name == name))
        return None if found is None else int(found)

    async def _audit(
        self, conn: Any, audit: MenuAudit, name: str, at: float, before: int | None, after: Mapping[str, Any]
    ) -> None:
        await record_audit(conn, audit.actor, audit.action, f"menu:{name}", at=at,
                           before={"version": before}, after={**after, **(audit.details or {})})

    async def _set_active(self, conn: Any, name: str, version: int, at: float, by: str) -> None:
        statement = insert(self.engine, MENU_ACTIVE).values(name=name, version=version, changed_at=at,
                                                            changed_by=by[:128])
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["name"], set_={"version": version, "changed_at": at, "changed_by": by[:128]}
            )
        )

    async def _read(self, query: Any) -> list[dict[str, Any]]:
        try:
            async with self.engine.connect() as conn:
                result = await conn.execute(query)
                return [dict(row._mapping) for row in result]
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"reading menus failed: {exc}") from exc
