"""Transfers, conference and listen/whisper/barge through a real Asterisk 22: a SIPp caller,
baresip agents 1001 (answers by itself) and 1002 (answers when told), the telephony API.
Who hears whom is read from Asterisk's own view: ConfbridgeList of the call's rooms, its
channels (CoreShowChannels: ChanSpy and its options), Dial/Bridge events; the case store
keeps one record with its segments."""

from __future__ import annotations

import pytest

from asterisk.errors import AmiActionError
from tests.pbx.asterisk_proc import CALLER_INFO
from tests.pbx.peers import BaresipAgent, Bye, Info, Pause, SippCaller
from tests.pbx.test_calls import caller_channel, finished_call, known_calls
from tests.pbx.world import World, until

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def room(world: World, name: str) -> list[str]:
    """Channels in ConfBridge room `name`, as Asterisk lists them."""
    assert world.pbx.ami is not None
    try:
        result = await world.pbx.ami.action("ConfbridgeList", {"Conference": name})
    except AmiActionError:
        return []
    return sorted(m.get("Channel") for m in result.items if m.name == "ConfbridgeList")


async def talking_call(world: World, seconds: int = 40) -> tuple[str, SippCaller]:
    """A caller talking with 1001 (1002 logged in, free): the call id and the SIPp caller."""
    await world.ready(("1001", "1002"))
    await world.set_agent("1002", available=True)
    mark = world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("2"), Pause(seconds * 1000), Bye()])
    await caller.start()
    await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
    await until(lambda: _state(world, "1001", "on_call"), within=10, what="1001 talking")
    call_id = str((await world.hotline.api("GET", "/api/agents/1001"))["call_id"])
    return call_id, caller


async def _state(world: World, agent_id: str, state: str) -> bool:
    return await world.hotline.agent_state(agent_id) == state


async def ring_and_accept(agent: BaresipAgent, before: int) -> None:
    await until(lambda: agent.count("CALL_INCOMING") > before, within=20, what=f"{agent} rings")
    await agent.accept()


async def test_blind_transfer_to_another_agent(world: World) -> None:
    before = known_calls(world)
    call_id, caller = await talking_call(world)
    mark, rings = world.pbx.mark(), world.agents["1002"].count("CALL_INCOMING")
    await world.hotline.api("POST", f"/api/calls/{call_id}/transfer", {"mode": "blind", "to": "agent", "target": "1002"})
    dial = await world.pbx.event("DialBegin", 15, since=mark, where=caller_channel(CALLER_INFO))
    assert dial.get("DestChannel").startswith("PJSIP/1002-")
    await ring_and_accept(world.agents["1002"], rings)
    await world.pbx.event("BridgeEnter", 15, since=mark, where=caller_channel(CALLER_INFO))
    channels = [c.get("Channel") for c in await world.pbx.channels()]
    assert not [c for c in channels if c.startswith("PJSIP/1001-")], channels  # 1001's leg is gone
    assert any(c.startswith("PJSIP/1002-") for c in channels)
    await world.hotline.api("POST", f"/api/calls/{call_id}/transfer", {"mode": "blind", "to": "queue", "target": "booking"})
    await until(lambda: _state(world, "1001", "on_call"), within=20, what="the call back to 1001 through the queue")
    assert await caller.wait(80) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert (row["id"], row["outcome"], row["agent_id"]) == (call_id, "answered", "1001")
    segments = world.hotline.rows("select party, role from call_segments where call_id = ? order by ended_at", call_id)
    assert [(r["party"], r["role"]) for r in segments] == [("1001", "agent"), ("1002", "agent"), ("1001", "agent")]


