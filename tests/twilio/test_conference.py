"""Consult, conference and supervisors on Twilio, through the real server and the recorded
REST shapes: the call moves into a Twilio Conference (the agent leg REST-updated, the
caller's <Dial> action answering its own <Conference>), third parties and supervisors are
added with the Participants resource, and their callbacks flow back into the core. Each
call leaves one record, with its outcome and segments, in the real case store (SQLite)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from acd.agent import AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.events import CallEnded, CallMonitorEnded, PartyLeft
from casestore import StoreSettings, open_store
from casestore.models import CALL_SEGMENTS, CALLS, Recording
from twilio_gateway.recording import AiohttpFetcher

from .conftest import Harness
from .fakes import ACCOUNT, PUBLIC, TOKEN, ApiRequest, call_sid
from .test_end_to_end import wav_bytes
from .test_flow import CALLS_URL, Make, base_form, press, record, start_call

API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}"
CONF = "CF" + "ab" * 16
AGENT_LEG = call_sid(0xA1)
HOLD_MUSIC = "https://media.example.com/hold.mp3"


def party_sid(n: int) -> str:
    return f"CA{0xC000 + n:032x}"


def participants(sid: str = "") -> str:
    return f"{API}/Conferences/{CONF}/Participants" + (f"/{sid}.json" if sid else ".json")


@dataclass
class Stored:
    calls: list[Any]
    segments: list[tuple[str, str, float]]
    recordings: list[tuple[str, bytes]]


@asynccontextmanager
async def stored_harness(harness: Make, tmp_path: Path) -> AsyncIterator[tuple[Harness, Stored]]:
    """A harness whose ACD and gateway write to a real SQLite case store (recordings fetched
    with aiohttp); after the block, the store's calls, segments and recordings."""
    settings = StoreSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", data_dir=tmp_path / "data")
    out = Stored([], [], [])
    async with open_store(settings, create=True) as store, aiohttp.ClientSession() as http:
        writer = store.writer(flush_interval=0.05)
        await writer.start()
        async with harness(writer=writer, clock=VirtualClock(time.time()), recordings=store.recordings,
                           fetcher=AiohttpFetcher(http)) as h:
            h.acd.subscribe(writer.on_event)
            yield h, out
            await h.gateway.drain()
        await writer.stop()
        async with store.engine.connect() as conn:
            out.calls = list((await conn.execute(select(CALLS))).all())
            rows = (await conn.execute(select(CALL_SEGMENTS).order_by(CALL_SEGMENTS.c.ended_at,
                                                                      CALL_SEGMENTS.c.party))).all()
            out.segments = [(r.party, r.role, r.talk_seconds) for r in rows]
            recordings = (await conn.execute(select(Recording).order_by(Recording.id))).all()
            out.recordings = [(r.call_id, await store.recordings.read(r.uri)) for r in recordings]


async def talking(h: Harness, sid: str) -> None:
    await start_call(h, sid)
    await press(h, sid, 1, "1")
    h.acd.login("1001")
    await h.api.wait_for(1)
    await h.poster.post(f"/twilio/agent?call={sid}&agent=1001",
                        base_form(AGENT_LEG, ParentCallSid=sid, CallStatus="in-progress"))
    assert h.acd.calls[sid].state is CallState.ON_CALL


async def new_requests(h: Harness, seen: int, count: int) -> list[ApiRequest]:
    await h.gateway.drain()
    requests = await h.api.wait_for(seen + count)
    await h.gateway.drain()
    assert len(h.api.requests) == seen + count, h.api.requests[seen:]
    return requests[seen:]


async def conference_event(h: Harness, sid: str, event: str, leg: str = "") -> None:
    fields = base_form(leg, ConferenceSid=CONF, FriendlyName=f"hotline-{sid}", StatusCallbackEvent=event)
    if not leg:
        del fields["CallSid"]
    status, text = await h.poster.post(f"/twilio/conference?call={sid}", fields)
    assert status == 200, text


async def participant_status(h: Harness, sid: str, leg: int, status: str) -> None:
    code, text = await h.poster.post(f"/twilio/participant?call={sid}&leg={leg}",
                                     base_form(party_sid(leg), CallStatus=status))
    assert code == 200, text


