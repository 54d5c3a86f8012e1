"""Case-store benchmarks (SQLite file and the local PostgreSQL).

1. Completed calls per second persisted through `hotline simulate --store URL` (the batched
   `CallWriter` the server uses; goal >= 10,000 calls/s into PostgreSQL). Baseline, same run:
   the naive writer that opens one transaction per event (what batching replaces).
   Also: cost of `CallWriter.on_event` (what the ACD pays per event) and the longest stall of
   the event loop while the writer flushes (a 1 ms ticker runs alongside).
2. Screen-pop (customer + 5 recent cases by phone number, one query) on a store holding
   1,000,000 calls and cases and 100,000 customers, p50/p99 over random callers. Baseline,
   same run: the same query written so that no index can be used. Then `retention apply`
   on that store with the oldest 10 % of calls past the retention period.

    python -m bench.bench_store [--calls 1000000] [--sim-hours 20] [--only sqlite|postgresql]
    python -m bench.bench_store --stream 3 --sim-hours 1   # only the streamed figure, 3 rounds

The streamed figure also gives the CPU time of the benchmark's own process (simulation,
recorder and writer share its one thread; PostgreSQL works in its own processes): on a
machine shared with other work the wall-clock rate follows the load, the CPU per call much
less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text

from acd.events import Event
from casestore import StoreSettings, open_store, upgrade
from casestore.dialect import create_engine
from casestore.models import CALLS, CASES, CUSTOMERS
from casestore.retention import apply_retention
from casestore.simulation import SimulationRecorder
from hotline.cli import main as hotline_main
from recordings.store import YEAR

GOAL_PG_CALLS_PER_SECOND = 10_000
PG = "postgres@127.0.0.1:5432"
SIM_CONFIG = """
name: store load
seed: 3
duration: {seconds}
warmup: 0
queues:
  - {{name: general, skills: {{general: 1}}, ring_timeout: null, wrap_up: 5}}
  - {{name: complaint, skills: {{general: 1}}, ring_timeout: null, wrap_up: 5}}
traffic:
  - {{queue: general, calls_per_hour: 9000, handle: {{dist: exponential, mean: 150}}, patience: {{dist: exponential, mean: 60}}}}
  - {{queue: complaint, calls_per_hour: 3000, handle: {{dist: exponential, mean: 150}}}}
agents:
  - {{group: all, count: 520, skills: {{general: 5}}}}
"""


# -- databases ----------------------------------------------------------------------------


class Databases:
    """A temporary SQLite file and a temporary PostgreSQL database, both at the current schema."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pg_name = f"hl_bench_{os.getpid()}"
        self.created: list[str] = []

    async def fresh(self, backend: str, tag: str) -> str:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.folder / f'{tag}.db'}"
        else:
            name = f"{self.pg_name}_{tag}"
            admin = await asyncpg.connect(f"postgresql://{PG}/test", timeout=10)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            self.created.append(name)
            url = f"postgresql+asyncpg://{PG}/{name}"
        engine = create_engine(url, create=True)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        return url

    async def drop_all(self) -> None:
        if not self.created:
            return
        admin = await asyncpg.connect(f"postgresql://{PG}/test", timeout=10)
        try:
            for name in self.created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# -- 1. writer throughput -------------------------------------------------------------------