async def test_attended_transfer_consults_then_completes(world: World) -> None:
    before = known_calls(world)
    call_id, caller = await talking_call(world)
    rings = world.agents["1002"].count("CALL_INCOMING")
    await world.hotline.api("POST", f"/api/calls/{call_id}/transfer", {"mode": "attended", "to": "agent", "target": "1002"})
    await until(lambda: _nonempty(world, call_id), within=15, what="the caller in the call's room")
    caller_room = await room(world, call_id)
    assert len(caller_room) == 1 and caller_room[0].startswith(f"PJSIP/{CALLER_INFO}"), caller_room  # alone: music
    await ring_and_accept(world.agents["1002"], rings)
    await until(lambda: _size(world, f"consult-{call_id}", 2), within=15, what="1001 and 1002 in the consult room")
    consult = await room(world, f"consult-{call_id}")
    assert [c.split("-")[0] for c in consult] == ["PJSIP/1001", "PJSIP/1002"]
    await world.hotline.api("POST", f"/api/calls/{call_id}/consult", {"action": "complete"})
    await until(lambda: _size(world, call_id, 2), within=15, what="caller and 1002 together")
    together = await room(world, call_id)
    assert sorted(c.split("-")[0] for c in together) == sorted([f"PJSIP/{CALLER_INFO}", "PJSIP/1002"])
    await until(lambda: _gone(world, "PJSIP/1001-"), within=15, what="1001's leg hung up")
    assert await caller.wait(80) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert (row["id"], row["agent_id"]) == (call_id, "1002")
    roles = world.hotline.rows("select party, role from call_segments where call_id = ? order by ended_at, party",
                               call_id)
    assert [(r["party"], r["role"]) for r in roles] == [("1001", "agent"), ("1002", "consult"), ("1002", "agent")]


async def _nonempty(world: World, name: str) -> bool:
    return bool(await room(world, name))


async def _size(world: World, name: str, size: int) -> bool:
    return len(await room(world, name)) == size


async def _gone(world: World, prefix: str) -> bool:
    """No channel of Asterisk's starts with `prefix` (a hung-up leg can linger a moment)."""
    return not [c for c in await world.pbx.channels() if c.get("Channel").startswith(prefix)]


async def test_conference_of_three_then_the_first_agent_leaves(world: World) -> None:
    before = known_calls(world)
    call_id, caller = await talking_call(world)
    rings = world.agents["1002"].count("CALL_INCOMING")
    await world.hotline.api("POST", f"/api/calls/{call_id}/transfer",
                            {"mode": "conference", "to": "agent", "target": "1002"})
    await ring_and_accept(world.agents["1002"], rings)
    await until(lambda: _size(world, call_id, 3), within=15, what="caller, 1001 and 1002 in one room")
    three = await room(world, call_id)
    assert sorted(c.split("-")[0] for c in three) == sorted([f"PJSIP/{CALLER_INFO}", "PJSIP/1001", "PJSIP/1002"])
    await world.hotline.api("POST", f"/api/calls/{call_id}/leave", {"agent_id": "1001"})
    await until(lambda: _size(world, call_id, 2), within=15, what="1001 left the conference")
    assert sorted(c.split("-")[0] for c in await room(world, call_id)) == sorted([f"PJSIP/{CALLER_INFO}", "PJSIP/1002"])
    assert await caller.wait(80) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert row["agent_id"] == "1002"


async def test_listen_whisper_barge_with_chanspy(world: World) -> None:
    """The supervisor's phone is 1002's softphone here (answers when told)."""
    call_id, caller = await talking_call(world)
    agent_channel = next(c.get("Channel") for c in await world.pbx.channels()
                         if c.get("Channel").startswith("PJSIP/1001-"))
    for mode, options in (("listen", "qE"), ("whisper", "qEw"), ("barge", "qEB")):
        rings = world.agents["1002"].count("CALL_INCOMING")
        await world.hotline.api("POST", f"/api/calls/{call_id}/monitor", {"mode": mode, "phone": "1002"})
        await ring_and_accept(world.agents["1002"], rings)

        async def spying(options: str = options) -> bool:
            return any(c.get("Application") == "ChanSpy" and c.get("ApplicationData") == f"{agent_channel},{options}"
                       for c in await world.pbx.channels())

        await until(spying, within=15, what=f"a ChanSpy({agent_channel},{options}) channel")
    parties = await world.hotline.api("GET", f"/api/calls/{call_id}/parties")
    assert [(m["supervisor"], m["mode"]) for m in parties["monitors"]] == [("1002", "barge")]
    await world.hotline.api("POST", f"/api/calls/{call_id}/monitor/stop", {"phone": "1002"})

    async def no_spy() -> bool:
        return not any(c.get("Application") == "ChanSpy" for c in await world.pbx.channels())

    await until(no_spy, within=15, what="the ChanSpy channel gone")
    assert await caller.wait(80) == 0, caller.errors()
