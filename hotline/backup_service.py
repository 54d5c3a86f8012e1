"""The backup schedule inside `hotline serve` (when `backup.serve` is true): one pass of
`run_schedule` at start (a missed backup is caught up) and then at every `backup.at`.

A failed pass is logged and tried again after `RETRY` seconds; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from casestore.backup.manifest import BackupError, catalog
from casestore.backup.run import ScheduleResult, run_schedule
from casestore.backup.schedule import plan
from casestore.backup.settings import BackupSettings
from casestore.errors import CaseStoreError
from casestore.store import Store

log = logging.getLogger("hotline.backup")
RETRY = 900.0
MAX_SLEEP = 3600.0  # wake at least hourly (the wall clock may jump)


class BackupService:
    def __init__(self, settings: BackupSettings, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.passes = 0
        self.last: ScheduleResult | None = None
        self.passed = asyncio.Event()  # set after each pass (tests wait on it)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="backup-schedule")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            wait = await self.run_once()
            await asyncio.sleep(wait)

    async def run_once(self) -> float:
        """One pass; the seconds to sleep before the next."""
        wait = RETRY
        try:
            result = await run_schedule(self.store.engine, self.store.recordings, self.settings, now=self.clock())
            self.last = result
            self._log(result)
            backups = await asyncio.to_thread(catalog, self.settings.location)
            wait = plan(self.clock(), backups, self.settings).next_slot - self.clock()
        except (BackupError, CaseStoreError, OSError) as exc:
            log.error("backup to %s failed (next try in %.0f s): %s", self.settings.location, RETRY, exc)
        self.passes += 1
        self.passed.set()
        return min(max(wait, 1.0), MAX_SLEEP)

    def _log(self, result: ScheduleResult) -> None:
        if result.backup is None:
            return
        log.info(
            "backup %s (%s) written to %s: %d recordings, pruned %s",
            result.backup.id, result.backup.kind, self.settings.location,
            len(result.backup.recordings), result.pruned or "none",
        )
        for problem in result.backup.missing_recordings:
            log.warning("backup %s: recording not backed up: %s", result.backup.id, problem)
        if result.verify is not None and not result.verify.ok:
            log.error("backup %s failed verification: %s", result.backup.id, "; ".join(result.verify.problems))


def backup_cleanup_ctx(
    settings: BackupSettings, store_of: Callable[[web.Application], Store]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        service = BackupService(settings, store_of(app))
        app[BACKUP_KEY] = service
        service.start()
        try:
            yield
        finally:
            await service.stop()

    return ctx


BACKUP_KEY = web.AppKey("backup", BackupService)
