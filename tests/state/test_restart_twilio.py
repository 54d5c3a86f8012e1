"""One `hotline serve` with Twilio (no Asterisk, no Redis), two Twilio callers on hold, killed
with kill -9 and started again while Twilio keeps the callers on hold: both keep their call
and their place; the first is dialled to the agent who logs in (over a local stand-in of
Twilio's REST API) before any webhook of theirs reached the new process, the second's hold
webhook is answered with the hold loop again. Webhooks carry the form fields and signature
Twilio sends (tests/twilio/fakes.py)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.state.nodes import ROOT, Node, free_port, until, upgrade
from tests.twilio.fakes import ACCOUNT, TOKEN, Poster, call_sid

MENU = ROOT / "tests" / "twilio" / "menu.yaml"


class TwilioRest:
    """Twilio's REST API on loopback: every request to a Calls resource recorded."""

    def __init__(self) -> None:
        self.updates: list[tuple[str, dict[str, str]]] = []
        self.changed = asyncio.Event()
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{sid}.json", self._update)
        self.server = TestServer(app, host="127.0.0.1")

    async def _update(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        self.updates.append((sid, {k: str(v) for k, v in (await request.post()).items()}))
        self.changed.set()
        return web.json_response({"sid": sid, "account_sid": ACCOUNT, "status": "in-progress",
                                  "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json"})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, "ApiVersion": "2010-04-01", **extra}


def config(folder: Path, api_port: int, rest: str) -> Path:
    queues = [{"name": q, "skills": {q: 1}, "ring_timeout": 60, "wrap_up": 0} for q in ("booking", "refund", "general")]
    data: dict[str, Any] = {
        "name": "twilio restart test",
        "queues": queues,
        "agents": [{"id": a, "name": f"Agent {a}", "skills": {"booking": 5, "refund": 5, "general": 5}}
                   for a in ("1001", "1002")],
        "ivr": {"menus": [str(MENU)]},
        "twilio": {
            "enabled": True, "account_sid": ACCOUNT, "auth_token": TOKEN, "public_url": f"http://127.0.0.1:{api_port}",
            "agents": {"1001": "sip:1001@pbx.example.com", "1002": "sip:1002@pbx.example.com"},
            "hold_music_url": "https://media.example.com/hold.mp3", "menu": "twilio-test", "api_url": rest,
            "record": False,
        },
        "api": {"host": "127.0.0.1", "port": api_port},
        "store": {"url": f"sqlite+aiosqlite:///{folder / 'data' / 'hotline.db'}", "data_dir": str(folder / "data")},
    }
    path = folder / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _waiting(node: Node) -> list[str]:
    return [c["id"] for c in node.get("/api/live")["calls"] if c["state"] == "queued"]


async def test_twilio_callers_on_hold_keep_their_call_across_kill_9(tmp_path: Path) -> None:
    rest = TwilioRest()
    await rest.server.start_server()
    api_port = free_port()
    path = config(tmp_path, api_port, rest.url)
    await asyncio.to_thread(upgrade, path)
    node = Node("solo", path, api_port, 0, tmp_path / "solo.log")
    first, second = call_sid(0x5E1), call_sid(0x5E2)
    node.start()
    try:
        async with aiohttp.ClientSession() as session:
            poster = Poster(session, node.base, public=node.base)
            await until(lambda: node.get("/health")["status"] == "ready", what="first start")
            for sid, number in ((first, "+821011112222"), (second, "+821033334444")):
                await poster.twiml("/twilio/voice", form(sid, From=number, To="+8215990000", CallStatus="ringing",
                                                          Direction="inbound"))
                hold = ET.fromstring(await poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="1")))
                assert hold.find("Redirect") is not None and hold.find("Play") is not None
            await until(lambda: _waiting(node) == [first, second], what="two callers on hold")

            node.kill()  # Twilio keeps both callers on hold, looping on the last hold TwiML
            node.start()
            await until(lambda: node.get("/health")["status"] == "ready", what="restart")
            assert "ACD restored" in node.text()
            assert _waiting(node) == [first, second]  # their places

            # The second caller's next hold round reaches the new process: the hold loop again.
            again = ET.fromstring(await poster.twiml(f"/twilio/hold?call={second}", form(second)))
            assert again.find("Hangup") is None
            assert again.find("Redirect") is not None and again.find("Redirect").text == (  # type: ignore[union-attr]
                f"{node.base}/twilio/hold?call={second}")
            # An agent logs in: the first caller (no webhook of theirs since the restart) is dialled.
            status, _ = node.request("POST", "/api/agents/1001/state", {"action": "login"})
            assert status == 200
            async with asyncio.timeout(10):
                while not rest.updates:
                    rest.changed.clear()
                    await rest.changed.wait()
            sid, fields = rest.updates[0]
            assert sid == first
            dial = ET.fromstring(fields["Twiml"]).find("Dial")
            assert dial is not None and dial.find("Sip") is not None
            assert dial.find("Sip").text == "sip:1001@pbx.example.com"  # type: ignore[union-attr]
            await poster.post(f"/twilio/agent?call={first}&agent=1001", form(call_sid(0xA1), CallStatus="in-progress"))
            await until(lambda: node.get("/api/agents/1001")["state"] == "on_call", what="talking")
            await poster.twiml(f"/twilio/dial?call={first}&agent=1001", form(first, DialCallStatus="completed"))
            await poster.post("/twilio/status", form(second, CallStatus="completed"))  # gives up waiting
            await until(lambda: node.get("/api/live")["calls"] == [], what="both calls over")
    finally:
        node.stop()
        await rest.server.close()
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}") as store, \
            store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome, CALLS.c.agent_id))).all()
    outcomes = {row.id: (row.outcome, row.agent_id) for row in rows}
    assert len(rows) == len(outcomes) == 2  # one record per call
    assert outcomes[first] == ("answered", "1001")
    assert outcomes[second][0] == "abandoned"