def simulate_store(config: Path, url: str) -> dict[str, Any]:
    """Run `hotline simulate CONFIG --store URL --json` and return its `store` figures."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = hotline_main(["simulate", str(config), "--store", url, "--json"])
    if code != 0:
        raise RuntimeError(f"hotline simulate failed: {err.getvalue()}")
    store: dict[str, Any] = json.loads(out.getvalue())["store"]
    return store


async def naive_writer(url: str, events: Sequence[Event]) -> tuple[int, float]:
    """Baseline: every event upserted in its own transaction (no batching)."""
    async with open_store(url) as store:
        writer = store.writer(batch_size=1)
        started = time.perf_counter()
        for event in events:
            writer.on_event(event)
            await writer.flush()
        seconds = time.perf_counter() - started
    return writer.stats.calls_completed, seconds


async def loop_stall(url: str, events: Sequence[Event]) -> tuple[float, float, float]:
    """(p99 and max event-loop lag in ms while persisting, mean on_event cost in microseconds)."""
    stop = asyncio.Event()
    lags: list[float] = []

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - before - 0.001)

    async with open_store(url) as store:
        writer = store.writer()
        tick = asyncio.create_task(ticker())
        await writer.start(close_orphans=False)
        cost = 0.0
        for i in range(0, len(events), 1000):
            chunk = events[i : i + 1000]
            started = time.perf_counter()
            for event in chunk:
                writer.on_event(event)
            cost += time.perf_counter() - started
            await asyncio.sleep(0)
        await writer.stop()
        stop.set()
        await tick
    p99 = statistics.quantiles(lags, n=100)[98] if len(lags) > 1 else max(lags, default=0.0)
    return p99 * 1000, max(lags, default=0.0) * 1000, cost / max(1, len(events)) * 1e6


async def bench_writer(dbs: Databases, backends: Sequence[str], sim_hours: float) -> None:
    config = dbs.folder / "load.yaml"
    config.write_text(SIM_CONFIG.format(seconds=int(sim_hours * 3600)), encoding="utf-8")
    print(f"1. Completed calls/s persisted via `hotline simulate --store` ({sim_hours:g} simulated hours, "
          "about 12,000 calls/h)")
    for backend in backends:
        url = await dbs.fresh(backend, "writer")
        figures = await asyncio.to_thread(simulate_store, config, url)
        rate = figures["calls_per_second"]
        goal = ""
        if backend == "postgresql":
            goal = f" ({'meets' if rate >= GOAL_PG_CALLS_PER_SECOND else 'BELOW'} the goal of "
            goal += f"{GOAL_PG_CALLS_PER_SECOND:,})"
        print(f"   {backend:10s} batched writer: {figures['completed']:7,d} calls in {figures['seconds']:6.2f} s "
              f"= {rate:8,.0f} calls/s{goal}", flush=True)
        print(f"   {backend:10s} (simulation and writing interleaved) {figures['batches']:,d} batches, "
              f"max backlog {figures['max_backlog']:,d} events (bound {figures['bound']:,d}), "
              f"waited for the writer {figures['waits']:,d} times ({figures['wait_seconds']:.2f} s)", flush=True)
        # baseline: the first 300 calls' events, one transaction per event
        sim_cfg = dbs.folder / "small.yaml"
        sim_cfg.write_text(SIM_CONFIG.format(seconds=120), encoding="utf-8")
        events = await asyncio.to_thread(_record, sim_cfg, url, "naive")
        completed, seconds = await naive_writer(url, events)
        naive_rate = completed / seconds
        print(f"   {backend:10s} naive (1 txn/event): {completed:7,d} calls in {seconds:6.2f} s "
              f"= {naive_rate:8,.0f} calls/s -> batching x{rate / naive_rate:.0f}", flush=True)
        events = await asyncio.to_thread(_record, config, url, "stall")
        gc.collect()
        gc.freeze()  # the recorded events stand in for a live stream: keep GC off them
        p99_ms, max_ms, per_event_us = await loop_stall(url, events)
        print(f"   {backend:10s} on_event {per_event_us:.2f} us/event; event-loop lag while flushing "
              f"p99 {p99_ms:.1f} ms, max {max_ms:.1f} ms (1 ms ticker)", flush=True)


def _record(config: Path, url: str, run_id: str) -> list[Event]:
    """A run's rebased events, kept in memory (the baselines replay them)."""
    from acd.simulation import Simulation
    from hotline.commands.simulate import load

    events: list[Event] = []
    recorder = SimulationRecorder(url, run_id=run_id, sink=events.append)
    Simulation(load(config), subscribers=[recorder.on_event]).run()
    return events


# -- 2. screen-pop on 1M calls --------------------------------------------------------------

T0 = 1_790_000_000.0


def _phone(i: int) -> str:
    return f"+8210{i:08d}"


