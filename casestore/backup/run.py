"""One pass of the backup schedule: the due backup (full or incremental), its verification,
and pruning by the retention rules. Run by `hotline backup run-schedule` (cron, systemd
timer) and, when `backup.serve` is true, by `hotline serve` once a day at `backup.at`."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.backup.create import Progress, create_backup, no_progress
from casestore.backup.manifest import Manifest, catalog
from casestore.backup.schedule import Plan, plan, to_prune
from casestore.backup.settings import BackupSettings
from casestore.backup.verify import VerifyReport, verify_backup
from recordings.store import FilesystemRecordingStore


@dataclass
class ScheduleResult:
    plan: Plan
    backup: Manifest | None = None
    verify: VerifyReport | None = None
    pruned: list[str] = field(default_factory=list)


async def run_schedule(
    engine: AsyncEngine,
    recordings: FilesystemRecordingStore,
    settings: BackupSettings,
    *,
    now: float | None = None,
    force: bool = False,
    progress: Progress = no_progress,
) -> ScheduleResult:
    """Make the backup the schedule calls for now (nothing if today's is done, unless
    `force`), verify it if configured, then drop the backups the retention rules let go."""
    now = time.time() if now is None else now
    backups = catalog(settings.location)
    result = ScheduleResult(plan(now, backups, settings))
    if not (result.plan.due or force):
        return result
    result.backup = await create_backup(
        engine, recordings, settings.location, result.plan.kind, now=now, progress=progress
    )
    if settings.verify:
        result.verify = await verify_backup(settings.location, result.backup, progress=progress)
    for old in to_prune(catalog(settings.location), settings):
        await asyncio.to_thread(shutil.rmtree, settings.location / old.id)
        result.pruned.append(old.id)
    return result
