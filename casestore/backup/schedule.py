"""When the next backup is due, of which kind, and which old backups to drop. Pure
functions of the time (UTC epoch seconds), the settings and the backups already there.

- a backup is due once a day at `at`; a missed slot (server down) is caught up at once;
- it is full on the full day (every day, the weekday or the day of the month), when there
  is no full backup yet, or when the last full is older than its period (a missed full day);
  otherwise incremental;
- kept: the newest backup of each of the last `keep.daily` days, of the last `keep.weekly`
  ISO weeks and of the last `keep.monthly` months, and every backup a kept one builds on.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from dataclasses import dataclass

from casestore.backup.manifest import Kind, Manifest
from casestore.backup.settings import BackupSettings

DAY = 86400.0
PERIOD = {"daily": DAY, "weekly": 7 * DAY, "monthly": 31 * DAY}


@dataclass(frozen=True)
class Plan:
    due: bool
    kind: Kind
    slot: float  # the scheduled time this plan is for
    next_slot: float  # the next scheduled time after `slot`


def last_slot(now: float, settings: BackupSettings) -> float:
    """The latest scheduled time at or before `now`."""
    midnight = now - now % DAY
    slot = midnight + settings.at_minutes * 60
    return slot if slot <= now else slot - DAY


def is_full_day(slot: float, settings: BackupSettings) -> bool:
    day = time.gmtime(slot)
    if settings.full == "daily":
        return True
    if settings.full == "weekly":
        return day.tm_wday == settings.full_weekday
    return day.tm_mday == settings.full_day


def plan(now: float, backups: Sequence[Manifest], settings: BackupSettings) -> Plan:
    slot = last_slot(now, settings)
    due = not any(b.created_at >= slot for b in backups)
    fulls = [b.created_at for b in backups if b.kind == "full"]
    full = (
        not fulls
        or is_full_day(slot, settings)
        or slot - max(fulls) >= PERIOD[settings.full] - 3600  # an hour's slack for a late run
    )
    return Plan(due=due, kind="full" if full else "incremental", slot=slot, next_slot=slot + DAY)


def _bucket(at: float, unit: str) -> tuple[int, ...]:
    t = time.gmtime(at)
    if unit == "daily":
        return (t.tm_year, t.tm_yday)
    if unit == "weekly":
        iso = datetime.date(t.tm_year, t.tm_mon, t.tm_mday).isocalendar()
        return (iso.year, iso.week)
    return (t.tm_year, t.tm_mon)


def to_prune(backups: Sequence[Manifest], settings: BackupSettings) -> list[Manifest]:
    """The backups the retention rules drop (never one a kept backup refers to)."""
    keep: set[str] = set()
    newest_first = sorted(backups, key=lambda b: b.created_at, reverse=True)
    for unit, count in (("daily", settings.keep.daily), ("weekly", settings.keep.weekly),
                        ("monthly", settings.keep.monthly)):
        seen: list[tuple[int, ...]] = []
        for b in newest_first:
            bucket = _bucket(b.created_at, unit)
            if bucket in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(bucket)
            keep.add(b.id)
    if newest_first:
        keep.add(newest_first[0].id)  # never drop the latest backup
    by_id = {b.id: b for b in backups}
    pending = list(keep)
    while pending:  # what kept backups refer to (their base and the folders holding their files)
        kept = by_id.get(pending.pop())
        if kept is None:
            continue
        for ref in {kept.base, *(r.stored_in for r in kept.recordings)}:
            if ref is not None and ref not in keep:
                keep.add(ref)
                pending.append(ref)
    return [b for b in backups if b.id not in keep]
