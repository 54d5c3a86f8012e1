"""Settings changed while running that survive a restart (the emergency override): one JSON
value per key, written with its audit entry in one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import writing
from casestore.models import LIVE_SETTINGS
from casestore.repository import _Transaction


class LiveSettings:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def get(self, key: str) -> dict[str, Any] | None:
        async with _Transaction(self.engine) as conn:
            row = (await conn.execute(select(LIVE_SETTINGS.c.value).where(LIVE_SETTINGS.c.key == key))).first()
        return None if row is None else dict(json.loads(row[0]))

    async def put(
        self, actor: Actor, key: str, value: Mapping[str, Any], *, action: str,
        before: Mapping[str, Any] | None = None,
    ) -> None:
        """Store `value` under `key` and audit the change, in one transaction."""
        at = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            await conn.execute(delete(LIVE_SETTINGS).where(LIVE_SETTINGS.c.key == key))
            await conn.execute(LIVE_SETTINGS.insert().values(
                key=key, value=json.dumps(dict(value), sort_keys=True, ensure_ascii=False),
                updated_at=at, updated_by=actor.login[:64],
            ))
            await record_audit(conn, actor, action, key, at=at, before=before, after=value)
