"""Supervisors on a Twilio call: listen (a muted participant), whisper (coaching the agent's
leg), barge (a plain participant), changes of mode as participant updates, a supervisor not
answering; with the recorded REST shapes and the case store (test_conference.py's helpers)."""

from __future__ import annotations

from pathlib import Path

from acd.events import CallEnded, CallMonitorEnded

from .conftest import Harness
from .fakes import ApiRequest, call_sid
from .test_conference import (
    AGENT_LEG,
    assert_dials,
    conference_event,
    into_room,
    new_requests,
    participant_status,
    participants,
    party_sid,
    stored_harness,
    talking,
)
from .test_flow import Make, base_form, record


async def monitored(h: Harness, sid: str, mode: str) -> ApiRequest:
    await talking(h, sid)
    h.acd.monitor(sid, "1002", mode)
    await into_room(h, sid)
    (dialled,) = await new_requests(h, 2, 1)
    return dialled


async def test_listen_is_a_muted_participant_removed_when_stopped(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x86)
    async with stored_harness(harness, tmp_path) as (h, store):
        dialled = await monitored(h, sid, "listen")
        assert_dials(dialled, sid, "client:agent-1002", "1002", Muted="true")
        await participant_status(h, sid, 1, "in-progress")
        h.acd.unmonitor(sid, "1002")
        (removed,) = await new_requests(h, 3, 1)
        assert (removed.method, removed.url) == ("DELETE", participants(party_sid(1)))
        h.clock.advance(30)
        await conference_event(h, sid, "participant-leave", sid)
        assert sid not in h.acd.calls
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("answered", "1001")
    assert store.segments == [("1001", "agent", 30.0)]  # a supervisor is no party of the call


async def test_whisper_coaches_the_agent_leg(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x87)
    async with stored_harness(harness, tmp_path) as (h, store):
        dialled = await monitored(h, sid, "whisper")
        assert_dials(dialled, sid, "client:agent-1002", "1002", Coaching="true", CallSidToCoach=AGENT_LEG)
        await participant_status(h, sid, 1, "in-progress")
        h.acd.monitor(sid, "1002", "listen")  # a change of mode updates the participant
        (update,) = await new_requests(h, 3, 1)
        assert (update.method, update.url, update.data) == (
            "POST", participants(party_sid(1)), {"Muted": "true", "Coaching": "false"})
        await participant_status(h, sid, 1, "completed")  # the supervisor hangs up
        events = record(h)
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert [type(e) for e in events if isinstance(e, CallEnded | CallMonitorEnded)] == [CallEnded]
        assert len(h.api.requests) == 4
    (row,) = store.calls
    assert row.outcome == "answered"


async def test_barge_is_a_plain_participant_and_listen_turns_into_barge(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x88)
    async with stored_harness(harness, tmp_path) as (h, _):
        dialled = await monitored(h, sid, "barge")
        assert_dials(dialled, sid, "client:agent-1002", "1002")  # no Muted, no Coaching
        await participant_status(h, sid, 1, "in-progress")
        h.acd.monitor(sid, "1002", "whisper")
        h.acd.monitor(sid, "1002", "barge")
        whisper, barge = await new_requests(h, 3, 2)
        assert whisper.data == {"Muted": "false", "Coaching": "true", "CallSidToCoach": AGENT_LEG}
        assert (barge.url, barge.data) == (participants(party_sid(1)), {"Muted": "false", "Coaching": "false"})
        events = record(h)
        await conference_event(h, sid, "participant-leave", sid)  # the caller hangs up
        assert [type(e) for e in events if isinstance(e, CallEnded | CallMonitorEnded)] == [
            CallEnded, CallMonitorEnded]
        await h.gateway.drain()
        assert len(h.api.requests) == 5  # the caller's leaving ended the conference: all are out


async def test_supervisor_not_answering_ends_the_monitoring(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x89)
    async with stored_harness(harness, tmp_path) as (h, _):
        events = record(h)
        await monitored(h, sid, "listen")
        await participant_status(h, sid, 1, "no-answer")
        assert [e.reason for e in events if isinstance(e, CallMonitorEnded)] == ["no_answer"]
        assert not h.acd.calls[sid].monitors
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert len(h.api.requests) == 3  # nothing left to remove
