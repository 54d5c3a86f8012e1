"""Twilio webhooks on a follower: two `hotline serve` nodes in cluster mode (one Redis, one
case store), each with its own public URL; Twilio's REST API is a loopback stand-in. A call
whose webhooks reach the follower runs its IVR there, is queued and routed by the leader
(whose gateway dials the agent over REST, so the agent's webhooks go to the leader), a
follower's `status` webhook abandons a waiting call on the leader, a call assigned at once is
dialled by the leader only, and after the leader is
killed with kill -9 a caller on hold through the follower keeps their call and is dialled by
it as the new leader. One record per call in the case store."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import select

from casestore.models import CALLS
from casestore.store import open_store
from tests.state.nodes import Node, free_port, until, upgrade
from tests.state.test_failover import REDIS, _cleanup
from tests.state.test_restart_twilio import MENU, TwilioRest, form
from tests.twilio.fakes import ACCOUNT, TOKEN, Poster, call_sid


def config(folder: Path, api_port: int, rest: str, store_url: str, state: dict[str, Any]) -> Path:
    queues = [{"name": q, "skills": {q: 1}, "ring_timeout": 60, "wrap_up": 0} for q in ("booking", "refund", "general")]
    data: dict[str, Any] = {
        "name": "twilio cluster test",
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
        "store": {"url": store_url, "data_dir": str(folder / "data")},
        "state": state,
    }
    path = folder / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def _dialled(rest: TwilioRest, sid: str) -> ET.Element:
    """The <Dial> Twilio was told to run for `sid` (the latest REST update of it)."""
    async with asyncio.timeout(15):
        while not any(s == sid for s, _ in rest.updates):
            rest.changed.clear()
            await rest.changed.wait()
    fields = [f for s, f in rest.updates if s == sid][-1]
    dial = ET.fromstring(fields["Twiml"]).find("Dial")
    assert dial is not None
    return dial


async def test_twilio_webhooks_on_a_follower_routed_by_the_leader_and_across_kill_9(tmp_path: Path) -> None:
    rest = TwilioRest()
    await rest.server.start_server()
    prefix = f"test:hotline:{uuid.uuid4().hex}"
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    nodes = []
    for i in range(2):
        folder = tmp_path / f"node{i}"
        folder.mkdir()
        api_port = free_port()
        state = {"mode": "cluster", "url": REDIS, "prefix": prefix, "node_id": f"node{i}", "lease_ttl": 2.0,
                 "renew_interval": 0.25, "snapshot_interval": 1.0, "timeout": 0.6}
        path = config(folder, api_port, rest.url, store_url, state)
        nodes.append(Node(f"node{i}", path, api_port, 0, folder / "serve.log"))
    await asyncio.to_thread(upgrade, nodes[0].config)
    leader, follower = nodes
    routed, gone, kept, fast = call_sid(0xC1), call_sid(0xC2), call_sid(0xC3), call_sid(0xC4)
    try:
        leader.start()
        await until(lambda: leader.get("/api/cluster")["leader"], what="node0 leads")
        follower.start()
        await until(lambda: follower.get("/api/cluster")["epoch"] == 1, what="node1 follows")
        async with aiohttp.ClientSession() as session:
            at_follower = Poster(session, follower.base, public=follower.base)
            at_leader = Poster(session, leader.base, public=leader.base)

            async def queue(sid: str, number: str) -> ET.Element:
                await at_follower.twiml("/twilio/voice", form(sid, From=number, To="+8215990000",
                                                              CallStatus="ringing", Direction="inbound"))
                return ET.fromstring(await at_follower.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="1")))

            # 1. IVR on the follower, queued on the leader, the agent dialled by the leader.
            hold = await queue(routed, "+821011110001")
            redirect = hold.find("Redirect")
            assert redirect is not None and redirect.text == f"{follower.base}/twilio/hold?call={routed}"
            assert [c["id"] for c in leader.get("/api/live")["calls"]] == [routed]
            status, _ = follower.request("POST", "/api/agents/1001/state", {"action": "login"})
            assert status == 200
            dial = await _dialled(rest, routed)
            assert dial.get("action") == f"{leader.base}/twilio/dial?call={routed}&agent=1001"
            await at_leader.post(f"/twilio/agent?call={routed}&agent=1001", form(call_sid(0xA1), CallStatus="in-progress"))
            await until(lambda: follower.get("/api/agents/1001")["state"] == "on_call", what="talking")

            # 2. A caller waiting through the follower hangs up: the status webhook reaches
            #    the follower, the leader abandons the call.
            await queue(gone, "+821011110002")
            await until(lambda: gone in [c["id"] for c in leader.get("/api/live")["calls"]], what="second queued")
            status, _ = await at_follower.post("/twilio/status", form(gone, CallStatus="completed"))
            assert status in (200, 204)
            await until(lambda: gone not in [c["id"] for c in leader.get("/api/live")["calls"]], what="abandoned")

            # 3. An agent free when a call is queued through the follower: the leader assigns
            #    it at once and dials over REST; the follower answers the hold TwiML only.
            status, _ = follower.request("POST", "/api/agents/1002/state", {"action": "login"})
            assert status == 200
            hold = await queue(fast, "+821011110004")
            assert hold.find("Dial") is None and hold.find("Redirect") is not None
            dial = await _dialled(rest, fast)
            assert dial.get("action") == f"{leader.base}/twilio/dial?call={fast}&agent=1002"
            assert len([s for s, _ in rest.updates if s == fast]) == 1  # dialled once, by the leader
            await at_leader.post(f"/twilio/agent?call={fast}&agent=1002", form(call_sid(0xA3), CallStatus="in-progress"))
            await at_leader.twiml(f"/twilio/dial?call={fast}&agent=1002", form(fast, DialCallStatus="completed"))
            await until(lambda: follower.get("/api/agents/1002")["state"] == "available", what="1002 free")
            status, _ = follower.request("POST", "/api/agents/1002/state", {"action": "logout"})
            assert status == 200

            # 4. A caller on hold through the follower; the leader is killed; the follower leads,
            #    the caller's next hold round gets the hold loop, the next agent is dialled.
            await queue(kept, "+821011110003")
            await until(lambda: kept in [c["id"] for c in follower.get("/api/live")["calls"]], what="third queued")
            leader.kill()
            await until(lambda: follower.get("/api/cluster")["leader"], within=20, what="node1 leads")
            again = ET.fromstring(await at_follower.twiml(f"/twilio/hold?call={kept}", form(kept)))
            assert again.find("Redirect") is not None and again.find("Hangup") is None
            status, _ = follower.request("POST", "/api/agents/1002/state", {"action": "login"})
            assert status == 200
            dial = await _dialled(rest, kept)
            assert dial.get("action") == f"{follower.base}/twilio/dial?call={kept}&agent=1002"
            await at_follower.post(f"/twilio/agent?call={kept}&agent=1002", form(call_sid(0xA2), CallStatus="in-progress"))
            await at_follower.twiml(f"/twilio/dial?call={kept}&agent=1002", form(kept, DialCallStatus="completed"))
            # the first call's talk ends; its dial webhook went to the dead node: its status comes here
            await at_follower.post("/twilio/status", form(routed, CallStatus="completed"))
            await until(lambda: follower.get("/api/live")["calls"] == [], what="every call over")
    finally:
        for node in nodes:
            node.stop()
        await rest.server.close()
        await _cleanup(prefix)
    async with open_store(store_url) as store, store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS.c.id, CALLS.c.outcome, CALLS.c.agent_id))).all()
    outcomes = {row.id: (row.outcome, row.agent_id) for row in rows}
    assert len(rows) == len(outcomes) == 4  # one record per call
    assert outcomes[routed] == ("answered", "1001")
    assert outcomes[gone][0] == "abandoned"
    assert outcomes[kept] == ("answered", "1002")
    assert outcomes[fast] == ("answered", "1002")
