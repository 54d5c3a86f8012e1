"""Service report (`casestore.reports.service_report`) on a store of 1,000,000 calls and cases
(one call every 3 s, about 35 days, five queues, 10 % abandoned, surveys on 5 % of calls).

Figures: the report's time for one day (hourly series) and for 30 days (daily series), SQLite
file and the local PostgreSQL. Baseline, same run: fetching the same range's call rows and
aggregating them in Python (what pushing the aggregates down to SQL replaces).

    python -m bench.bench_reports [--calls 1000000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select

from bench.bench_store import COLUMNS, Databases, load_postgres, load_sqlite
from casestore.models import CALLS
from casestore.reports import service_report
from casestore.store import open_store

T0 = 1_790_000_000.0
QUEUES = ("general", "booking", "refund", "baggage", "complaint")
DAY = 86400.0


def generate(calls: int) -> tuple[list[tuple[Any, ...]], ...]:
    rng = random.Random(11)
    customers = [(1, "+821000000001", None, None, "regular", "ko", T0, T0)]
    cases, call_rows, surveys = [], [], []
    for i in range(calls):
        at = T0 + i * 3.0
        queue = QUEUES[i % 5]
        wait = rng.expovariate(1 / 20)
        abandoned = rng.random() < 0.1
        resolved = None if rng.random() < 0.2 else at + rng.uniform(60, 3 * 3600)
        category = "complaint" if queue == "complaint" else "consultation"
        cases.append((i + 1, f"HL-2026-{i + 1:07d}", category, "common", "resolved" if resolved else "open",
                      None, at, at + 7200, at, resolved, None, None, 1, f"b{i}"))
        call_rows.append((
            f"b{i}", "asterisk", "+821000000001", "1588", "ko", queue, None if abandoned else "1001", 0,
            "regular", at, at, None if abandoned else at + wait, at + wait + 120, wait,
            None if abandoned else 120.0, "abandoned" if abandoned else "answered", None, i + 1,
        ))
        if i % 20 == 0:
            surveys.append((f"b{i}", "satisfaction", rng.randint(1, 5), at + 300))
    return customers, cases, call_rows, surveys


async def add_surveys(url: str, surveys: list[tuple[Any, ...]]) -> None:
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.split("///", 1)[1])
        try:
            db.executemany("INSERT INTO survey_answers (call_id, question, score, at) VALUES (?, ?, ?, ?)", surveys)
            db.commit()
            db.execute("ANALYZE")
        finally:
            db.close()
        return
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        await conn.copy_records_to_table("survey_answers", records=surveys, columns=["call_id", "question", "score", "at"])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def naive(url: str, start: float, end: float) -> int:
    """Baseline: fetch the range's call rows and aggregate in Python."""
    async with open_store(url) as store, store.engine.connect() as conn:
        rows = (await conn.execute(
            select(CALLS).where(CALLS.c.started_at >= start, CALLS.c.started_at < end)
        )).all()
    within = sum(1 for r in rows if r.answered_at is not None and r.wait_seconds <= 30)
    return within


async def timed(url: str, start: float, end: float, repeat: int = 3) -> tuple[float, float, int]:
    report_times, naive_times = [], []
    offered = 0
    async with open_store(url) as store:
        await service_report(store.engine, start, end, now=end)  # warm caches
        for _ in range(repeat):
            t = time.perf_counter()
            report = await service_report(store.engine, start, end, now=end)
            report_times.append(time.perf_counter() - t)
            offered = report.overall.figures.offered
    for _ in range(repeat):
        t = time.perf_counter()
        await naive(url, start, end)
        naive_times.append(time.perf_counter() - t)
    return statistics.median(report_times), statistics.median(naive_times), offered


async def run(calls: int, backends: Sequence[str]) -> None:
    print(f"Service report on {calls:,} calls and cases ({calls * 3 / DAY:.0f} days)")
    started = time.perf_counter()
    customers, cases, call_rows, surveys = await asyncio.to_thread(generate, calls)
    print(f"   generated rows in {time.perf_counter() - started:.1f} s", flush=True)
    assert set(COLUMNS) == {"customers", "cases", "calls"}
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as folder:
        dbs = Databases(Path(folder))
        try:
            for backend in backends:
                url = await dbs.fresh(backend, "reports")
                started = time.perf_counter()
                if backend == "sqlite":
                    await asyncio.to_thread(load_sqlite, url.split("///", 1)[1], (customers, cases, call_rows))
                else:
                    await load_postgres(url, (customers, cases, call_rows))
                await add_surveys(url, surveys)
                print(f"   {backend:10s} bulk load {time.perf_counter() - started:6.1f} s", flush=True)
                middle = T0 + calls * 1.5
                for label, start, end in (("1 day", middle, middle + DAY), ("30 days", T0, T0 + 30 * DAY)):
                    report_s, naive_s, offered = await timed(url, start, end)
                    print(f"   {backend:10s} {label:8s} ({offered:>7,} calls) report {report_s * 1000:8.1f} ms; "
                          f"fetch-and-aggregate baseline {naive_s * 1000:8.1f} ms (x{naive_s / report_s:.1f})",
                          flush=True)
        finally:
            await dbs.drop_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_reports")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args([] if argv is None else argv)
    asyncio.run(run(args.calls, [args.only] if args.only else ["sqlite", "postgresql"]))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
