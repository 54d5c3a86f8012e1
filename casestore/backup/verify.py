"""`verify_backup`: restore a backup's tables into a scratch database and compare every
table's row count and checksum with the manifest; check every recording file the backup
refers to (present, size, SHA-256) in the backup folder that holds it."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.backup.create import Progress, copy_hashing, no_progress, relative
from casestore.backup.manifest import BackupError, Manifest, RecordingEntry
from casestore.backup.restore import restore_database
from casestore.backup.snapshot import summarise, tables
from casestore.dialect import create_engine


@dataclass
class VerifyReport:
    backup: str
    tables: int = 0
    rows: int = 0
    recordings: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_backup(
    location: Path, manifest: Manifest, *, scratch_url: str | None = None,
    progress: Progress = no_progress,
) -> VerifyReport:
    """Verify `manifest`'s backup. The scratch database is a temporary SQLite file unless
    `scratch_url` names an empty database (e.g. a PostgreSQL one made for the purpose)."""
    report = VerifyReport(manifest.id)
    with tempfile.TemporaryDirectory(prefix="hotline-verify-") as scratch:
        engine = create_engine(scratch_url or f"sqlite+aiosqlite:///{scratch}/verify.db", create=True)
        try:
            await restore_database(location, manifest, engine, progress=progress)
            await _compare_tables(engine, manifest, report)
        except BackupError as exc:
            report.problems.append(f"restore failed: {exc}")
        finally:
            await engine.dispose()
    step = "recordings checked"
    progress(step, 0, len(manifest.recordings))
    for done, entry in enumerate(manifest.recordings, 1):
        problem = await asyncio.to_thread(_check_file, location, entry)
        if problem:
            report.problems.append(problem)
        report.recordings += 1
        progress(step, done, len(manifest.recordings))
    return report


async def _compare_tables(engine: AsyncEngine, manifest: Manifest, report: VerifyReport) -> None:
    try:
        async with engine.connect() as conn:
            for table in tables():
                entry = manifest.tables.get(table.name)
                if entry is None:
                    report.problems.append(f"table {table.name}: not in the backup")
                    continue
                got = await summarise(conn, table, entry.columns)
                report.tables += 1
                report.rows += got.rows
                if got.rows != entry.rows:
                    report.problems.append(f"table {table.name}: {got.rows} rows restored, manifest says {entry.rows}")
                elif got.sha256 != entry.sha256:
                    report.problems.append(f"table {table.name}: restored rows differ from the backup's checksum")
    except SQLAlchemyError as exc:
        report.problems.append(f"cannot read the scratch database: {exc}")


def _check_file(location: Path, entry: RecordingEntry) -> str | None:
    path = location / entry.stored_in / "recordings" / relative(entry.uri)
    try:
        with path.open("rb") as f:
            digest = copy_hashing(f, None)
    except FileNotFoundError:
        return f"recording {entry.uri}: file missing from backup {entry.stored_in}"
    if digest != entry.sha256:
        return f"recording {entry.uri}: file in backup {entry.stored_in} does not match its checksum"
    return None
