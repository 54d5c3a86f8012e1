"""Transfers on Twilio through the real server and the recorded REST shapes: blind to an
agent, to a queue, to a number (consult, conference and monitoring: test_conference.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from acd.agent import AgentState
from acd.call import CallState

from .fakes import call_sid
from .test_flow import CALLS_URL, Make, base_form, press, start_call


async def talking(h, sid: str) -> None:  # type: ignore[no-untyped-def]
    await start_call(h, sid)
    await press(h, sid, 1, "1")
    h.acd.login("1001")
    await h.api.wait_for(1)
    await h.poster.post(f"/twilio/agent?call={sid}&agent=1001",
                        base_form(call_sid(0xA1), ParentCallSid=sid, CallStatus="in-progress"))
    assert h.acd.calls[sid].state is CallState.ON_CALL


async def test_blind_transfer_to_an_agent_dials_it_by_rest(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x71)
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.transfer(sid, agent="1002")
        requests = await h.api.wait_for(2)
        assert (requests[1].method, requests[1].url) == ("POST", f"{CALLS_URL}/{sid}.json")
        dial = ET.fromstring(str(requests[1].data["Twiml"])).find("Dial")
        assert dial is not None and dial.get("action") == f"{h.gateway.settings.url('dial', call=sid)}&agent=1002"
        assert h.acd.agents["1001"].state is AgentState.WRAP_UP
        await h.poster.post(f"/twilio/agent?call={sid}&agent=1002",
                            base_form(call_sid(0xA2), ParentCallSid=sid, CallStatus="in-progress"))
        assert (h.acd.calls[sid].state, h.acd.calls[sid].agent_id) == (CallState.ON_CALL, "1002")


async def test_blind_transfer_to_a_queue_with_nobody_free_plays_the_hold_loop(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x72)
        await talking(h, sid)
        h.acd.transfer(sid, queue="refund")
        requests = await h.api.wait_for(2)
        hold = ET.fromstring(str(requests[1].data["Twiml"]))
        assert hold.find("Play") is not None and hold.find("Redirect") is not None
        assert (h.acd.calls[sid].state, h.acd.calls[sid].queue) == (CallState.QUEUED, "refund")


async def test_blind_transfer_to_a_number_dials_it_and_hotline_lets_go(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x73)
        await talking(h, sid)
        h.acd.transfer(sid, number="+82212345678")
        requests = await h.api.wait_for(2)
        number = ET.fromstring(str(requests[1].data["Twiml"])).find("Dial/Number")
        assert number is not None and number.text == "+82212345678"
        assert sid not in h.acd.calls and sid not in h.gateway.calls