async def into_room(h: Harness, sid: str) -> None:
    """The REST move of the agent leg, the caller's <Dial> action, both joining."""
    (move,) = await new_requests(h, 1, 1)
    assert (move.method, move.url, set(move.data)) == ("POST", f"{CALLS_URL}/{AGENT_LEG}.json", {"Twiml"})
    agent_conf = ET.fromstring(str(move.data["Twiml"])).find("Dial/Conference")
    assert agent_conf is not None and agent_conf.text == f"hotline-{sid}"
    assert agent_conf.attrib == {
        "startConferenceOnEnter": "true", "endConferenceOnExit": "false", "beep": "false",
        "statusCallback": f"{PUBLIC}/twilio/conference?call={sid}",
        "statusCallbackEvent": "start end join leave", "statusCallbackMethod": "POST",
        "record": "record-from-start", "recordingStatusCallback": f"{PUBLIC}/twilio/recording?call={sid}",
        "recordingStatusCallbackMethod": "POST", "recordingStatusCallbackEvent": "completed",
    }
    # Twilio ends the caller's <Dial> (its child leg moved): the action answers the caller's way in.
    doc = ET.fromstring(await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1001",
                                             base_form(sid, DialCallStatus="completed", DialCallSid=AGENT_LEG)))
    caller_conf = doc.find("Dial/Conference")
    assert caller_conf is not None and caller_conf.text == f"hotline-{sid}"
    assert caller_conf.get("endConferenceOnExit") == "true"  # the caller leaving ends it, nobody else
    assert caller_conf.get("beep") == "false" and caller_conf.get("record") == "record-from-start"
    assert h.acd.calls[sid].state is CallState.ON_CALL  # the <Dial> ending was not the call ending
    await conference_event(h, sid, "conference-start")
    await conference_event(h, sid, "participant-join", AGENT_LEG)
    await conference_event(h, sid, "participant-join", sid)


def assert_dials(request: ApiRequest, sid: str, to: str, label: str, **extra: str) -> None:
    assert (request.method, request.url) == ("POST", participants())
    assert request.data == {
        "From": "+8215990000", "To": to, "StatusCallback": f"{PUBLIC}/twilio/participant?call={sid}&leg=1",
        "StatusCallbackMethod": "POST", "StatusCallbackEvent": ["answered", "completed"], "Timeout": 20,
        "Beep": "false", "StartConferenceOnEnter": "true", "EndConferenceOnExit": "false", "Label": label,
        **extra,
    }


def hold(request: ApiRequest, sid: str, on: bool) -> bool:
    fields = {"Hold": "true", "HoldUrl": HOLD_MUSIC, "HoldMethod": "GET"} if on else {"Hold": "false"}
    return (request.method, request.url, request.data) == ("POST", participants(sid), fields)


async def test_consult_then_complete_hands_the_call_to_the_consulted_agent(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x81)
    async with stored_harness(harness, tmp_path) as (h, store):
        await talking(h, sid)
        h.acd.login("1002")
        h.clock.advance(30)
        h.acd.add_party(sid, agent="1002")  # a consult
        await into_room(h, sid)
        held, dialled = await new_requests(h, 2, 2)
        assert hold(held, sid, on=True)
        assert_dials(dialled, sid, "client:agent-1002", "1002")
        assert h.acd.agents["1002"].state is AgentState.RINGING

        h.clock.advance(4)
        await participant_status(h, sid, 1, "in-progress")
        await conference_event(h, sid, "participant-join", party_sid(1))
        assert h.acd.calls[sid].parties["1002"].state == "talking"  # type: ignore[index]
        h.clock.advance(10)
        h.acd.complete_transfer(sid)
        removed, unheld = await new_requests(h, 4, 2)
        assert (removed.method, removed.url, removed.data) == ("DELETE", participants(AGENT_LEG), {})
        assert hold(unheld, sid, on=False)
        assert (h.acd.calls[sid].agent_id, h.acd.agents["1001"].state) == ("1002", AgentState.WRAP_UP)
        await conference_event(h, sid, "participant-leave", AGENT_LEG)  # our removal: nothing more
        assert h.acd.calls[sid].state is CallState.ON_CALL

        h.clock.advance(20)  # the new agent hangs up: alone with the caller, the call ends
        await participant_status(h, sid, 1, "completed")
        (hangup,) = await new_requests(h, 6, 1)
        assert (hangup.url, hangup.data) == (f"{CALLS_URL}/{sid}.json", {"Status": "completed"})
        assert sid not in h.acd.calls and sid not in h.gateway.calls
        await conference_event(h, sid, "participant-leave", sid)
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert len(h.api.requests) == 7
    (row,) = store.calls
    assert (row.id, row.outcome, row.agent_id) == (sid, "answered", "1002")
    assert store.segments == [("1001", "agent", 44.0), ("1002", "consult", 10.0), ("1002", "agent", 20.0)]


