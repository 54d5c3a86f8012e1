"""The case-store commands, run through `hotline.cli.main` on both databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from casestore import StoreSettings, open_store
from casestore.schema import head_revision
from hotline.cli import main

SIMULATION = """
name: store check
seed: 7
duration: 1800
warmup: 0
queues:
  - {name: general, skills: {general: 1}, ring_timeout: null, wrap_up: 0}
  - {name: complaint, skills: {general: 1}, ring_timeout: null, wrap_up: 0}
traffic:
  - {queue: general, calls_per_hour: 1200, handle: {dist: exponential, mean: 60}, patience: {dist: exponential, mean: 30}}
  - {queue: complaint, calls_per_hour: 300, handle: {dist: exponential, mean: 60}}
agents:
  - {group: all, count: 20, skills: {general: 5}}
"""


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_db_upgrade_then_check(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("db", "check", "--url", empty_url, "--config", "missing.yaml") == 1
    assert "hotline db upgrade" in capsys.readouterr().err
    assert await cli("db", "upgrade", "--url", empty_url, "--config", "missing.yaml") == 0
    assert f"upgraded from empty to {head_revision()}" in capsys.readouterr().out
    assert await cli("db", "upgrade", "--url", empty_url, "--config", "missing.yaml") == 0
    assert f"already at revision {head_revision()}" in capsys.readouterr().out
    assert await cli("db", "check", "--url", empty_url, "--config", "missing.yaml") == 0


async def test_simulate_store_persists_every_simulated_call(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sim.yaml"
    config.write_text(SIMULATION, encoding="utf-8")
    assert await cli("simulate", str(config), "--store", db_url, "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert await cli("simulate", str(config), "--store", db_url, "--json") == 0
    second = json.loads(capsys.readouterr().out)
    stored = first["store"]
    assert stored["calls"] > 400
    assert stored["completed"] == stored["calls"]  # every call ends (answered or abandoned)
    assert first["store"]["run_id"] != second["store"]["run_id"]
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path)) as store:
        total = await store.cases.count("calls")
        assert total == stored["calls"] + second["store"]["calls"]  # two runs never merge
        assert await store.cases.count("cases") == total
        call = await store.cases.get_call(f"{stored['run_id']}-c1")
        assert call.source == "simulation"
        assert call.outcome in {"answered", "abandoned"}
        assert call.started_at is not None and call.started_at > 1_700_000_000  # wall-clock time
    abandoned = sum(q["abandoned"] for q in first["queues"])
    assert abandoned > 0


async def test_overdue_and_retention_commands(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path / "data")) as store:
        late = await store.cases.open_case("complaint", "urgent", at=1_000_000.0)
        await store.cases.open_case("complaint", "general", customer_phone="+821012345678")
    config = tmp_path / "hotline.yaml"
    config.write_text(f"store: {{url: '{db_url}', data_dir: data}}\n", encoding="utf-8")
    assert await cli("cases", "overdue", "--config", str(config), "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["number"] for line in lines] == [late.number]
    assert await cli("retention", "apply", "--dry-run", "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "would change (dry run)" in out
    assert await cli("retention", "apply", "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert "rows changed" in out
    assert "12345678" not in out
