"""One `hotline serve` with Twilio (no Asterisk, no Redis): two callers take a callback after
the queue's callback hours, the process is killed with kill -9 and started again; at the next
opening the agent's leg is created over REST (`Calls.create`) for the first request, then the
customer is dialled; the second waits behind it, then is not reached after the attempts. The
case store has the outcomes. Webhooks carry Twilio's form fields and
signature (tests/twilio/fakes.py)."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.state.nodes import Node, free_port, until, upgrade
from tests.state.test_restart_held_callback import _opening
from tests.state.test_restart_twilio import config, form
from tests.twilio.fakes import ACCOUNT, Poster, call_sid


class TwilioCalls:
    """Twilio's REST API on loopback: `Calls.create` requests recorded, each a new CallSid."""

    def __init__(self) -> None:
        self.created: list[dict[str, str]] = []
        self.changed = asyncio.Event()
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", self._create)
        self.server = TestServer(app, host="127.0.0.1")

    async def _create(self, request: web.Request) -> web.Response:
        self.created.append({k: str(v) for k, v in (await request.post()).items()})
        self.changed.set()
        sid = call_sid(0xC000 + len(self.created))
        return web.json_response({"sid": sid, "account_sid": ACCOUNT, "status": "queued",
                                  "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{sid}.json"})

    async def wait(self, count: int, within: float) -> list[dict[str, str]]:
        async with asyncio.timeout(within):
            while len(self.created) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.created

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


def _calls(node: Node) -> dict[str, str]:
    return {c["id"]: c["state"] for c in node.get("/api/live")["calls"]}


async def test_held_twilio_callbacks_survive_kill_9_and_are_dialled_at_the_opening(tmp_path: Path) -> None:
    rest = TwilioCalls()
    await rest.server.start_server()
    api_port = free_port()
    path = config(tmp_path, api_port, rest.url)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    opening, hours = _opening(after=20.0)
    general = next(q for q in data["queues"] if q["name"] == "general")
    general["callbacks"] = {"hours": hours, "timezone": "UTC"}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    await asyncio.to_thread(upgrade, path)
    node = Node("solo", path, api_port, 0, tmp_path / "solo.log")
    first, second = call_sid(0x6E1), call_sid(0x6E2)
    node.start()
    try:
        async with aiohttp.ClientSession() as session:
            poster = Poster(session, node.base, public=node.base)
            await until(lambda: node.get("/health")["status"] == "ready", what="first start")
            for sid, number in ((first, "+821011112222"), (second, "+821033334444")):
                await poster.twiml("/twilio/voice", form(sid, From=number, To="+8215990000", CallStatus="ringing",
                                                          Direction="inbound"))
                await poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="9"))  # callback
                bye = ET.fromstring(await poster.twiml(f"/twilio/gather?call={sid}&step=2", form(sid, Digits="1")))
                assert bye.find("Hangup") is not None
                await poster.post("/twilio/status", form(sid, CallStatus="completed"))
            assert time.time() < opening - 5, "the test machine is too slow for this opening"
            assert node.text().count("kept for general") == 2 and _calls(node) == {}

            node.kill()  # kill -9: no shutdown
            node.start()
            await until(lambda: node.get("/health")["status"] == "ready", what="restart")
            assert "ACD restored" in node.text()
            assert node.request("POST", "/api/agents/1001/state", {"action": "login"})[0] == 200
            assert _calls(node) == {} and rest.created == []  # held until the opening

            (create,) = await rest.wait(1, within=opening - time.time() + 15)
            assert time.time() >= opening - 1
            assert create["To"] == "sip:1001@pbx.example.com"
            assert create["StatusCallback"] == f"{node.base}/twilio/callback?call={first}"
            number = ET.fromstring(create["Twiml"]).find("Dial/Number")
            assert number is not None and number.text == "+821011112222"  # the first request first
            assert _calls(node) == {first: "ringing", second: "queued"}
            leg = call_sid(0xC001)
            await poster.post(f"/twilio/callback?call={first}", form(leg, CallStatus="in-progress"))
            await until(lambda: node.get("/api/agents/1001")["state"] == "on_call", what="agent on the callback")
            done = ET.fromstring(await poster.twiml(f"/twilio/callback-dial?call={first}",
                                                    form(leg, DialCallStatus="completed")))
            assert done.find("Hangup") is not None
            await poster.post(f"/twilio/callback?call={first}", form(leg, CallStatus="completed"))

            # the agent is free again: the second callback; its customer does not answer
            second_create = (await rest.wait(2, within=10))[1]
            number = ET.fromstring(second_create["Twiml"]).find("Dial/Number")
            assert number is not None and number.text == "+821033334444"
            leg = call_sid(0xC002)
            await poster.post(f"/twilio/callback?call={second}", form(leg, CallStatus="in-progress"))
            for _ in range(3):  # callback_attempts (default 3)
                retry = ET.fromstring(await poster.twiml(f"/twilio/callback-dial?call={second}",
                                                         form(leg, DialCallStatus="no-answer")))
            assert retry.find("Hangup") is not None and retry.find("Dial") is None
            await poster.post(f"/twilio/callback?call={second}", form(leg, CallStatus="completed"))
            await until(lambda: _calls(node) == {}, what="both callbacks over")
    finally:
        node.stop()
        await rest.server.close()
    async with open_store(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hotline.db'}") as store, \
            store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome, CALLS.c.agent_id))).all()
    outcomes = {row.id: (row.outcome, row.agent_id) for row in rows}
    assert len(rows) == 2  # one record per call, from the IVR to the callback's end
    assert outcomes[first] == ("answered", "1001")  # the customer reached
    assert outcomes[second] == ("callback_failed", "1001")  # not reached after the attempts
