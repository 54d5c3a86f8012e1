"""One `hotline serve` (no Redis), killed with kill -9 and started again: agents' logins and
pauses, waiting callers with their places (re-attached through the AMI resync), an uploaded
menu and the emergency override are all back; the case store has one record per call."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import MENU, Node, free_port, until, upgrade, write_config


async def _queue_caller(fake: FakeAsterisk, node: Node, number: str) -> str:
    result = await fake.agi_call(node.agi_port, CallerScript(number=number, keys=["1", "4", "2", "4", "2"]))
    return result.channel.uniqueid


def _waiting(node: Node) -> list[str]:
    return [c["id"] for c in node.get("/api/live")["calls"] if c["state"] == "queued"]


async def test_kill_9_and_restart_keeps_agents_callers_menus_and_emergency(tmp_path: Path) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({f"PJSIP/{a}": "NOT_INUSE" for a in ("1001", "1002", "1003")})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"
    api_port, agi_port = free_port(), free_port()
    config = write_config(tmp_path, ami_port=fake.port, api_port=api_port, agi_port=agi_port, store_url=store_url)
    await asyncio.to_thread(upgrade, config)
    node = Node("solo", config, api_port, agi_port, tmp_path / "solo.log")
    node.start()
    try:
        await until(lambda: node.get("/health")["status"] == "ready", what="first start")
        await until(lambda: "resync:" in node.text(), what="AMI connected")
        # One agent takes a call and talks; one is paused; callers wait in order behind them.
        assert node.request("POST", "/api/agents/1001/state", {"action": "login"})[0] == 200
        talking = await _queue_caller(fake, node, "+821000000001")
        await fake.wait_action("Redirect")
        fake.answer(talking)
        await until(lambda: node.get("/api/agents/1001")["state"] == "on_call", what="1001 talking")
        assert node.request("POST", "/api/agents/1002/state", {"action": "login"})[0] == 200
        assert node.request("POST", "/api/agents/1002/state", {"action": "pause", "reason": "lunch"})[0] == 200
        waiting = [await _queue_caller(fake, node, f"+82100000001{i}") for i in range(3)]
        await until(lambda: _waiting(node) == waiting, what="three callers waiting")
        menu = MENU.read_text(encoding="utf-8").replace("Welcome to the test hotline.", "Welcome back.")
        status, body = node.request("POST", "/api/menus?message=new+welcome", raw=menu.encode())
        assert status == 200 and body["version"] == 2, body
        status, _ = node.request("POST", "/api/emergency", {"active": True, "announcement": {"en": "Storm."}})
        assert status == 200
        await until(lambda: _emergency_saved(store_url), what="emergency saved")
        before = node.get("/api/live")

        node.kill()  # kill -9 right away: no shutdown, no final snapshot
        fake.hangup(waiting[1])  # the second caller gives up while Hotline is down
        node.start()
        await until(lambda: node.get("/health")["status"] == "ready", what="restart")
        await until(lambda: "resync:" in node.text().split("ACD restored")[-1], what="resync after restart")

        assert node.get("/api/agents/1001")["state"] == "on_call"
        assert node.get("/api/agents/1001")["calls"] == [talking]
        paused = node.get("/api/agents/1002")
        assert (paused["state"], paused["pause_reason"]) == ("paused", "lunch")
        assert node.get("/api/agents/1003")["state"] == "logged_out"
        await until(lambda: _waiting(node) == [waiting[0], waiting[2]], what="callers back in order")
        menus = node.get("/api/menus")["menus"]
        assert [(m["name"], m["active_version"]) for m in menus] == [("asterisk-test", 2)]
        emergency = node.get("/api/emergency")
        assert emergency["active"] and emergency["announcement"] == {"en": "Storm."}
        assert "ACD restored" in node.text()
        after = node.get("/api/live")
        assert after["agents"] == before["agents"]

        # The restored callers are live calls: an agent unpausing takes the first at once.
        assert node.request("POST", "/api/agents/1002/state", {"action": "unpause"})[0] == 200
        redirect = await fake.wait_action("Redirect", count=2)
        assert redirect["Exten"] == "1002" and redirect["Channel"] == fake.channels[waiting[0]].name
    finally:
        node.stop()
        await fake.close()
    async with open_store(store_url) as store, store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome))).all()
    outcomes = {row.id: row.outcome for row in rows}
    assert len(rows) == len(outcomes) == 4  # one record per call
    assert outcomes[waiting[1]] == "abandoned"  # hung up while Hotline was down
    assert all(outcomes[c] != "interrupted" for c in (talking, waiting[0]))


def _emergency_saved(store_url: str) -> bool:
    async def read() -> bool:
        async with open_store(store_url) as store:
            value = await store.live_settings.get("emergency")
            return bool(value and value.get("active"))

    return asyncio.run(read())
