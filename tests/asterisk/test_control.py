from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.call import CallState
from acd.events import CallAbandoned, CallAnswered, CallAssigned, CallEnded, CallRingNoAnswer
from tests.asterisk.rig import Rig, make_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec")
    yield rig
    await rig.close()


def park(rig: Rig, queue: str = "booking") -> str:
    """A caller the IVR transferred: a channel waiting in hold, queued in the core."""
    chan = rig.fake.new_channel()
    rig.fake.to_hold(chan)
    chan.variables["HOTLINE_QUEUE"] = queue
    rig.control.enqueue(chan.uniqueid, chan.name, queue, caller="+821012345678", dialed="1588")
    return chan.uniqueid


async def test_assigned_call_rings_the_agent_is_answered_recorded_and_ended(rig: Rig) -> None:
    rig.acd.login("1001")
    call_id = park(rig)
    redirect = await rig.fake.wait_action("Redirect")
    assert (redirect["Context"], redirect["Exten"], redirect["Priority"]) == ("hotline-connect", "1001", "1")
    assert rig.state("1001") == "ringing"
    await rig.barrier()
    assert rig.control.calls[call_id].agent_channel.startswith("PJSIP/1001-")
    rig.fake.answer(call_id)
    await rig.barrier()
    assert rig.acd.calls[call_id].state is CallState.ON_CALL
    assert rig.recordings == [(call_id, rig.control.settings.recordings_dir / f"{call_id}.wav")]
    assert rig.state("1001") == "on_call"  # device INUSE during Hotline's own call: no pause
    await rig.control.pause_recording(call_id)
    assert rig.fake.muted[call_id] is True
    await rig.control.resume_recording(call_id)
    assert rig.fake.muted[call_id] is False
    mute = rig.fake.received("MixMonitorMute")[0]
    assert (mute["Direction"], mute["State"]) == ("both", "1")
    rig.fake.hangup(call_id)
    await rig.barrier()
    assert call_id not in rig.acd.calls
    assert any(isinstance(e, CallEnded) and e.call_id == call_id for e in rig.events)
    assert rig.closed == [(call_id, "ended")]
    assert rig.state("1001") == "wrap_up"


async def test_ring_no_answer_in_asterisk_requeues_and_rings_the_next_agent(rig: Rig) -> None:
    rig.acd.login("1001")
    rig.acd.login("1002")
    call_id = park(rig)
    first = await rig.fake.wait_action("Redirect")
    await rig.barrier()
    rig.fake.ring_out(call_id)
    second = await rig.fake.wait_action("Redirect", 2)
    assert {first["Exten"], second["Exten"]} == {"1001", "1002"}
    assert second["Context"] == "hotline-connect"  # no extra Redirect to hold: Asterisk did it
    rna = [e for e in rig.events if isinstance(e, CallRingNoAnswer)]
    assert [e.agent_id for e in rna] == [first["Exten"]]
    assert rig.acd.agents[first["Exten"]].pause_reason == "ring_no_answer"
    await rig.barrier()
    rig.fake.answer(call_id)
    await rig.barrier()
    assert rig.acd.calls[call_id].agent_id == second["Exten"]
    assert len(rig.fake.received("Redirect")) == 2


async def test_core_ring_timeout_returns_the_caller_to_hold(rig: Rig) -> None:
    rig.acd.login("1001")
    call_id = park(rig, "fast")  # ring timeout 0.05 s in the core
    await rig.fake.wait_action("Redirect")
    back = await rig.fake.wait_action("Redirect", 2)
    assert (back["Context"], back["Exten"]) == ("hotline-hold", "s")
    assert rig.acd.calls[call_id].state is CallState.QUEUED
    assert rig.acd.agents["1001"].pause_reason == "ring_no_answer"
    await rig.barrier()
    assert rig.fake.channels[call_id].application == "MusicOnHold"


async def test_caller_hangup_while_waiting_is_an_abandon(rig: Rig) -> None:
    call_id = park(rig)
    rig.fake.hangup(call_id)
    await rig.barrier()
    abandoned = [e for e in rig.events if isinstance(e, CallAbandoned)]
    assert [(e.call_id, e.reason) for e in abandoned] == [(call_id, "caller_hangup")]
    assert rig.closed == [(call_id, "abandoned")]


async def test_caller_hangup_while_ringing_frees_the_agent(rig: Rig) -> None:
    rig.acd.login("1001")
    call_id = park(rig)
    await rig.fake.wait_action("Redirect")
    await rig.barrier()
    rig.fake.hangup(call_id)
    await rig.barrier()
    assert call_id not in rig.acd.calls
    assert rig.state("1001") == "available"


async def test_device_state_pauses_and_unpauses_the_agent(rig: Rig) -> None:
    rig.acd.login("1001")
    rig.fake.set_device("PJSIP/1001", "UNAVAILABLE")
    await rig.barrier()
    assert (rig.state("1001"), rig.acd.agents["1001"].pause_reason) == ("paused", "device_offline")
    call_id = park(rig)
    await rig.barrier()
    assert rig.acd.calls[call_id].state is CallState.QUEUED  # nobody rings an offline phone
    rig.fake.set_device("PJSIP/1001", "NOT_INUSE")
    redirect = await rig.fake.wait_action("Redirect")
    assert redirect["Exten"] == "1001"
    rig.fake.set_device("PJSIP/1002", "INUSE")  # a private call on 1002's phone
    rig.acd.login("1002")
    await rig.barrier()
    rig.fake.set_device("PJSIP/1002", "INUSE")
    await rig.barrier()
    assert rig.acd.agents["1002"].pause_reason == "device_busy"


