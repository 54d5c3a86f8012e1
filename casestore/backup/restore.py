"""`restore_backup`: a backup into an empty database and a recording folder.

The target database must be empty: no schema (it is created at the backup's schema
revision, filled, then upgraded to this version's), or a schema at the backup's revision
with no rows. Every table is inserted in one transaction, parents first; PostgreSQL's id
sequences are then moved past the restored ids. Recording files are copied from the backup
folder that holds each one and checked against their SHA-256.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.backup.create import Progress, copy_hashing, no_progress, relative
from casestore.backup.manifest import BackupError, Manifest
from casestore.backup.snapshot import tables
from casestore.dialect import writing
from casestore.errors import CaseStoreError
from casestore.schema import current_revision, upgrade
from recordings.store import FilesystemRecordingStore

BATCH = 1000


@dataclass
class RestoreReport:
    rows: dict[str, int]
    recordings: int = 0
    recordings_skipped: int = 0  # already in place with the right checksum


async def restore_database(
    location: Path, manifest: Manifest, engine: AsyncEngine, *, progress: Progress = no_progress
) -> dict[str, int]:
    """Fill the empty database behind `engine` from the backup; rows restored per table."""
    folder = location / manifest.id
    try:
        await _prepare_schema(engine, manifest)
        counts: dict[str, int] = {}
        async with writing(engine).begin() as conn:
            for table in tables():
                entry = manifest.tables.get(table.name)
                if entry is None:
                    continue
                counts[table.name] = await _insert_table(conn, table, folder, entry.columns, entry.rows, progress)
            if conn.dialect.name == "postgresql":
                await _move_sequences(conn)
        await upgrade(engine)
    except SQLAlchemyError as exc:
        raise BackupError(f"restore into {engine.url.render_as_string(hide_password=True)} failed: {exc}") from exc
    except CaseStoreError as exc:
        raise BackupError(str(exc)) from exc
    return counts


async def _prepare_schema(engine: AsyncEngine, manifest: Manifest) -> None:
    where = engine.url.render_as_string(hide_password=True)
    revision = await current_revision(engine)
    if revision is None:
        await upgrade(engine, manifest.schema_revision)
        return
    if revision != manifest.schema_revision:
        raise BackupError(
            f"{where} already has a schema at revision {revision}, the backup is at "
            f"{manifest.schema_revision}: restore into an empty database"
        )
    async with engine.connect() as conn:
        for table in tables():
            if (await conn.execute(select(func.count()).select_from(table))).scalar_one():
                raise BackupError(f"{where} is not empty (table {table.name} has rows): restore into an empty database")


def _batches(path: Path, columns: list[str]) -> Iterator[list[dict[str, Any]]]:
    with gzip.open(path, "rb") as lines:
        batch: list[dict[str, Any]] = []
        for line in lines:
            batch.append(dict(zip(columns, json.loads(line), strict=True)))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


async def _insert_table(
    conn: AsyncConnection, table: Table, folder: Path, columns: list[str], total: int, progress: Progress
) -> int:
    path = folder / "db" / f"{table.name}.jsonl.gz"
    if not path.is_file():
        raise BackupError(f"{path}: missing from the backup")
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise BackupError(f"{path}: columns {sorted(unknown)} are not in table {table.name}")
    step = f"table {table.name}"
    progress(step, 0, total)
    batches = _batches(path, columns)
    done = 0
    while True:
        try:
            batch = await asyncio.to_thread(next, batches, None)
        except (OSError, EOFError, ValueError, TypeError) as exc:
            raise BackupError(f"{path}: unreadable: {exc}") from exc
        if batch is None:
            return done
        await conn.execute(insert(table), batch)
        done += len(batch)
        progress(step, done, max(total, done))


async def _move_sequences(conn: AsyncConnection) -> None:
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer) or pk[0].autoincrement is False:
            continue
        sequence = (await conn.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name}
        )).scalar()
        if sequence is None:
            continue
        await conn.execute(text(
            f'SELECT setval(:s, COALESCE(MAX("{pk[0].name}"), 1), MAX("{pk[0].name}") IS NOT NULL) '
            f'FROM "{table.name}"'
        ), {"s": sequence})


async def restore_recordings(
    location: Path, manifest: Manifest, recordings: FilesystemRecordingStore,
    *, progress: Progress = no_progress,
) -> tuple[int, int]:
    """Copy the backup's recording files into the store; (copied, already in place)."""
    copied = skipped = 0
    progress("recordings", 0, len(manifest.recordings))
    for done, entry in enumerate(manifest.recordings, 1):
        if "/" in entry.stored_in or entry.stored_in.startswith("."):
            raise BackupError(f"{manifest.id}: recording {entry.uri} refers to an invalid folder {entry.stored_in!r}")
        source = location / entry.stored_in / "recordings" / relative(entry.uri)
        was_copied = await asyncio.to_thread(_restore_one, source, recordings.path(entry.uri), entry.sha256)
        copied += was_copied
        skipped += not was_copied
        progress("recordings", done, len(manifest.recordings))
    return copied, skipped


def _restore_one(source: Path, target: Path, sha256: str) -> bool:
    if target.is_file():
        with target.open("rb") as existing:
            if copy_hashing(existing, None) == sha256:
                return False
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(".restore-" + target.name)
    try:
        with source.open("rb") as src, part.open("wb") as dst:
            digest = copy_hashing(src, dst)
    except FileNotFoundError as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"{source}: recording file missing from the backup") from exc
    if digest != sha256:
        part.unlink(missing_ok=True)
        raise BackupError(f"{source}: recording file does not match its checksum in the manifest")
    shutil.move(part, target)
    return True


async def restore_backup(
    location: Path, manifest: Manifest, engine: AsyncEngine, recordings: FilesystemRecordingStore,
    *, progress: Progress = no_progress,
) -> RestoreReport:
    rows = await restore_database(location, manifest, engine, progress=progress)
    copied, skipped = await restore_recordings(location, manifest, recordings, progress=progress)
    return RestoreReport(rows=rows, recordings=copied, recordings_skipped=skipped)
