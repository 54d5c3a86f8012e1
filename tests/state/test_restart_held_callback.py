"""One `hotline serve` (no Redis) with two callbacks requested after the queue's callback hours,
killed with kill -9 and started again: both requests are still held (the ACD's own state,
acd/held.py, in the journal), and at the next opening they are placed in their original order:
the agent is rung for the first, the second waits behind it."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import yaml

from acd.callbacks import DAYS
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.state.nodes import ROOT, Node, free_port, until, upgrade, write_config

CALLBACK_MENU = ROOT / "tests" / "asterisk" / "menu_callback.yaml"


def _opening(after: float) -> tuple[float, dict[str, str]]:
    """The first whole minute (UTC) at least `after` seconds from now, and hours opening then."""
    start = dt.datetime.fromtimestamp(time.time() + after, dt.UTC).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=1)
    minute = start.hour * 60 + start.minute
    end = min(minute + 10, 24 * 60)
    span = f"{minute // 60:02d}:{minute % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return start.timestamp(), {DAYS[start.weekday()]: span}


def _calls(node: Node) -> dict[str, str]:
    return {c["id"]: c["state"] for c in node.get("/api/live")["calls"]}


async def test_held_callbacks_survive_kill_9_and_are_dialled_at_the_opening_in_order(tmp_path: Path) -> None:
    fake = FakeAsterisk(recordings_dir=tmp_path / "monitor")
    await fake.start()
    fake.devices.update({"PJSIP/1001": "NOT_INUSE"})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}"
    api_port, agi_port = free_port(), free_port()
    config = write_config(tmp_path, ami_port=fake.port, api_port=api_port, agi_port=agi_port, store_url=store_url)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["ivr"]["menus"] = [str(CALLBACK_MENU)]
    data["asterisk"]["menu"] = "asterisk-callback"
    opening, hours = _opening(after=20.0)  # closed until then: the requests are held
    data["queues"][0]["callbacks"] = {"hours": hours, "timezone": "UTC"}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    await asyncio.to_thread(upgrade, config)
    node = Node("solo", config, api_port, agi_port, tmp_path / "solo.log")
    node.start()
    try:
        await until(lambda: node.get("/health")["status"] == "ready", what="first start")
        await until(lambda: "resync:" in node.text(), what="AMI connected")
        first = (await fake.agi_call(node.agi_port, CallerScript(number="+821011110001", keys=["1"]))).channel
        second = (await fake.agi_call(node.agi_port, CallerScript(number="+821022220002", keys=["1"]))).channel
        assert time.time() < opening - 5, "the test machine is too slow for this opening"
        assert node.text().count("kept for booking") == 2
        assert _calls(node) == {}  # held: not in the queue yet

        node.kill()  # kill -9: no shutdown
        node.start()
        await until(lambda: node.get("/health")["status"] == "ready", what="restart")
        assert "ACD restored" in node.text()
        assert node.request("POST", "/api/agents/1001/state", {"action": "login"})[0] == 200
        assert _calls(node) == {} and fake.received("Originate") == []  # still held until the opening

        originate = await fake.wait_action("Originate", within=opening - time.time() + 15)
        assert time.time() >= opening - 1  # at the opening, not before
        assert originate["ChannelId"] == f"{first.uniqueid}-cb1"  # the first request first
        assert originate["CallerID"] == '"Callback" <+821011110001>'
        assert _calls(node) == {first.uniqueid: "ringing", second.uniqueid: "queued"}
        fake.answer_originate(f"{first.uniqueid}-cb1")
        await until(lambda: node.get("/api/agents/1001")["state"] == "on_call", what="agent on the callback")
    finally:
        node.stop()
        await fake.close()
