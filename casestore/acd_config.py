"""Queues and agents as edited live, in the case store: every version of each (author,
message, time), the newest one being the one the ACD runs; each save audited in the same
transaction. Plain data in and out (the item as the configuration file writes it); checking
it is the caller's job (hotline/acd_config.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import writing
from casestore.errors import InvalidInput, StoreUnavailable
from casestore.models import ACD_CONFIG_VERSIONS as T
from casestore.repository import _Transaction

KINDS = ("queue", "agent")


@dataclass(frozen=True, slots=True)
class ConfigVersion:
    kind: str
    name: str
    version: int
    author: str
    message: str
    created_at: float
    data: dict[str, Any] = field(default_factory=dict)


class NoSuchVersion(LookupError):
    """That queue or agent, or that version of it, is not in the store."""


def canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _version(row: Any) -> ConfigVersion:
    m = row._mapping
    return ConfigVersion(m["kind"], m["name"], m["version"], m["author"], m["message"], m["created_at"],
                         json.loads(m["data"]))


class AcdConfigStore:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def current(self) -> dict[tuple[str, str], ConfigVersion]:
        """The newest version of every queue and agent, by (kind, name)."""
        newest = (select(T.c.kind, T.c.name, func.max(T.c.version).label("version"))
                  .group_by(T.c.kind, T.c.name).subquery())
        query = select(T).join(newest, (T.c.kind == newest.c.kind) & (T.c.name == newest.c.name)
                               & (T.c.version == newest.c.version)).order_by(T.c.kind, T.c.name)
        async with _Transaction(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return {(v.kind, v.name): v for v in map(_version, rows)}

    async def versions(self, kind: str, name: str) -> list[ConfigVersion]:
        """Every version of one queue or agent, oldest first (NoSuchVersion: none)."""
        async with _Transaction(self.engine) as conn:
            rows = (await conn.execute(select(T).where(T.c.kind == kind, T.c.name == name)
                                       .order_by(T.c.version))).all()
        if not rows:
            raise NoSuchVersion(f"no {kind} {name!r} in the store")
        return [_version(r) for r in rows]

    async def get(self, kind: str, name: str, version: int) -> ConfigVersion:
        for found in await self.versions(kind, name):
            if found.version == version:
                return found
        raise NoSuchVersion(f"{kind} {name!r} has no version {version}")

    async def fingerprint(self) -> tuple[int, float]:
        """Changes whenever a version is saved anywhere (cheap to poll)."""
        async with _Transaction(self.engine) as conn:
            row = (await conn.execute(select(func.count(), func.coalesce(func.max(T.c.created_at), 0.0))
                                      .select_from(T))).one()
        return int(row[0]), float(row[1])

    async def save(
        self, actor: Actor, kind: str, name: str, data: Mapping[str, Any], *, message: str = "",
        action: str | None = None,
    ) -> ConfigVersion:
        """Store `data` as the next version of `kind` `name` and audit it, in one transaction;
        the same data as the newest version stores nothing and returns that version."""
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {KINDS}, not {kind!r}")
        text = canonical(data)
        for _ in range(5):
            at = self.clock()
            try:
                async with _Transaction(writing(self.engine)) as conn:
                    last = (await conn.execute(
                        select(T).where(T.c.kind == kind, T.c.name == name).order_by(T.c.version.desc()).limit(1)
                    )).first()
                    before = _version(last) if last is not None else None
                    if before is not None and canonical(before.data) == text:
                        return before
                    number = (before.version if before else 0) + 1
                    await conn.execute(T.insert().values(
                        kind=kind, name=name, version=number, data=text, author=actor.login[:128],
                        message=message, created_at=at,
                    ))
                    await record_audit(conn, actor, action or f"{kind}.save", f"{kind}:{name}", at=at,
                                       before={"version": before.version, **before.data} if before else None,
                                       after={"version": number, **json.loads(text)})
                return ConfigVersion(kind, name, number, actor.login, message, at, json.loads(text))
            except InvalidInput as exc:
                if not isinstance(exc.__cause__, IntegrityError):
                    raise
                continue  # another node took that number at the same time: the next one
        raise StoreUnavailable(f"saving {kind} {name!r}: version numbers kept colliding")

    async def import_missing(self, kind: str, items: Iterable[Mapping[str, Any]], *, source: str) -> list[str]:
        """The first import: every item whose name the store does not know yet becomes its
        version 1 (author `config`); returns their names."""
        known = {name for (k, name) in await self.current() if k == kind}
        added = []
        for item in items:
            name = str(item["id" if kind == "agent" else "name"])
            if name in known:
                continue
            await self.save(Actor("config"), kind, name, item, message=f"first import of {source}",
                            action=f"{kind}.import")
            added.append(name)
        return added