def generate(calls: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for customers, cases, calls: one case per call, ten calls per customer on average."""
    rng = random.Random(5)
    n_customers = max(1, calls // 10)
    customers = [(i + 1, _phone(i), None, None, "regular", "ko", T0, T0 + calls) for i in range(n_customers)]
    cases = []
    call_rows = []
    categories = ("consultation", "complaint", "refund", "baggage", "ticketing")
    for i in range(calls):
        at = T0 + i * 3.0
        customer = rng.randrange(n_customers)
        status = "closed" if rng.random() < 0.9 else "open"
        cases.append((i + 1, f"HL-2026-{i + 1:07d}", categories[i % 5], "common", status, None, at,
                      at + 7200, at, None, None, None, customer + 1, f"b{i}"))
        call_rows.append((f"b{i}", "asterisk", _phone(customer), "1588", "ko", "general", "1001", 0,
                          "regular", at, at, at + 20, at + 200, 20.0, 180.0, "answered", "resolved", i + 1))
    return customers, cases, call_rows


COLUMNS = {
    "customers": [c.name for c in CUSTOMERS.c],
    "cases": [c.name for c in CASES.c],
    "calls": [c.name for c in CALLS.c],
}


async def load_postgres(url: str, rows: tuple[list[tuple[Any, ...]], ...]) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for table, data in zip(("customers", "cases", "calls"), rows, strict=True):
            await conn.copy_records_to_table(table, records=data, columns=COLUMNS[table])
        await conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
        await conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def load_sqlite(path: str, rows: tuple[list[tuple[Any, ...]], ...]) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        for table, data in zip(("customers", "cases", "calls"), rows, strict=True):
            cols = COLUMNS[table]
            db.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})", data
            )
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


NO_INDEX_SQL = text(
    "SELECT customers.id, cases.number FROM customers LEFT OUTER JOIN cases "
    "ON cases.customer_id + 0 = customers.id WHERE customers.phone || '' = :phone "
    "ORDER BY cases.opened_at DESC LIMIT 5"
)


async def bench_screen_pop(dbs: Databases, backends: Sequence[str], calls: int) -> None:
    print(f"2. Screen-pop on {calls:,} calls / cases and {max(1, calls // 10):,} customers")
    started = time.perf_counter()
    rows = await asyncio.to_thread(generate, calls)
    print(f"   generated rows in {time.perf_counter() - started:.1f} s", flush=True)
    rng = random.Random(9)
    n_customers = max(1, calls // 10)
    for backend in backends:
        url = await dbs.fresh(backend, "screenpop")
        started = time.perf_counter()
        if backend == "sqlite":
            await asyncio.to_thread(load_sqlite, url.split("///", 1)[1], rows)
        else:
            await load_postgres(url, rows)
        print(f"   {backend:10s} bulk load {time.perf_counter() - started:6.1f} s", flush=True)
        async with open_store(StoreSettings(url=url, data_dir=dbs.folder)) as store:
            assert await store.cases.count("calls") == calls
            for _ in range(50):  # warm the pool and caches
                await store.cases.screen_pop(_phone(rng.randrange(n_customers)))
            times = []
            found = 0
            for _ in range(2000):
                phone = _phone(rng.randrange(n_customers))
                t = time.perf_counter()
                pop = await store.cases.screen_pop(phone)
                times.append(time.perf_counter() - t)
                found += pop is not None and len(pop.recent_cases) > 0
            baseline = []
            async with store.engine.connect() as conn:
                for _ in range(5):
                    t = time.perf_counter()
                    await conn.execute(NO_INDEX_SQL, {"phone": _phone(rng.randrange(n_customers))})
                    baseline.append(time.perf_counter() - t)
            retention_now = T0 + 3 * YEAR + calls * 3.0 * 0.1  # the oldest 10 % are past retention
            t = time.perf_counter()
            report = await apply_retention(
                store.engine, store.recordings, retention_years=3, now=retention_now
            )
            retention_seconds = time.perf_counter() - t
        p50 = statistics.median(times) * 1000
        p99 = statistics.quantiles(times, n=100)[98] * 1000
        base = statistics.median(baseline) * 1000
        print(f"   {backend:10s} screen-pop p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  ({found}/2000 with cases); "
              f"without indexes p50 {base:8.1f} ms (x{base / p50:,.0f})", flush=True)
        anonymised = report.counts["calls anonymised"]
        print(f"   {backend:10s} retention apply: {anonymised:,} calls anonymised in {retention_seconds:.1f} s "
              f"({anonymised / retention_seconds:,.0f} rows/s)", flush=True)


async def run(calls: int, sim_hours: float, backends: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as folder:
        dbs = Databases(Path(folder))
        try:
            await bench_writer(dbs, backends, sim_hours)
            print()
            await bench_screen_pop(dbs, backends, calls)
        finally:
            await dbs.drop_all()


async def stream_rounds(sim_hours: float, backends: Sequence[str], rounds: int) -> None:
    """Only the streamed `hotline simulate --store` figure, `rounds` times per backend
    (alternated), each into a fresh database."""
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as folder:
        dbs = Databases(Path(folder))
        config = Path(folder) / "load.yaml"
        config.write_text(SIM_CONFIG.format(seconds=int(sim_hours * 3600)), encoding="utf-8")
        try:
            for i in range(rounds):
                for backend in backends:
                    url = await dbs.fresh(backend, f"stream{i}")
                    cpu = time.process_time()
                    figures = await asyncio.to_thread(simulate_store, config, url)
                    cpu = time.process_time() - cpu  # this process: simulation, recorder, writer
                    print(f"   {backend:10s} streamed: {figures['completed']:7,d} calls in {figures['seconds']:6.2f} s "
                          f"= {figures['calls_per_second']:8,.0f} calls/s; waited for the writer "
                          f"{figures['wait_seconds']:.2f} s; CPU of this process {cpu:.2f} s = "
                          f"{figures['completed'] / cpu:,.0f} calls per CPU second "
                          f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            await dbs.drop_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_store")
    parser.add_argument("--calls", type=int, default=1_000_000, help="calls in the screen-pop store")
    parser.add_argument("--sim-hours", type=float, default=4.0, help="simulated hours for the writer")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--stream", type=int, metavar="ROUNDS",
                        help="only the streamed simulate --store figure, this many rounds (short)")
    args = parser.parse_args([] if argv is None else argv)
    backends = [args.only] if args.only else ["sqlite", "postgresql"]
    if args.stream:
        asyncio.run(stream_rounds(args.sim_hours, backends, args.stream))
    else:
        asyncio.run(run(args.calls, args.sim_hours, backends))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
