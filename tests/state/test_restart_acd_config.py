"""Queues and agents edited live survive a kill -9 and a restart of `hotline serve` (the store
and the journal agree); `hotline export` writes them back as a configuration that `hotline
config check` accepts and that a fresh `hotline serve` runs with the same queues and agents."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import ROOT, Node, free_port, until, upgrade, write_config


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline.cli", *args, "--config", str(config)], cwd=config.parent,
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _items(node: Node, kind: str) -> dict[str, dict[str, Any]]:
    return {v["name"]: v["item"] for v in node.get(f"/api/admin/{kind}")["items"]}


async def test_edits_survive_a_restart_and_export_round_trips(tmp_path: Path) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({f"PJSIP/{a}": "NOT_INUSE" for a in ("1001", "1002", "1003")})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"
    api_port, agi_port = free_port(), free_port()
    config = write_config(tmp_path, ami_port=fake.port, api_port=api_port, agi_port=agi_port, store_url=store_url)
    await asyncio.to_thread(upgrade, config)
    node = Node("solo", config, api_port, agi_port, tmp_path / "solo.log")
    second: Node | None = None
    node.start()
    try:
        await until(lambda: node.get("/health")["status"] == "ready", what="first start")
        await until(lambda: "resync:" in node.text(), what="AMI connected")
        # a caller waits in booking while the admin edits it; 1002 gets a skill, 1003 is disabled
        waiting = await fake.agi_call(node.agi_port, CallerScript(number="+821000000001",
                                                                  keys=["1", "4", "2", "4", "2"]))
        call_id = waiting.channel.uniqueid
        await until(lambda: [c["id"] for c in node.get("/api/live")["calls"]] == [call_id], what="caller waiting")
        booking = {"name": "booking", "skills": {"booking": 3}, "ring_timeout": 25, "wrap_up": 0,
                   "service_level": {"target": 0.9, "seconds": 15}, "max_wait": 1200}
        status, body = node.request("POST", "/api/admin/queues", {"item": booking, "message": "easier"})
        assert status == 200 and body["version"] == 2, body
        status, body = node.request("POST", "/api/admin/queues", {"item": {"name": "claims", "skills": {"claims": 2}}})
        assert status == 200, body
        agent = {"id": "1002", "name": "Agent 1002", "skills": {"booking": 5, "claims": 7}, "capacity": 2}
        status, body = node.request("POST", "/api/admin/agents", {"item": agent, "message": "claims training"})
        assert status == 200 and body["version"] == 2, body
        status, body = node.request("POST", "/api/admin/agents/1003/disabled", {"disabled": True})
        assert status == 200, body
        assert [c["id"] for c in node.get("/api/live")["calls"]] == [call_id]  # still waiting
        queues, agents = _items(node, "queues"), _items(node, "agents")

        node.kill()  # kill -9: no shutdown, no final snapshot
        node.start()
        await until(lambda: node.get("/health")["status"] == "ready", what="restart")
        assert _items(node, "queues") == queues and _items(node, "agents") == agents
        running = node.get("/api/agents/1002")
        assert (running["skills"], running["capacity"]) == ({"booking": 5, "claims": 7}, 2)
        status, body = node.request("POST", "/api/agents/1003/state", {"action": "login"})
        assert status == 409, body  # still disabled
        status, body = node.request("POST", "/api/agents/1002/state", {"action": "login"})
        assert status == 200, body
        await until(lambda: node.get("/api/agents/1002")["calls"] == [call_id], what="the waiting caller offered")
        node.stop()

        # hotline export: the live configuration, accepted by `config check` and by a new serve
        out = tmp_path / "export" / "live.yaml"
        done = _cli(config, "export", "--out", str(out))
        assert done.returncode == 0, done.stderr
        exported = yaml.safe_load(out.read_text(encoding="utf-8"))
        assert {q["name"]: q for q in exported["queues"]} == queues
        assert {a["id"]: a for a in exported["agents"]} == agents
        assert exported["ivr"]["menus"] == ["live-menus/asterisk-test.yaml"]
        checked = _cli(out, "config", "check")
        assert checked.returncode == 0, checked.stderr
        fresh_url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        exported["store"] = {**exported["store"], "url": fresh_url}
        exported["api"]["port"] = port2 = free_port()
        exported["asterisk"]["fastagi"]["port"] = agi2 = free_port()
        out.write_text(yaml.safe_dump(exported), encoding="utf-8")
        await asyncio.to_thread(upgrade, out)
        second = Node("fresh", out, port2, agi2, tmp_path / "fresh.log")
        second.start()
        await until(lambda: second.get("/health")["status"] == "ready", what="serve from the export")
        assert _items(second, "queues") == queues and _items(second, "agents") == agents
        assert second.get("/api/agents/1002")["skills"] == {"booking": 5, "claims": 7}
    finally:
        node.kill()
        if second is not None:
            second.kill()
        await fake.close()
