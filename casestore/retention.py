"""Retention: anonymise or delete personal data older than the configured period.

What happens to data older than `retention_years` (by call start / last contact):
- calls: caller number masked (`+82******5678`), so counts and country stats survive;
- IVR steps: the input (digits, recognized phrases) is cleared;
- recordings past their `retain_until`: file deleted, row deleted;
- customers not seen since the cutoff: phone, name and ID number cleared;
- case notes of cases opened before the cutoff: text replaced by a marker.
Work goes in chunks of ids, one transaction each, so it can stop and resume at any point.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.dialect import writing
from casestore.models import CALLS, CASE_NOTES, CASES, CUSTOMERS, IVR_STEPS, RECORDINGS
from hotline.privacy import mask_phone
from recordings.store import YEAR, FilesystemRecordingStore, RecordingError

REMOVED_NOTE = "[removed by retention]"
Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass
class RetentionReport:
    cutoff: float
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    bytes_freed: int = 0
    missing_files: int = 0


@dataclass(frozen=True)
class _Step:
    name: str
    table: Table
    key: Any
    where: Callable[[float, float], ColumnElement[bool]]


def _steps() -> list[_Step]:
    return [
        _Step("calls anonymised", CALLS, CALLS.c.id,
              lambda cutoff, now: (CALLS.c.started_at < cutoff) & CALLS.c.caller.is_not(None)
              & ~CALLS.c.caller.contains("*")),
        _Step("IVR inputs cleared", IVR_STEPS, IVR_STEPS.c.id,
              lambda cutoff, now: (IVR_STEPS.c.at < cutoff) & IVR_STEPS.c.input.is_not(None)),
        _Step("customers anonymised", CUSTOMERS, CUSTOMERS.c.id,
              lambda cutoff, now: (CUSTOMERS.c.last_seen_at < cutoff) & CUSTOMERS.c.phone.is_not(None)),
        _Step("case notes removed", CASE_NOTES, CASE_NOTES.c.id,
              lambda cutoff, now: CASE_NOTES.c.case_id.in_(select(CASES.c.id).where(CASES.c.opened_at < cutoff))
              & (CASE_NOTES.c.body != REMOVED_NOTE)),
        _Step("recordings deleted", RECORDINGS, RECORDINGS.c.id,
              lambda cutoff, now: RECORDINGS.c.retain_until < now),
    ]


async def apply_retention(
    engine: AsyncEngine,
    recordings: FilesystemRecordingStore,
    *,
    retention_years: float,
    now: float | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    chunk: int = 1000,
) -> RetentionReport:
    now = time.time() if now is None else now
    cutoff = now - retention_years * YEAR
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    write = writing(engine)
    for step in _steps():
        cond = step.where(cutoff, now)
        async with engine.connect() as conn:
            total = int((await conn.execute(select(func.count()).select_from(step.table).where(cond))).scalar_one())
        report.counts[step.name] = total
        if progress:
            progress(step.name, 0, total)
        if dry_run or total == 0:
            if progress:
                progress(step.name, total, total)
            continue
        done = 0
        last: Any = None
        while True:  # keyset pagination: each chunk starts after the previous one's last key
            page = cond if last is None else cond & (step.key > last)
            async with write.begin() as conn:
                query = select(step.key).where(page).order_by(step.key).limit(chunk)
                ids = list((await conn.execute(query)).scalars())
                if not ids:
                    break
                await _apply(conn, step, ids, recordings, report)
            last = ids[-1]
            done += len(ids)
            if progress:
                progress(step.name, min(done, total), total)
        report.counts[step.name] = done
    return report


async def _apply(
    conn: Any, step: _Step, ids: list[Any], recordings: FilesystemRecordingStore, report: RetentionReport
) -> None:
    table = step.table
    if table is CALLS:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.caller).where(CALLS.c.id.in_(ids)))).all()
        await conn.execute(
            update(CALLS).where(CALLS.c.id == bindparam("k")).values(caller=bindparam("masked")),
            [{"k": r.id, "masked": mask_phone(r.caller) or "*"} for r in rows],
        )
    elif table is IVR_STEPS:
        await conn.execute(update(IVR_STEPS).where(IVR_STEPS.c.id.in_(ids)).values(input=None))
    elif table is CUSTOMERS:
        await conn.execute(
            update(CUSTOMERS).where(CUSTOMERS.c.id.in_(ids)).values(phone=None, name=None, id_number=None)
        )
    elif table is CASE_NOTES:
        await conn.execute(update(CASE_NOTES).where(CASE_NOTES.c.id.in_(ids)).values(body=REMOVED_NOTE))
    elif table is RECORDINGS:
        rows = (await conn.execute(select(RECORDINGS.c.uri, RECORDINGS.c.size).where(RECORDINGS.c.id.in_(ids)))).all()
        for row in rows:
            try:
                removed = await recordings.delete(row.uri)
            except RecordingError:
                removed = False
            if removed:
                report.bytes_freed += row.size
            else:
                report.missing_files += 1
        await conn.execute(delete(RECORDINGS).where(RECORDINGS.c.id.in_(ids)))

