"""Supervisors on a Twilio call through the API of the app `hotline serve` builds: the API's
role check and audit hold as on Asterisk, and the monitoring becomes a coaching participant
of the call's Twilio conference (REST recorded by the fake), removed when it stops."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.call import CallState
from acd.clock import VirtualClock
from casestore.store import open_store
from hotline.wiring import build_app
from tests.web.harness import CONFIG, START, WebRig, load_config, sample_config

from .fakes import ACCOUNT, PUBLIC, TOKEN, FakeTwilioApi, Poster, call_sid

API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
CONF = "CF" + "cd" * 16
SID, AGENT_LEG = call_sid(0x91), call_sid(0xA9)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[WebRig, FakeTwilioApi]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    sample = load_config(CONFIG)
    twilio = {**sample.sections["twilio"], "enabled": True, "account_sid": ACCOUNT, "auth_token": TOKEN,
              "public_url": PUBLIC}
    api = FakeTwilioApi()
    clock = VirtualClock(START)
    app = build_app(sample_config(twilio=twilio), clock=clock, store_url=url, twilio_http_client=api,
                    speech=False, asterisk=False)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield WebRig(app, client, clock), api


async def post(rig: WebRig, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    response = await rig.client.post(path, json=body, headers=headers)
    return response.status, await response.json()


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, **extra}


async def test_a_supervisor_whispers_to_a_twilio_agent_through_the_api(
    rig: tuple[WebRig, FakeTwilioApi],
) -> None:
    web_rig, api = rig
    await web_rig.add_user("sue", "supervisor")
    await web_rig.add_user("kim", "agent", agent_id="1001")
    sue, kim = await web_rig.bearer("sue"), await web_rig.bearer("kim")
    poster = Poster(web_rig.client.session, web_rig.base_url)
    acd = web_rig.acd
    acd.login("1001")
    # A Twilio caller (on hold at Twilio) assigned to 1001: the gateway dials the agent over REST.
    acd.arrive(SID, "booking", caller="+821012345678", source="twilio", dialed="+8215880000")
    await api.wait_for(1)
    await poster.post(f"/twilio/agent?call={SID}&agent=1001", form(AGENT_LEG, ParentCallSid=SID,
                                                                     CallStatus="in-progress"))
    assert acd.calls[SID].state is CallState.ON_CALL

    status, out = await post(web_rig, f"/api/calls/{SID}/monitor", {"mode": "whisper"}, kim)
    assert (status, out["error"]) == (403, "forbidden")
    status, out = await post(web_rig, f"/api/calls/{SID}/monitor", {"mode": "whisper", "phone": "01099998888"}, sue)
    assert status == 200, out
    assert out["monitors"][0]["supervisor"] == "01099998888" and out["monitors"][0]["mode"] == "whisper"
    audit = await web_rig.store.accounts.audit(limit=5, actor="sue")
    assert [(e.action, e.after["phone"]) for e in audit] == [("call.monitor_whisper", "01099998888")]

    requests = await api.wait_for(2)
    assert requests[1].url == f"{API}/Calls/{AGENT_LEG}.json"
    assert ET.fromstring(str(requests[1].data["Twiml"])).find("Dial/Conference") is not None
    status, text = await poster.post(f"/twilio/dial?call={SID}&agent=1001", form(SID, DialCallStatus="completed"))
    assert status == 200 and "<Conference" in text
    for leg in (AGENT_LEG, SID):
        status, _ = await poster.post(f"/twilio/conference?call={SID}", form(
            leg, ConferenceSid=CONF, FriendlyName=f"hotline-{SID}", StatusCallbackEvent="participant-join"))
        assert status == 200
    dialled = (await api.wait_for(3))[2]
    assert dialled.url == f"{API}/Conferences/{CONF}/Participants.json"
    assert (dialled.data["To"], dialled.data["Coaching"], dialled.data["CallSidToCoach"]) == (
        "+821099998888", "true", AGENT_LEG)

    status, out = await post(web_rig, f"/api/calls/{SID}/monitor/stop", {"phone": "01099998888"}, sue)
    assert status == 200 and out["monitors"] == []
    removed = (await api.wait_for(4))[3]
    assert (removed.method, removed.url) == ("DELETE", f"{API}/Conferences/{CONF}/Participants/CA{0xC001:032x}.json")