async def test_consult_cancelled_takes_the_caller_off_hold(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x82)
    async with stored_harness(harness, tmp_path) as (h, store):
        events = record(h)
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        await into_room(h, sid)
        await new_requests(h, 2, 2)
        await participant_status(h, sid, 1, "in-progress")
        h.clock.advance(8)
        h.acd.remove_party(sid, "1002", "cancelled")  # what the API's consult cancel does
        removed, unheld = await new_requests(h, 4, 2)
        assert (removed.method, removed.url) == ("DELETE", participants(party_sid(1)))
        assert hold(unheld, sid, on=False)
        await participant_status(h, sid, 1, "completed")  # its leg ending: already settled
        await conference_event(h, sid, "participant-leave", party_sid(1))
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [("1002", "cancelled")]
        assert (h.acd.calls[sid].agent_id, h.acd.agents["1002"].state) == ("1001", AgentState.WRAP_UP)

        h.clock.advance(12)  # the caller hangs up: the conference's leave, then the call's status
        await conference_event(h, sid, "participant-leave", sid)
        await conference_event(h, sid, "conference-end")
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert len(h.api.requests) == 6
        assert [type(e) for e in events if isinstance(e, CallEnded)] == [CallEnded]
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("answered", "1001")
    assert store.segments == [("1002", "consult", 8.0), ("1001", "agent", 20.0)]


async def test_consulted_party_not_answering_puts_the_caller_back(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x83)
    async with stored_harness(harness, tmp_path) as (h, store):
        events = record(h)
        await talking(h, sid)
        h.acd.add_party(sid, number="+82212345678")
        await into_room(h, sid)
        held, dialled = await new_requests(h, 2, 2)
        assert hold(held, sid, on=True)
        assert_dials(dialled, sid, "+82212345678", "tel:+82212345678")
        await participant_status(h, sid, 1, "no-answer")
        (unheld,) = await new_requests(h, 4, 1)  # gone by itself: no DELETE, the caller back
        assert hold(unheld, sid, on=False)
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [
            ("tel:+82212345678", "no_answer")]
        assert not h.acd.calls[sid].parties
        h.clock.advance(15)  # the agent hangs up: the caller is alone, the call ends
        await conference_event(h, sid, "participant-leave", AGENT_LEG)
        (hangup,) = await new_requests(h, 5, 1)
        assert (hangup.url, hangup.data) == (f"{CALLS_URL}/{sid}.json", {"Status": "completed"})
        await conference_event(h, sid, "participant-leave", sid)
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("answered", "1001")
    assert store.segments == [("1001", "agent", 15.0)]


async def test_conference_the_agent_leaves_and_the_others_go_on(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x84)
    async with stored_harness(harness, tmp_path) as (h, store):
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002", role="conference")
        await into_room(h, sid)
        (dialled,) = await new_requests(h, 2, 1)  # nobody on hold in a conference
        assert_dials(dialled, sid, "client:agent-1002", "1002")
        await conference_event(h, sid, "participant-join", party_sid(1))  # joined: answered
        assert h.acd.agents["1002"].state is AgentState.ON_CALL
        h.clock.advance(10)
        h.acd.leave(sid, "1001")
        (removed,) = await new_requests(h, 3, 1)
        assert (removed.method, removed.url) == ("DELETE", participants(AGENT_LEG))
        assert (h.acd.calls[sid].agent_id, h.acd.calls[sid].parties) == ("1002", None)
        await conference_event(h, sid, "participant-leave", AGENT_LEG)
        h.clock.advance(25)  # the caller hangs up
        await conference_event(h, sid, "participant-leave", sid)
        await participant_status(h, sid, 1, "completed")
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert len(h.api.requests) == 4 and sid not in h.acd.calls
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("answered", "1002")
    assert store.segments == [("1001", "agent", 10.0), ("1002", "conference", 10.0), ("1002", "agent", 25.0)]


