"""Backup, verify and restore of a SQLite case store holding CALLS calls (each with its
case and customer) and RECORDINGS recording files of 64 KiB.

Anchor, same run, alternated: reading and hashing every table in one snapshot (what a
backup cannot avoid) without writing anything. Reported: min and median of ROUNDS.

    python -m bench.bench_backup [--calls 50000] [--recordings 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from casestore import StoreSettings, open_store
from casestore.backup import create_backup, restore_backup, verify_backup
from casestore.backup.snapshot import snapshot, summarise, tables
from casestore.models import CALLS, CASES, CUSTOMERS


async def _fill(store_url: str, data: Path, calls: int, recordings: int) -> None:
    async with open_store(StoreSettings(url=store_url, data_dir=data), create=True) as store:
        async with store.engine.begin() as conn:
            await conn.execute(CUSTOMERS.insert(), [
                {"id": i, "phone": f"+8210{i:08d}", "name": f"Customer {i}", "created_at": 1.0e9, "last_seen_at": 1.0e9}
                for i in range(1, calls + 1)
            ])
            await conn.execute(CASES.insert(), [
                {"id": i, "number": f"HL-2026-{i:06d}", "category": "consultation", "priority": "common",
                 "status": "closed", "opened_at": 1.0e9 + i, "due_at": 1.0e9 + i + 7200,
                 "updated_at": 1.0e9 + i, "customer_id": i, "origin_call_id": f"c{i}"}
                for i in range(1, calls + 1)
            ])
            await conn.execute(CALLS.insert(), [
                {"id": f"c{i}", "source": "bench", "caller": f"+8210{i:08d}", "queue": "general",
                 "started_at": 1.0e9 + i, "ended_at": 1.0e9 + i + 60, "outcome": "answered", "case_id": i}
                for i in range(1, calls + 1)
            ])
        writer = store.writer()
        await writer.start(close_orphans=False)
        for i in range(recordings):
            info = await store.recordings.save(f"c{i + 1}", os.urandom(64 * 1024), "wav")
            writer.record_recording(f"c{i + 1}", info)
        await writer.stop()


async def run(calls: int, recordings: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-backup-") as tmp:
        folder = Path(tmp)
        url = f"sqlite+aiosqlite:///{folder}/hotline.db"
        await _fill(url, folder / "data", calls, recordings)
        times: dict[str, list[float]] = {"anchor: read+hash all tables": [], "backup (full)": [],
                                         "verify": [], "restore": []}
        async with open_store(StoreSettings(url=url, data_dir=folder / "data")) as store:
            for r in range(rounds):
                started = time.perf_counter()
                async with snapshot(store.engine) as conn:
                    for table in tables():
                        await summarise(conn, table)
                times["anchor: read+hash all tables"].append(time.perf_counter() - started)

                location = folder / f"backups-{r}"
                started = time.perf_counter()
                manifest = await create_backup(store.engine, store.recordings, location, "full")
                times["backup (full)"].append(time.perf_counter() - started)

                started = time.perf_counter()
                report = await verify_backup(location, manifest)
                times["verify"].append(time.perf_counter() - started)
                assert report.ok, report.problems

                target = folder / f"restored-{r}"
                started = time.perf_counter()
                settings = StoreSettings(url=f"sqlite+aiosqlite:///{target}/hotline.db", data_dir=target)
                async with open_store(settings, check=False) as empty:
                    await restore_backup(location, manifest, empty.engine, empty.recordings)
                times["restore"].append(time.perf_counter() - started)
                shutil.rmtree(location)
                shutil.rmtree(target)
        rows = 3 * calls + recordings
        print(f"SQLite store: {calls:,} calls + cases + customers, {recordings} recordings of 64 KiB ({rows:,} rows)")
        for name, values in times.items():
            best = min(values)
            print(f"{name:30} min {best:6.2f} s  median {statistics.median(values):6.2f} s  ({rows / best:,.0f} rows/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_backup")
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--recordings", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv or [])
    asyncio.run(run(args.calls, args.recordings, args.rounds))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
