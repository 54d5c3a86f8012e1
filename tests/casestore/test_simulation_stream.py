"""`hotline simulate --store`: the run streamed into the store through the writer, on both
databases; the store opened before anything is simulated; the writer's backlog bounded."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import asyncpg
import pytest
import yaml
from sqlalchemy import func, select

from acd.simulation import Simulation, SimulationConfig, parse_simulation
from casestore import StoreSettings, StoreUnavailable
from casestore.models import CALLS, CASES
from casestore.simulation import SimulationRecorder
from hotline.cli import main

DURATION = 1800
SIMULATION = f"""
name: stream check
seed: 11
duration: {DURATION}
warmup: 0
queues:
  - {{name: general, skills: {{general: 1}}, ring_timeout: null, wrap_up: 0}}
  - {{name: complaint, skills: {{general: 1}}, ring_timeout: null, wrap_up: 0}}
traffic:
  - {{queue: general, calls_per_hour: 1500, handle: {{dist: exponential, mean: 60}}, patience: {{dist: exponential, mean: 30}}}}
  - {{queue: complaint, calls_per_hour: 300, handle: {{dist: exponential, mean: 60}}}}
agents:
  - {{group: all, count: 22, skills: {{general: 5}}}}
"""


def config() -> SimulationConfig:
    return parse_simulation(yaml.safe_load(SIMULATION), "stream")


async def test_every_call_written_exactly_once_with_a_bounded_backlog(db_url: str, tmp_path: Path) -> None:
    bound = 150
    recorder = SimulationRecorder(StoreSettings(url=db_url, data_dir=tmp_path), batch_size=50, bound=bound)
    async with recorder.open() as store:
        simulation = Simulation(config(), subscribers=[recorder.on_event])
        seen: list[float] = []
        report, stored = await recorder.stream(simulation, store, progress=seen.append)
        async with store.engine.connect() as conn:
            rows = (await conn.execute(select(CALLS.c.id, CALLS.c.started_at, CALLS.c.outcome))).all()
            cases = (await conn.execute(select(func.count()).select_from(CASES))).scalar_one()
    # exactly once: one row and one case per simulated call, all of this run
    assert report.arrivals > 800
    assert stored.calls == report.arrivals == len(rows) == len({r.id for r in rows}) == cases
    assert all(r.id.startswith(f"{recorder.run_id}-c") for r in rows)
    assert stored.completed == stored.calls  # every call ended (answered or abandoned)
    # the rows tell what the simulator counted in its window
    window = [r for r in rows if r.started_at < stored.offset + DURATION]
    overall = report.overall
    assert len(window) == overall.offered
    assert sum(r.outcome == "answered" for r in window) == overall.answered
    assert sum(r.outcome == "abandoned" for r in window) == overall.abandoned > 0
    # memory: the writer never held more than the bound plus the events of one simulated step,
    # though the run handed it many times the bound (the call events, logins and pauses)
    assert stored.events > 15 * bound
    assert stored.max_backlog < bound + 10
    assert stored.waits > 0  # back-pressure was applied
    assert stored.batches >= stored.events // (bound + 10)
    assert seen[-1] == 1.0 and seen == sorted(seen)


async def test_paced_run_takes_at_least_simulated_time_over_speed(db_url: str, tmp_path: Path) -> None:
    recorder = SimulationRecorder(StoreSettings(url=db_url, data_dir=tmp_path))
    short = config().with_overrides(duration=300)
    async with recorder.open() as store:
        simulation = Simulation(short, subscribers=[recorder.on_event])
        report, stored = await recorder.stream(simulation, store, speed=2000.0)
        assert await store.cases.count("calls") == report.arrivals == stored.completed
    assert stored.speed == 2000.0
    # the last event was only simulated once the wall clock allowed it
    assert stored.seconds >= stored.simulated_seconds / 2000.0
    assert stored.simulated_seconds > 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:{port}/test",  # nothing listens there
        "mysql://127.0.0.1/hotline",  # not a supported scheme
        "not a url",
    ],
)
async def test_bad_store_exits_2_before_simulating(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(SIMULATION, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    argv = ["simulate", str(path), "--store", url.format(port=free_port()), "--events", str(events), "--json"]
    assert await asyncio.to_thread(main, argv) == 2
    captured = capsys.readouterr()
    assert "cannot open the case store" in captured.err
    assert captured.out == ""  # no report
    assert events.read_text() == ""  # not one event simulated


async def test_open_raises_store_unavailable_for_an_unreachable_database() -> None:
    recorder = SimulationRecorder(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    with pytest.raises(StoreUnavailable):
        async with recorder.open():
            raise AssertionError("opened a database nobody serves")


async def test_cli_reports_writer_figures(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(SIMULATION, encoding="utf-8")
    argv = ["simulate", str(path), "--store", db_url, "--json", "--speed", "1000000"]
    assert await asyncio.to_thread(main, argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    stored = data["store"]
    for key in ("run_id", "events", "calls", "completed", "seconds", "batches", "calls_per_second"):
        assert key in stored  # the keys of before
    assert stored["calls"] == data["arrivals"] == stored["completed"]
    assert 0 < stored["max_backlog"] <= stored["bound"] + 10
    assert stored["speed"] == 1000000
    assert "max backlog" in captured.err and "calls/s" in captured.err


def test_speed_needs_a_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "sim.yaml"
    path.write_text(SIMULATION, encoding="utf-8")
    assert main(["simulate", str(path), "--speed", "10"]) == 2
    assert "--speed" in capsys.readouterr().err



@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_store_that_stops_taking_batches_ends_the_run(db_url: str, tmp_path: Path) -> None:
    recorder = SimulationRecorder(StoreSettings(url=db_url, data_dir=tmp_path), batch_size=50, bound=150)
    async with recorder.open() as store:
        simulation = Simulation(config(), subscribers=[recorder.on_event])
        lock = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql"), timeout=10)
        try:
            async with lock.transaction():
                await lock.execute("LOCK TABLE calls, cases IN ACCESS EXCLUSIVE MODE")  # writes now wait
                with pytest.raises(StoreUnavailable, match="took no batch"):
                    await recorder.stream(simulation, store, stall_timeout=0.3)
        finally:
            await lock.close()
        assert simulation.next_event_at() is not None  # stopped early, not run to the end
        # what was simulated: the writer's bound, the events of a step, the batch it was writing
        assert recorder.events < 150 + 10 + 200
        assert await store.cases.count("calls") == 0
