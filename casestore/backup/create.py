"""`create_backup`: the case store's tables from one snapshot, and its recordings, into a
new backup folder of the backup location (see casestore.backup.manifest for the layout).

The tables are read in one snapshot transaction while calls keep being written; the
recordings listed in that snapshot are then copied (recording files never change once
stored, so copying after the snapshot is consistent). Each copy is checked against the
SHA-256 the store recorded. A full backup copies every recording; an incremental one copies
only those its base backup does not already hold and refers to the others.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.backup.manifest import (
    PARTIAL,
    BackupError,
    Kind,
    Manifest,
    RecordingEntry,
    TableEntry,
    backup_id,
    catalog,
    write_manifest,
)
from casestore.backup.snapshot import snapshot, table_rows, tables
from casestore.models import RECORDINGS
from recordings.store import FilesystemRecordingStore, RecordingError

Progress = Callable[[str, int, int], None]  # (step, done, total)


def no_progress(step: str, done: int, total: int) -> None:
    pass


async def create_backup(
    engine: AsyncEngine,
    recordings: FilesystemRecordingStore,
    location: Path,
    kind: Kind = "full",
    *,
    now: float | None = None,
    progress: Progress = no_progress,
) -> Manifest:
    """Write one backup into `location` and return its manifest. `incremental` without an
    earlier backup in the location makes a full one."""
    now = time.time() if now is None else now
    base = catalog(location)[-1] if kind == "incremental" and catalog(location) else None
    kind = "incremental" if base is not None else "full"
    manifest = Manifest(
        id=backup_id(now, kind), kind=kind, created_at=now, schema_revision="",
        source=engine.url.render_as_string(hide_password=True), base=base.id if base else None,
    )
    final = location / manifest.id
    if final.exists():
        raise BackupError(f"{final}: a backup with this id exists already")
    work = location / (PARTIAL + manifest.id)
    await asyncio.to_thread(_fresh_folder, work)
    try:
        listed = await _dump_tables(engine, work, manifest, progress)
        await _copy_recordings(recordings, work, manifest, listed, base, progress)
        await asyncio.to_thread(write_manifest, work, manifest)
        await asyncio.to_thread(os.replace, work, final)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, work, True)
        raise
    return manifest


def _fresh_folder(work: Path) -> None:
    try:
        if work.exists():
            shutil.rmtree(work)
        (work / "db").mkdir(parents=True)
        (work / "recordings").mkdir()
    except OSError as exc:
        raise BackupError(f"{work}: cannot write the backup: {exc.strerror}") from exc


async def _dump_tables(
    engine: AsyncEngine, work: Path, manifest: Manifest, progress: Progress
) -> list[tuple[str, int, str]]:
    """Every table into `db/`; returns the recordings (uri, size, sha256) of the snapshot."""
    listed: list[tuple[str, int, str]] = []
    uri_at, size_at, sha_at = (list(RECORDINGS.c.keys()).index(n) for n in ("uri", "size", "sha256"))
    try:
        async with snapshot(engine) as conn:
            revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            if revision is None:
                raise BackupError("the database has no Hotline schema (run `hotline db upgrade`)")
            manifest.schema_revision = str(revision)
            for table in tables():
                total = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                step = f"table {table.name}"
                progress(step, 0, total)
                digest = hashlib.sha256()
                rows = 0
                out = await asyncio.to_thread(gzip.open, work / "db" / f"{table.name}.jsonl.gz", "wb", 6)
                try:
                    async for lines in table_rows(conn, table):
                        blob = b"".join(lines)
                        digest.update(blob)
                        rows += len(lines)
                        await asyncio.to_thread(out.write, blob)
                        if table is RECORDINGS:
                            listed.extend(_recording_fields(lines, uri_at, size_at, sha_at))
                        progress(step, rows, max(total, rows))
                finally:
                    await asyncio.to_thread(out.close)
                manifest.tables[table.name] = TableEntry(rows, digest.hexdigest(), list(table.c.keys()))
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read the case store: {exc}") from exc
    return listed


def _recording_fields(lines: list[bytes], uri_at: int, size_at: int, sha_at: int) -> list[tuple[str, int, str]]:
    rows = [json.loads(line) for line in lines]
    return [(str(r[uri_at]), int(r[size_at]), str(r[sha_at])) for r in rows]


async def _copy_recordings(
    recordings: FilesystemRecordingStore,
    work: Path,
    manifest: Manifest,
    listed: list[tuple[str, int, str]],
    base: Manifest | None,
    progress: Progress,
) -> None:
    held = {(r.uri, r.sha256): r.stored_in for r in base.recordings} if base else {}
    step = "recordings"
    progress(step, 0, len(listed))
    for done, (uri, size, sha256) in enumerate(listed, 1):
        stored_in = held.get((uri, sha256))
        if stored_in is None:
            problem = await asyncio.to_thread(_copy_one, recordings, work, uri, sha256)
            if problem:
                manifest.missing_recordings.append(f"{uri}: {problem}")
                progress(step, done, len(listed))
                continue
            stored_in = manifest.id
        manifest.recordings.append(RecordingEntry(uri, size, sha256, stored_in))
        progress(step, done, len(listed))


def relative(uri: str) -> Path:
    """Where a recording's file sits under a backup's `recordings/` folder."""
    return Path(uri[4:])


def _copy_one(recordings: FilesystemRecordingStore, work: Path, uri: str, sha256: str) -> str | None:
    """Copy one file, checking its digest; the reason it could not be backed up, or None."""
    try:
        source = recordings.path(uri)
    except RecordingError as exc:
        return str(exc)
    target = work / "recordings" / relative(uri)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with source.open("rb") as src, target.open("wb") as dst:
            digest = copy_hashing(src, dst)
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        return "file missing from the recording store"
    if digest != sha256:
        target.unlink(missing_ok=True)
        return f"file does not match its checksum (sha256 {digest[:12]}..., store says {sha256[:12]}...)"
    return None


def copy_hashing(src: IO[bytes], dst: IO[bytes] | None) -> str:
    """Copy `src` to `dst` (None: only read) and return the SHA-256 of what passed."""
    digest = hashlib.sha256()
    while chunk := src.read(1 << 20):
        digest.update(chunk)
        if dst is not None:
            dst.write(chunk)
    return digest.hexdigest()