async def test_login_while_the_phone_is_offline_pauses_at_once(rig: Rig) -> None:
    rig.fake.set_device("PJSIP/1002", "UNAVAILABLE")
    await rig.barrier()
    rig.acd.login("1002")
    await rig.until(lambda: rig.state("1002") == "paused")
    assert rig.acd.agents["1002"].pause_reason == "device_offline"


async def test_ami_drop_mid_call_is_resynchronised_without_duplicate_routing(rig: Rig) -> None:
    rig.acd.login("1001")
    call_id = park(rig)
    await rig.fake.wait_action("Redirect")
    await rig.barrier()
    rig.fake.drop()
    rig.fake.answer(call_id)  # the agent picks up while Hotline is not listening
    await rig.fake.wait_for(lambda: rig.fake.logins >= 2)
    await rig.client.wait_ready(5)
    await rig.barrier()
    assert rig.acd.calls[call_id].state is CallState.ON_CALL
    assert len([e for e in rig.events if isinstance(e, CallAssigned)]) == 1
    assert len([e for e in rig.events if isinstance(e, CallAnswered)]) == 1
    assert len(rig.fake.received("Redirect")) == 1
    for name in ("CoreShowChannels", "DeviceStateList", "PJSIPShowEndpoints", "BridgeList"):
        assert len(rig.fake.received(name)) == 2, name


async def test_caller_gone_during_an_outage_is_closed_on_resync(rig: Rig) -> None:
    call_id = park(rig)
    await rig.barrier()
    rig.fake.drop()
    rig.fake.hangup(call_id)
    await rig.fake.wait_for(lambda: rig.fake.logins >= 2)
    await rig.client.wait_ready(5)
    assert call_id not in rig.acd.calls
    assert rig.closed == [(call_id, "abandoned")]


async def test_a_new_hotline_process_adopts_callers_waiting_in_hold(tmp_path: Path) -> None:
    first = await make_rig(tmp_path / "rec")
    try:
        chan = first.fake.new_channel()
        first.fake.to_hold(chan)
        chan.variables.update({"HOTLINE_QUEUE": "booking", "HOTLINE_PRIORITY": "3", "HOTLINE_TIER": "vip",
                               "HOTLINE_LANGUAGE": "ko", "HOTLINE_SKILLS": "lang_ko:5"})
        first.fake.drop()
        await first.fake.wait_for(lambda: first.fake.logins >= 2)
        await first.client.wait_ready(5)
        call = first.acd.calls[chan.uniqueid]
        assert (call.queue, call.priority, call.tier, call.language) == ("booking", 3, "vip", "ko")
        assert dict(call.skills) == {"lang_ko": 5}
    finally:
        await first.close()


async def test_unknown_events_are_counted_and_ignored(rig: Rig) -> None:
    rig.fake.emit("VarSet", [("Variable", "X"), ("Value", "1")])
    rig.fake.emit("BrandNewEvent", [])
    await rig.barrier()
    assert rig.control.unknown_events == 2


async def test_core_timeout_during_an_outage_sends_the_ringing_caller_back_to_hold_on_resync(rig: Rig) -> None:
    rig.acd.login("1001")
    call_id = park(rig, "medium")  # the core gives up ringing after 0.2 s
    await rig.fake.wait_action("Redirect")
    rig.fake.secret = "rotated"  # Hotline cannot log in again for now
    rig.fake.drop()
    await rig.until(lambda: rig.acd.calls[call_id].state is CallState.QUEUED)
    assert rig.fake.channels[call_id].application == "Dial"  # Asterisk still rings the agent
    rig.fake.secret = "secret"
    await rig.fake.wait_for(lambda: rig.fake.logins >= 2)
    await rig.client.wait_ready(5)
    await rig.barrier()
    back = rig.fake.received("Redirect")[-1]
    assert (back["Context"], len(rig.fake.received("Redirect"))) == ("hotline-hold", 2)
    assert rig.fake.channels[call_id].application == "MusicOnHold"


async def test_resync_survives_a_list_action_this_asterisk_refuses(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "rec", start=False)
    try:
        rig.fake._action_bridgelist = None  # type: ignore[assignment,method-assign]  # not loaded
        rig.fake.devices["PJSIP/1002"] = "UNAVAILABLE"
        rig.acd.login("1002")
        rig.client.start()
        await rig.client.wait_ready(5)
        assert rig.acd.agents["1002"].pause_reason == "device_offline"  # the rest still applied
    finally:
        await rig.close()


async def test_a_list_asterisk_never_answers_while_booting_keeps_the_link_and_the_call(tmp_path: Path) -> None:
    """Seen on the real Asterisk restarted under Hotline: the resync right after the login got
    no answer to DeviceStateList (Asterisk still booting). Taking that for a dead link dropped
    the connection and failed the Redirect of a caller routed meanwhile (the agent paused
    `pbx_link_down`, the caller left waiting); the list is skipped like a refused one instead,
    and read again later (FullyBooted, or the service's retries). The caller, queued after
    the resync read the channel list, is not taken for one that hung up meanwhile."""
    rig = await make_rig(tmp_path / "rec", start=False)
    try:
        rig.fake.stall.add("DeviceStateList")
        rig.acd.login("1001")
        rig.client.start()
        await rig.fake.wait_action("DeviceStateList")  # the resync waits for it
        call_id = park(rig)  # a caller routed meanwhile
        redirect = await rig.fake.wait_action("Redirect")
        assert redirect["Exten"] == "1001"
        await asyncio.sleep(2.5)  # past the action timeout (2 s)
        assert rig.fake.logins == 1  # the link was kept
        assert rig.acd.calls[call_id].state is CallState.RINGING
        assert rig.state("1001") == "ringing"
    finally:
        await rig.close()
