"""The backup schedule: due once a day, full on the full day or when the last full is too
old, retention keeps what kept backups build on; settings validated with key paths."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from casestore.backup.manifest import Manifest, RecordingEntry
from casestore.backup.schedule import plan, to_prune
from casestore.backup.settings import BackupConfigError, BackupSettings, Keep, parse_backup_settings


def at(text: str) -> float:
    """'2026-12-06 02:30' as UTC epoch seconds."""
    day, clock = text.split()
    y, m, d = (int(p) for p in day.split("-"))
    hh, mm = (int(p) for p in clock.split(":"))
    return float(calendar.timegm((y, m, d, hh, mm, 0, 0, 0, 0)))


def backup(when: str, kind: str = "incremental", base: str | None = None, refs: tuple[str, ...] = ()) -> Manifest:
    stamp = when.replace("-", "").replace(" ", "T").replace(":", "")
    recs = [RecordingEntry(f"rec:{i}", 1, "x", ref) for i, ref in enumerate(refs)]
    return Manifest(id=f"{stamp}-{kind}", kind=kind, created_at=at(when), schema_revision="0003",  # type: ignore[arg-type]
                    source="sqlite", base=base, recordings=recs)


SETTINGS = BackupSettings(location=Path("/backups"), at_minutes=150, full="weekly", full_weekday=6)


def test_first_backup_is_full_and_due_at_once() -> None:
    p = plan(at("2026-12-02 10:00"), [], SETTINGS)  # a Wednesday
    assert (p.due, p.kind) == (True, "full")
    assert p.slot == at("2026-12-02 02:30")
    assert p.next_slot == at("2026-12-03 02:30")


def test_done_today_is_not_due_until_the_next_slot() -> None:
    done = [backup("2026-12-02 02:30", "full")]
    assert not plan(at("2026-12-02 23:59"), done, SETTINGS).due
    before_slot = plan(at("2026-12-03 02:29"), done, SETTINGS)
    assert not before_slot.due
    p = plan(at("2026-12-03 02:30"), done, SETTINGS)
    assert (p.due, p.kind) == (True, "incremental")


def test_weekly_full_on_its_weekday_and_after_a_missed_one() -> None:
    done = [backup("2026-11-29 02:30", "full"), backup("2026-12-05 02:30")]
    assert plan(at("2026-12-06 03:00"), done, SETTINGS).kind == "full"  # Sunday
    # the server was down on Sunday: Monday's backup is full (the last full is 8 days old)
    assert plan(at("2026-12-07 03:00"), done, SETTINGS).kind == "full"
    monthly = BackupSettings(location=Path("/b"), full="monthly", full_day=1)
    assert plan(at("2026-12-01 03:00"), done, monthly).kind == "full"
    assert plan(at("2026-12-02 03:00"), [backup("2026-12-01 02:30", "full")], monthly).kind == "incremental"


def test_retention_keeps_days_weeks_months_and_what_they_build_on() -> None:
    settings = BackupSettings(location=Path("/b"), keep=Keep(daily=2, weekly=1, monthly=2))
    old_month = backup("2026-10-04 02:30", "full")
    full = backup("2026-11-29 02:30", "full")
    mid = backup("2026-11-30 02:30", base=full.id, refs=(full.id,))
    day1 = backup("2026-12-01 02:30", base=mid.id, refs=(full.id,))
    day2 = backup("2026-12-02 02:30", base=day1.id, refs=(full.id, day1.id))
    dropped = to_prune([old_month, full, mid, day1, day2], settings)
    # daily: day2, day1; weekly: day2 (same ISO week); monthly: day2 (Dec) and mid (Nov);
    # day1 and day2 build on mid, mid on full: nothing of the chain goes; October goes.
    assert [b.id for b in dropped] == [old_month.id]
    settings = BackupSettings(location=Path("/b"), keep=Keep(daily=1, weekly=0, monthly=0))
    lone = backup("2026-12-03 02:30", "full")
    assert [b.id for b in to_prune([old_month, full, mid, day1, day2, lone], settings)] == [
        old_month.id, full.id, mid.id, day1.id, day2.id,
    ]


def test_settings_name_the_bad_key(tmp_path: Path) -> None:
    assert parse_backup_settings(None) is None
    parsed = parse_backup_settings({"location": "backups", "at": "23:05", "full": "monthly",
                                    "keep": {"daily": 3}}, base=tmp_path)
    assert parsed is not None
    assert parsed.location == tmp_path / "backups"
    assert (parsed.at_minutes, parsed.full, parsed.keep) == (23 * 60 + 5, "monthly", Keep(daily=3))
    for raw, key in (
        ({"location": "b", "at": "25:00"}, "backup.at"),
        ({"location": "b", "keep": {"dayly": 3}}, "backup.keep"),
        ({"location": "b", "full": "hourly"}, "backup.full"),
        ({"at": "01:00"}, "backup"),
    ):
        with pytest.raises(BackupConfigError, match=f"^{key}: "):
            parse_backup_settings(raw)
