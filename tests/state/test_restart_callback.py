"""One `hotline serve` (no Redis) with a callback waiting, killed with kill -9 and started
again: the callback (no caller channel left in Asterisk) keeps its place instead of being
taken for a caller who hung up, and an agent logging in is rung for it by Originate; a real
caller who hung up while Hotline was down is still closed as abandoned."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import ROOT, Node, free_port, until, upgrade, write_config

CALLBACK_MENU = ROOT / "tests" / "asterisk" / "menu_callback.yaml"
NUMBER = "+821012345678"


def _waiting(node: Node) -> list[str]:
    return [c["id"] for c in node.get("/api/live")["calls"] if c["state"] == "queued"]


async def test_a_waiting_callback_survives_kill_9_and_is_rung_after_the_restart(tmp_path: Path) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE"})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"
    api_port, agi_port = free_port(), free_port()
    config = write_config(tmp_path, ami_port=fake.port, api_port=api_port, agi_port=agi_port, store_url=store_url)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["ivr"]["menus"] = [str(CALLBACK_MENU)]
    data["asterisk"]["menu"] = "asterisk-callback"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    await asyncio.to_thread(upgrade, config)
    node = Node("solo", config, api_port, agi_port, tmp_path / "solo.log")
    node.start()
    try:
        await until(lambda: node.get("/health")["status"] == "ready", what="first start")
        await until(lambda: "resync:" in node.text(), what="AMI connected")
        result = await fake.agi_call(node.agi_port, CallerScript(number=NUMBER, keys=["1"]))
        callback = result.channel.uniqueid
        assert callback not in fake.channels  # the caller hung up: a callback keeps the place
        await until(lambda: _waiting(node) == [callback], what="callback waiting")

        node.kill()  # kill -9: no shutdown
        node.start()
        await until(lambda: node.get("/health")["status"] == "ready", what="restart")
        await until(lambda: "resync:" in node.text().split("ACD restored")[-1], what="resync after restart")
        assert "callback " + callback in node.text().split("ACD restored")[-1]  # taken back, not ended
        assert _waiting(node) == [callback]

        # An agent logs in: Hotline rings the agent first (Originate), for the restored callback.
        assert node.request("POST", "/api/agents/1001/state", {"action": "login"})[0] == 200
        originate = await fake.wait_action("Originate", within=10)
        assert originate["Channel"] == "PJSIP/1001" and originate["ChannelId"] == f"{callback}-cb1"
        fake.answer_originate(f"{callback}-cb1")
        await until(lambda: node.get("/api/agents/1001")["state"] == "on_call", what="agent on the callback")
    finally:
        node.stop()
        await fake.close()
    async with open_store(store_url) as store, store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome, CALLS.c.agent_id))).all()
    assert [row.id for row in rows] == [callback]  # one record
    assert rows[0].outcome != "abandoned" and rows[0].agent_id == "1001"