async def test_conference_with_a_number_left_to_the_caller_and_hung_up_after(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x85)
    async with stored_harness(harness, tmp_path) as (h, store):
        await talking(h, sid)
        h.acd.add_party(sid, number="+82212345678", role="conference")
        await into_room(h, sid)
        await new_requests(h, 2, 1)
        await participant_status(h, sid, 1, "in-progress")
        h.clock.advance(10)
        h.acd.leave(sid, "1001")  # the caller and the number talk on; the ACD is done
        (removed,) = await new_requests(h, 3, 1)
        assert (removed.method, removed.url) == ("DELETE", participants(AGENT_LEG))
        assert sid not in h.acd.calls and sid not in h.gateway.calls
        await conference_event(h, sid, "participant-leave", AGENT_LEG)
        await participant_status(h, sid, 1, "completed")  # the number hangs up: the caller too
        (hangup,) = await new_requests(h, 4, 1)
        assert (hangup.url, hangup.data) == (f"{CALLS_URL}/{sid}.json", {"Status": "completed"})
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("transferred", "1001")
    assert store.segments == [("1001", "agent", 10.0), ("tel:+82212345678", "conference", 10.0)]


async def test_parties_without_a_twilio_address_are_refused(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(0x8A)
        await talking(h, sid)
        h.acd.login("1003")  # has no address in twilio.agents
        h.acd.add_party(sid, agent="1003")
        h.acd.monitor(sid, "sue", "listen")  # nor does this supervisor
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [("1003", "failed")]
        assert [e.reason for e in events if isinstance(e, CallMonitorEnded)] == ["failed"]
        assert h.acd.agents["1003"].state is AgentState.AVAILABLE
        await h.gateway.drain()
        assert len(h.api.requests) == 1  # no move into a conference


async def test_conference_webhooks_are_signed_and_checked(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x8B)
        fields = base_form(AGENT_LEG, ConferenceSid=CONF, StatusCallbackEvent="participant-join")
        status, _ = await h.poster.post(f"/twilio/conference?call={sid}", fields, sign=False)
        assert status == 403
        forged = h.poster.sign(f"/twilio/conference?call={call_sid(0x8C)}", fields)
        status, _ = await h.poster.post(f"/twilio/conference?call={sid}", fields, signature=forged)
        assert status == 403
        status, _ = await h.poster.post(f"/twilio/conference?call={sid}", {**fields, "ConferenceSid": "x"})
        assert status == 400
        status, _ = await h.poster.post(f"/twilio/participant?call={sid}&leg=x", base_form(AGENT_LEG))
        assert status == 400
        status, _ = await h.poster.post(f"/twilio/participant?call={sid}&leg=1", base_form(AGENT_LEG,
                                                                                       CallStatus="completed"))
        assert status == 200  # a room it does not know: acknowledged, nothing happens


async def test_consult_merged_then_the_agent_hangs_up_leaves_the_others_talking(
    harness: Make, tmp_path: Path
) -> None:
    sid = call_sid(0x8D)
    async with stored_harness(harness, tmp_path) as (h, store):
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        await into_room(h, sid)
        await new_requests(h, 2, 2)
        await participant_status(h, sid, 1, "in-progress")
        h.clock.advance(5)
        h.acd.merge(sid)  # the consult becomes a conference of three: the caller back
        (unheld,) = await new_requests(h, 4, 1)
        assert hold(unheld, sid, on=False)
        h.clock.advance(5)
        await conference_event(h, sid, "participant-leave", AGENT_LEG)  # 1001 hangs up
        assert (h.acd.calls[sid].agent_id, h.acd.calls[sid].state) == ("1002", CallState.ON_CALL)
        await h.gateway.drain()
        assert len(h.api.requests) == 5  # its leg is gone already: nothing to remove
        h.clock.advance(7)
        await conference_event(h, sid, "participant-leave", sid)
        await participant_status(h, sid, 1, "completed")
    (row,) = store.calls
    assert (row.outcome, row.agent_id) == ("answered", "1002")
    assert store.segments == [("1001", "agent", 10.0), ("1002", "conference", 10.0), ("1002", "agent", 7.0)]


async def test_agent_hanging_up_during_a_talking_consult_completes_it(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x8E)
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        await into_room(h, sid)
        await new_requests(h, 2, 2)
        await participant_status(h, sid, 1, "in-progress")
        await conference_event(h, sid, "participant-leave", AGENT_LEG)  # as a phone's attended transfer
        (unheld,) = await new_requests(h, 4, 1)
        assert hold(unheld, sid, on=False)
        assert (h.acd.calls[sid].agent_id, h.acd.calls[sid].parties) == ("1002", None)


async def test_agent_leg_that_cannot_be_moved_refuses_the_consult(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(0x8F)
        await talking(h, sid)
        h.acd.login("1002")
        h.api.fail[AGENT_LEG] = 404  # the agent's leg is gone at Twilio
        h.acd.add_party(sid, agent="1002")
        h.acd.monitor(sid, "+821099998888", "listen")
        await new_requests(h, 1, 1)
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [("1002", "failed")]
        assert [e.reason for e in events if isinstance(e, CallMonitorEnded)] == ["failed"]
        assert h.acd.agents["1002"].state is AgentState.AVAILABLE
        assert h.acd.calls[sid].state is CallState.ON_CALL and sid not in h.gateway.conferences.rooms


async def test_blind_transfer_out_of_the_room_then_a_new_consult_moves_again(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x90)
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, number="+82212345678")
        await into_room(h, sid)
        await new_requests(h, 2, 2)
        h.acd.remove_party(sid, "tel:+82212345678", "cancelled")  # still ringing: removed, caller back
        removed, unheld = await new_requests(h, 4, 2)
        assert removed.method == "DELETE" and hold(unheld, sid, on=False)
        h.acd.transfer(sid, agent="1002")  # the caller's TwiML replaced: out of the conference
        (dial,) = await new_requests(h, 6, 1)
        assert dial.url == f"{CALLS_URL}/{sid}.json"
        assert ET.fromstring(str(dial.data["Twiml"])).find("Dial/Client/Identity").text == "agent-1002"  # type: ignore[union-attr]
        assert sid not in h.gateway.conferences.rooms
        await conference_event(h, sid, "participant-leave", sid)  # the old room's last reports
        await conference_event(h, sid, "conference-end")
        new_leg = call_sid(0xA2)
        await h.poster.post(f"/twilio/agent?call={sid}&agent=1002",
                            base_form(new_leg, ParentCallSid=sid, CallStatus="in-progress"))
        assert (h.acd.calls[sid].state, h.acd.calls[sid].agent_id) == (CallState.ON_CALL, "1002")
        h.acd.monitor(sid, "1001", "listen")  # 1001 (in wrap-up) listens in: the new leg is moved
        (move,) = await new_requests(h, 7, 1)
        assert move.url == f"{CALLS_URL}/{new_leg}.json" and "<Conference" in str(move.data["Twiml"])
        doc = await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1002", base_form(sid, DialCallStatus="completed"))
        assert "<Conference" in doc


async def test_caller_sent_in_while_the_agent_leg_is_lost_ends_the_call(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(0x92)
        await talking(h, sid)
        h.acd.login("1002")
        h.api.fail[AGENT_LEG] = 404  # the agent hung up just as the move was asked
        h.acd.add_party(sid, agent="1002")
        # the caller's <Dial> ended (its child leg gone) before the failed move came back
        assert "<Conference" in (h.gateway.conferences.caller_document(sid) or "")
        move, hangup = await new_requests(h, 1, 2)
        assert move.url == f"{CALLS_URL}/{AGENT_LEG}.json"
        assert (hangup.url, hangup.data) == (f"{CALLS_URL}/{sid}.json", {"Status": "completed"})
        assert sid not in h.acd.calls and sid not in h.gateway.calls
        assert [type(e) for e in events if isinstance(e, CallEnded)] == [CallEnded]
        assert h.acd.agents["1002"].state is AgentState.AVAILABLE


async def test_caller_hanging_up_while_the_consulted_party_rings_stops_its_ringing(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(0x93)
        await talking(h, sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        await into_room(h, sid)
        await new_requests(h, 2, 2)
        await conference_event(h, sid, "participant-leave", sid)  # the caller hangs up on hold
        (stop,) = await new_requests(h, 4, 1)
        assert (stop.url, stop.data) == (f"{CALLS_URL}/{party_sid(1)}.json", {"Status": "completed"})
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [("1002", "call_ended")]
        assert h.acd.agents["1002"].state is AgentState.AVAILABLE and sid not in h.acd.calls
        await participant_status(h, sid, 1, "canceled")
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert len(h.api.requests) == 5


async def media_server(files: dict[str, bytes], seen: list[tuple[str, str | None]]) -> TestServer:
    """Twilio's recordings on loopback: `<RecordingSid>.wav` of `files`, with the account's auth."""

    async def recording(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization")))
        auth = aiohttp.BasicAuth.decode(request.headers.get("Authorization", "Basic Og=="))
        data = files.get(request.match_info["name"].removesuffix(".wav"))
        if (auth.login, auth.password) != (ACCOUNT, TOKEN) or data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="audio/x-wav")

    app = web.Application()
    app.router.add_get("/2010-04-01/Accounts/{account}/Recordings/{name}", recording)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_the_dial_part_and_the_conference_are_both_recorded_on_the_call(harness: Make, tmp_path: Path) -> None:
    sid = call_sid(0x94)
    seen: list[tuple[str, str | None]] = []
    dial_audio, room_audio = wav_bytes(0.5), wav_bytes(1.0)
    media = await media_server({"RE" + "1" * 32: dial_audio, "RE" + "2" * 32: room_audio}, seen)
    try:
        async with stored_harness(harness, tmp_path) as (h, store):
            await talking(h, sid)
            h.acd.add_party(sid, number="+82212345678", role="conference")
            await into_room(h, sid)
            base = f"/2010-04-01/Accounts/{ACCOUNT}/Recordings"
            # the <Dial>'s recording ends with the <Dial> (the move); it names the caller's call
            await h.poster.post(f"/twilio/recording?call={sid}", base_form(
                sid, RecordingSid="RE" + "1" * 32, RecordingUrl=str(media.make_url(f"{base}/RE{'1' * 32}")),
                RecordingStatus="completed", RecordingChannels="2"))
            await conference_event(h, sid, "participant-leave", sid)
            # the conference's recording callback carries the ConferenceSid, no CallSid
            fields = {"AccountSid": ACCOUNT, "ConferenceSid": CONF, "RecordingSid": "RE" + "2" * 32,
                      "RecordingUrl": str(media.make_url(f"{base}/RE{'2' * 32}")), "RecordingStatus": "completed"}
            status, _ = await h.poster.post(f"/twilio/recording?call={sid}", fields)
            assert status == 200
            await h.gateway.drain()
    finally:
        await media.close()
    assert [path for path, _ in seen] == [f"{base}/RE{'1' * 32}.wav", f"{base}/RE{'2' * 32}.wav"]
    assert sorted(store.recordings) == sorted([(sid, dial_audio), (sid, room_audio)])  # both on the call
    (row,) = store.calls
    assert row.outcome == "answered"


async def test_a_call_taken_back_after_a_restart_finds_its_agent_leg_by_rest(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(0x95)
        h.acd.login("1001")
        h.acd.arrive(sid, "booking", caller="+821012345678", source="twilio", dialed="+8215990000")
        await new_requests(h, 0, 1)  # taken back and dialled
        h.acd.answer(sid)  # its agent answered; the report reached the process before the restart
        h.api.children[sid] = AGENT_LEG
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        lookup, move = await new_requests(h, 1, 2)
        assert (lookup.method, lookup.url) == ("GET", f"{CALLS_URL}.json")
        assert lookup.params == {"ParentCallSid": sid, "Status": "in-progress", "PageSize": 1}
        assert move.url == f"{CALLS_URL}/{AGENT_LEG}.json" and "<Conference" in str(move.data["Twiml"])
        assert "<Conference" in await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1001",
                                                     base_form(sid, DialCallStatus="completed"))
        await conference_event(h, sid, "participant-join", AGENT_LEG)
        await conference_event(h, sid, "participant-join", sid)
        held, dialled = await new_requests(h, 3, 2)
        assert hold(held, sid, on=True)
        assert_dials(dialled, sid, "client:agent-1002", "1002")


async def test_a_taken_back_call_without_a_live_agent_leg_refuses_the_party(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(0x96)
        h.acd.login("1001")
        h.acd.arrive(sid, "booking", caller="+821012345678", source="twilio", dialed="+8215990000")
        await new_requests(h, 0, 1)
        h.acd.answer(sid)
        h.acd.login("1002")
        h.acd.add_party(sid, agent="1002")
        (lookup,) = await new_requests(h, 1, 1)  # Twilio has no live child: nothing to move
        assert lookup.method == "GET"
        assert [(e.party, e.reason) for e in events if isinstance(e, PartyLeft)] == [("1002", "failed")]
        assert h.acd.agents["1002"].state is AgentState.AVAILABLE
