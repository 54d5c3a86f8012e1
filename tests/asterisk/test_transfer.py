"""Transfers, consultations, conferences and supervisors through the fake Asterisk: each core
operation becomes the AMI actions docs/asterisk.md describes, and the legs' events drive the
core back (answered, hung up, the agent leaving the room)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.call import CallState
from acd.events import CallEnded, CallMonitorEnded, CallTransferred, PartyLeft, SegmentEnded
from tests.asterisk.rig import Rig, make_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec")
    yield rig
    await rig.close()


async def talking(rig: Rig) -> str:
    """Caller and agent 1001 talking (1002 logged in, free)."""
    rig.acd.login("1001")
    chan = rig.fake.new_channel()
    rig.fake.to_hold(chan)
    rig.control.enqueue(chan.uniqueid, chan.name, "booking", caller="+821012345678", dialed="1588")
    await rig.fake.wait_action("Redirect")
    await rig.barrier()
    rig.fake.answer(chan.uniqueid)
    await rig.barrier()
    assert rig.acd.calls[chan.uniqueid].state is CallState.ON_CALL
    rig.acd.login("1002")
    return chan.uniqueid


def actions(rig: Rig, name: str) -> list[dict[str, str]]:
    return rig.fake.received(name)


async def test_blind_transfer_to_an_agent_rings_it_and_the_first_agent_leg_goes(rig: Rig) -> None:
    call_id = await talking(rig)
    first_leg = rig.control.calls[call_id].agent_uniqueid
    rig.acd.transfer(call_id, agent="1002")
    await rig.fake.wait_action("Redirect", 2)
    await rig.barrier()
    redirect = actions(rig, "Redirect")[-1]
    assert (redirect["Channel"], redirect["Context"], redirect["Exten"]) == (
        rig.control.calls[call_id].channel, "hotline-connect", "1002")
    assert first_leg not in rig.fake.channels  # Asterisk hung up 1001's leg
    assert rig.state("1001") == "wrap_up" and rig.state("1002") == "ringing"
    rig.fake.answer(call_id)
    await rig.barrier()
    assert rig.acd.calls[call_id].agent_id == "1002"
    rig.fake.hangup(call_id)
    await rig.barrier()
    ended = [e for e in rig.events if isinstance(e, CallEnded)]
    segments = [e for e in rig.events if isinstance(e, SegmentEnded)]
    assert [(e.call_id, e.agent_id) for e in ended] == [(call_id, "1002")]
    assert [(s.party, s.role) for s in segments] == [("1001", "agent")]
    assert rig.closed == [(call_id, "ended")]


async def test_blind_transfer_to_a_queue_with_nobody_free_puts_the_caller_on_hold(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.logout("1002")
    rig.acd.transfer(call_id, queue="medium", priority=7)
    await rig.fake.wait_action("Redirect", 2)
    redirect = actions(rig, "Redirect")[-1]
    assert (redirect["Context"], redirect["Exten"]) == ("hotline-hold", "s")
    call = rig.acd.calls[call_id]
    assert (call.state, call.queue, call.priority) == (CallState.QUEUED, "medium", 7)


async def test_blind_transfer_to_a_number_hands_the_caller_to_the_transfer_context(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.transfer(call_id, number="+82212345678")
    await rig.fake.wait_action("Redirect", 2)
    redirect = actions(rig, "Redirect")[-1]
    assert (redirect["Context"], redirect["Exten"]) == ("hotline-transfer", "+82212345678")
    await rig.barrier()
    assert call_id not in rig.acd.calls and call_id not in rig.control.calls
    assert rig.closed == [(call_id, "transferred")]
    rig.fake.hangup(call_id)  # later: nothing more reaches the core
    await rig.barrier()
    assert not [e for e in rig.events if isinstance(e, CallEnded)]


async def test_attended_transfer_consults_in_a_room_then_completes(rig: Rig) -> None:
    call_id = await talking(rig)
    agent_leg = rig.control.calls[call_id].agent_uniqueid
    party = rig.acd.add_party(call_id, agent="1002")
    await rig.fake.wait_action("Originate")
    await rig.barrier()
    move = actions(rig, "Redirect")[-1]
    assert (move["Channel"], move["Context"], move["Exten"]) == (
        rig.control.calls[call_id].channel, "hotline-conference", call_id)
    assert (move["ExtraChannel"], move["ExtraContext"], move["ExtraExten"]) == (agent_leg, "hotline-consult", call_id)
    originate = actions(rig, "Originate")[-1]
    assert (originate["Channel"], originate["Context"], originate["Exten"]) == ("PJSIP/1002", "hotline-consult", call_id)
    assert rig.fake.room_of(call_id) == call_id  # the caller waits alone (music)
    assert rig.fake.room_of(agent_leg) == f"consult-{call_id}"
    assert rig.state("1002") == "ringing"
    leg = originate["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    assert rig.acd.calls[call_id].parties[party].state == "talking"  # type: ignore[index]
    assert rig.fake.room_of(leg) == f"consult-{call_id}"
    rig.acd.complete_transfer(call_id)
    await rig.fake.wait_action("Hangup")
    await rig.barrier()
    assert rig.fake.room_of(leg) == call_id and agent_leg not in rig.fake.channels
    assert rig.acd.calls[call_id].agent_id == "1002" and rig.state("1001") == "wrap_up"
    rig.fake.hangup(call_id)  # the caller hangs up: the agent's leg in the room goes too
    await rig.barrier()
    assert leg not in rig.fake.channels
    assert [(e.agent_id, e.mode) for e in rig.events if isinstance(e, CallTransferred)] == [("1001", "attended")]
    assert [e.agent_id for e in rig.events if isinstance(e, CallEnded)] == ["1002"]
    assert rig.state("1002") == "wrap_up"


async def test_a_cancelled_consult_hangs_up_the_party_and_brings_the_agent_back(rig: Rig) -> None:
    call_id = await talking(rig)
    agent_leg = rig.control.calls[call_id].agent_uniqueid
    party = rig.acd.add_party(call_id, agent="1002")
    await rig.fake.wait_action("Originate")
    leg = actions(rig, "Originate")[-1]["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    rig.acd.remove_party(call_id, party)
    await rig.fake.wait_action("Hangup")
    await rig.barrier()
    assert leg not in rig.fake.channels
    assert rig.fake.room_of(agent_leg) == call_id == rig.fake.room_of(call_id)
    assert rig.acd.calls[call_id].agent_id == "1001" and rig.state("1002") == "wrap_up"


async def test_the_consulted_phone_not_answering_ends_the_consult(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.add_party(call_id, agent="1002")
    await rig.fake.wait_action("Originate")
    rig.fake.originate_fails(actions(rig, "Originate")[-1]["ChannelId"])
    await rig.barrier()
    left = [e for e in rig.events if isinstance(e, PartyLeft)]
    assert [(e.party, e.reason) for e in left] == [("1002", "failed")]
    assert rig.state("1002") == "available"
    assert rig.fake.room_of(rig.control.calls[call_id].agent_uniqueid) == call_id


async def test_conference_with_a_number_then_the_agent_leaves_them_together(rig: Rig) -> None:
    call_id = await talking(rig)
    agent_leg = rig.control.calls[call_id].agent_uniqueid
    rig.acd.add_party(call_id, number="+82299998888", role="conference")
    await rig.fake.wait_action("Originate")
    await rig.barrier()
    move = actions(rig, "Redirect")[-1]
    assert (move["ExtraContext"], move["ExtraExten"]) == ("hotline-conference", call_id)
    originate = actions(rig, "Originate")[-1]
    assert (originate["Channel"], originate["Context"]) == ("PJSIP/+82299998888@trunk", "hotline-conference")
    leg = originate["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    assert rig.fake.rooms[call_id] == {call_id, agent_leg, leg}
    rig.fake.hangup(agent_leg)  # the agent hangs up: it leaves the conference to the other two
    await rig.barrier()
    transferred = [e for e in rig.events if isinstance(e, CallTransferred)]
    assert [(e.mode, e.target_kind) for e in transferred] == [("conference", "number")]
    assert call_id not in rig.acd.calls and rig.closed == [(call_id, "transferred")]
    assert rig.fake.rooms[call_id] == {call_id, leg}
    rig.fake.hangup(call_id)  # the caller hangs up: the number's leg is released
    await rig.fake.wait_action("Hangup")
    await rig.barrier()
    assert leg not in rig.fake.channels


async def test_an_agent_conferenced_in_stays_with_the_caller_when_the_first_leaves(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.add_party(call_id, agent="1002", role="conference")
    await rig.fake.wait_action("Originate")
    leg = actions(rig, "Originate")[-1]["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    rig.acd.leave(call_id, "1001")
    await rig.fake.wait_action("Hangup")
    await rig.barrier()
    assert rig.acd.calls[call_id].agent_id == "1002"
    assert rig.fake.rooms[call_id] == {call_id, leg}
    rig.fake.hangup(leg)  # 1002 hangs up alone with the caller: the call ends, the caller goes
    await rig.barrier()
    assert call_id not in rig.acd.calls and call_id not in rig.fake.channels
    assert [e.agent_id for e in rig.events if isinstance(e, CallEnded)] == ["1002"]


@pytest.mark.parametrize(("mode", "options"), [("listen", "qE"), ("whisper", "qEw"), ("barge", "qEB")])
async def test_a_supervisor_spies_with_the_options_of_each_mode(rig: Rig, mode: str, options: str) -> None:
    call_id = await talking(rig)
    agent_channel = rig.control.calls[call_id].agent_channel
    rig.acd.monitor(call_id, "sup1", mode)
    await rig.fake.wait_action("Originate")
    spy = actions(rig, "Originate")[-1]
    assert (spy["Channel"], spy["Application"], spy["Data"]) == ("PJSIP/sup1", "ChanSpy", f"{agent_channel},{options}")
    rig.fake.answer_originate(spy["ChannelId"])
    await rig.barrier()
    assert rig.fake.channels[spy["ChannelId"]].application == "ChanSpy"


async def test_a_mode_change_respies_and_the_end_of_the_call_releases_the_supervisor(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.monitor(call_id, "sup1", "listen")
    await rig.fake.wait_action("Originate")
    first = actions(rig, "Originate")[-1]["ChannelId"]
    rig.fake.answer_originate(first)
    await rig.barrier()
    rig.acd.monitor(call_id, "sup1", "barge")
    await rig.fake.wait_action("Originate", 2)
    await rig.barrier()
    second = actions(rig, "Originate")[-1]
    assert second["Data"].endswith(",qEB") and first not in rig.fake.channels
    rig.fake.answer_originate(second["ChannelId"])
    await rig.barrier()
    rig.fake.hangup(call_id)
    await rig.barrier()
    assert second["ChannelId"] not in rig.fake.channels
    ended = [e for e in rig.events if isinstance(e, CallMonitorEnded)]
    assert [e.reason for e in ended] == ["call_ended"]


async def test_the_supervisor_hanging_up_ends_the_monitoring_in_the_core(rig: Rig) -> None:
    call_id = await talking(rig)
    rig.acd.monitor(call_id, "sup1", "whisper")
    await rig.fake.wait_action("Originate")
    leg = actions(rig, "Originate")[-1]["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    rig.fake.hangup(leg)
    await rig.barrier()
    assert not rig.acd.calls[call_id].monitors
    assert [e.reason for e in rig.events if isinstance(e, CallMonitorEnded)] == ["left"]
