"""Backups of a store that is being written, restored into an empty database (SQLite and
PostgreSQL), verified against their manifests; incremental backups refer to earlier files."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from sqlalchemy import func, select

from casestore import Store, StoreSettings, open_store
from casestore.backup import (
    BackupError,
    catalog,
    create_backup,
    find,
    restore_backup,
    verify_backup,
)
from casestore.backup.snapshot import snapshot, summarise, tables
from casestore.models import CASE_NOTES, CASES, RECORDINGS
from tests.casestore.traffic import START, drive, make_acd


async def _seed(store: Store, calls: int = 20) -> None:
    acd, clock = make_acd()
    writer = store.writer()
    await writer.start()
    acd.subscribe(writer.on_event)
    drive(acd, clock, calls)
    for i in range(3):
        info = await store.recordings.save(f"c{i}", f"audio {i}".encode() * 100, "wav")
        writer.record_recording(f"c{i}", info)
    await writer.stop()


class Traffic:
    """Cases with a note each, opened in a loop until stopped (writes during a backup)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.done = 0
        self.stopping = False
        self.going = asyncio.Event()  # set after the first few writes
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.stopping:
            case = await self.store.cases.open_case(
                "complaint", "general", customer_phone=f"+8210555{self.done:05d}", at=START + self.done
            )
            await self.store.cases.add_note(case.number, "1001", f"note {self.done}", at=START + self.done)
            self.done += 1
            if self.done == 3:
                self.going.set()

    async def stop(self) -> int:
        self.stopping = True
        await self.task
        return self.done


async def test_backup_during_writes_restores_into_an_empty_database(
    store: Store, empty_url: str, tmp_path: Path
) -> None:
    await _seed(store)
    seeded = await store.cases.count("cases")
    location = tmp_path / "backups"
    traffic = Traffic(store)
    await asyncio.wait_for(traffic.going.wait(), 30)
    before = traffic.done
    manifest = await create_backup(store.engine, store.recordings, location, "full")
    during = traffic.done - before
    await traffic.stop()

    assert during > 0, "no writes happened while the backup ran"
    assert manifest.tables["calls"].rows == 20
    assert seeded + before <= manifest.tables["cases"].rows <= seeded + before + during
    assert len(manifest.recordings) == 3

    restored_dir = tmp_path / "restored"
    if empty_url.startswith("sqlite"):  # the fixture's SQLite file is the source's own
        empty_url = f"sqlite+aiosqlite:///{restored_dir}/hotline.db"
    async with open_store(StoreSettings(url=empty_url, data_dir=restored_dir), check=False, new_file=True) as target:
        report = await restore_backup(location, manifest, target.engine, target.recordings)
        assert report.rows["calls"] == 20
        assert report.recordings == 3
        async with snapshot(target.engine) as conn:
            for table in tables():
                got = await summarise(conn, table, manifest.tables[table.name].columns)
                assert (got.rows, got.sha256) == (
                    manifest.tables[table.name].rows, manifest.tables[table.name].sha256
                ), table.name
            notes = (await conn.execute(select(func.count()).select_from(CASE_NOTES))).scalar_one()
            cases = (await conn.execute(select(func.count()).select_from(CASES))).scalar_one()
        assert cases - seeded - 1 <= notes <= cases - seeded  # a snapshot: at most the last case lacks its note
        for entry in manifest.recordings:
            assert (await target.recordings.read(entry.uri)) == (await store.recordings.read(entry.uri))
        # ids go on after the restored ones (PostgreSQL sequences moved)
        case = await target.cases.open_case("complaint", "general", at=START + 10_000)
        assert case.id > manifest.tables["cases"].rows
        await target.cases.add_note(case.number, "1001", "after restore")

    verified = await verify_backup(location, find(location, None))
    assert verified.ok, verified.problems
    assert verified.rows == sum(t.rows for t in manifest.tables.values())


async def test_restore_refuses_a_database_with_rows(store: Store, tmp_path: Path) -> None:
    await _seed(store, calls=2)
    manifest = await create_backup(store.engine, store.recordings, tmp_path / "b", "full")
    try:
        await restore_backup(tmp_path / "b", manifest, store.engine, store.recordings)
    except BackupError as exc:
        assert "not empty" in str(exc)
    else:
        raise AssertionError("restore into a database with rows was accepted")


async def test_incremental_copies_only_new_recordings_and_verify_finds_damage(
    store: Store, tmp_path: Path
) -> None:
    await _seed(store, calls=5)
    location = tmp_path / "b"
    full = await create_backup(store.engine, store.recordings, location, "full", now=START)
    writer = store.writer()
    await writer.start(close_orphans=False)
    info = await store.recordings.save("c9", b"new audio" * 50, "wav")
    writer.record_recording("c9", info)
    await writer.stop()

    incr = await create_backup(store.engine, store.recordings, location, "incremental", now=START + 86400)

    assert incr.kind == "incremental" and incr.base == full.id
    assert {r.stored_in for r in incr.recordings} == {full.id, incr.id}
    assert [r.uri for r in incr.recordings if r.stored_in == incr.id] == [info.uri]
    copied = [p for p in (location / incr.id / "recordings").rglob("*") if p.is_file()]
    assert len(copied) == 1
    assert [m.id for m in catalog(location)] == [full.id, incr.id]
    assert (await verify_backup(location, incr)).ok

    # damage: a recording file of the full backup and a row of the incremental's calls table
    damaged = next(p for p in (location / full.id / "recordings").rglob("*.wav"))
    damaged.write_bytes(b"garbage")
    calls = location / incr.id / "db" / "calls.jsonl.gz"
    lines = gzip.decompress(calls.read_bytes()).splitlines(keepends=True)
    calls.write_bytes(gzip.compress(b"".join(lines[:-1])))
    report = await verify_backup(location, incr)
    assert not report.ok
    assert any("does not match its checksum" in p for p in report.problems)
    assert any("table calls: 4 rows restored, manifest says 5" in p for p in report.problems)


async def test_a_missing_recording_is_listed_not_fatal(store: Store, tmp_path: Path) -> None:
    await _seed(store, calls=3)
    async with store.engine.connect() as conn:
        uri = (await conn.execute(select(RECORDINGS.c.uri).limit(1))).scalar_one()
    store.recordings.path(uri).unlink()
    manifest = await create_backup(store.engine, store.recordings, tmp_path / "b", "full")
    assert len(manifest.recordings) == 2
    assert manifest.missing_recordings == [f"{uri}: file missing from the recording store"]
