"""Calls over the real server: IVR by DTMF, waiting, agent connect over REST, ring-no-answer,
hang-ups, lost calls. Every REST request Twilio would receive is asserted."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from acd.agent import AgentState
from acd.call import CallState
from acd.events import CallAbandoned, CallAnswered, CallEnded, CallRingNoAnswer, Event

from .conftest import Harness
from .fakes import ACCOUNT, PUBLIC, call_sid

Make = Callable[..., AbstractAsyncContextManager[Harness]]
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls"


def base_form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, "ApiVersion": "2010-04-01", **extra}


async def start_call(h: Harness, sid: str) -> ET.Element:
    doc = await h.poster.twiml(
        "/twilio/voice",
        base_form(sid, From="+821012345678", To="+8215990000", CallStatus="ringing", Direction="inbound"),
    )
    return ET.fromstring(doc)


async def press(h: Harness, sid: str, step: int, digits: str) -> ET.Element:
    doc = await h.poster.twiml(f"/twilio/gather?call={sid}&step={step}", base_form(sid, Digits=digits))
    return ET.fromstring(doc)


def record(h: Harness) -> list[Event]:
    events: list[Event] = []
    h.acd.subscribe(events.append)
    return events


async def test_dtmf_call_waits_is_connected_to_agent_and_ends(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(1)
        root = await start_call(h, sid)
        gather = root.find("Gather")
        assert gather is not None
        assert gather.get("action") == f"{PUBLIC}/twilio/gather?call={sid}&step=1"
        assert gather.get("input") == "dtmf"  # no recognizer: keys only
        assert [s.text for s in gather.findall("Say")] == [
            "안녕하세요.", "예약은 1번, 환불은 2번, 상담원은 0번을 누르거나 말씀해 주세요."
        ]

        hold = await press(h, sid, 1, "1")
        call = h.acd.calls[sid]
        assert (call.queue, call.state, call.source, call.caller) == (
            "booking", CallState.QUEUED, "twilio", "+821012345678"
        )
        says = [s.text or "" for s in hold.findall("Say")]
        assert says[0] == "예약 상담원에게 연결합니다."
        assert "1번째" in says[1]
        assert hold.find("Play") is not None and hold.find("Play").text == "https://media.example.com/hold.mp3"  # type: ignore[union-attr]
        redirect = hold.find("Redirect")
        assert redirect is not None and redirect.text == f"{PUBLIC}/twilio/hold?call={sid}"

        h.acd.login("1001")
        requests = await h.api.wait_for(1)
        assert [(r.method, r.url) for r in requests] == [("POST", f"{CALLS_URL}/{sid}.json")]
        assert requests[0].auth == (ACCOUNT, "test-auth-token-1234")
        assert set(requests[0].data) == {"Twiml"}
        dial = ET.fromstring(str(requests[0].data["Twiml"])).find("Dial")
        assert dial is not None
        assert dial.get("action") == f"{PUBLIC}/twilio/dial?call={sid}&agent=1001"
        assert dial.get("record") == "record-from-answer-dual"
        assert dial.get("recordingStatusCallback") == f"{PUBLIC}/twilio/recording?call={sid}"
        sip = dial.find("Sip")
        assert sip is not None and sip.text == "sip:1001@pbx.example.com"
        assert sip.get("statusCallback") == f"{PUBLIC}/twilio/agent?call={sid}&agent=1001"
        assert h.acd.agents["1001"].state is AgentState.RINGING

        leg = call_sid(0xA1)
        status, _ = await h.poster.post(
            f"/twilio/agent?call={sid}&agent=1001",
            base_form(leg, ParentCallSid=sid, CallStatus="in-progress"),
        )
        assert status == 200
        assert h.acd.calls[sid].state is CallState.ON_CALL

        end = ET.fromstring(
            await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1001",
                                 base_form(sid, DialCallStatus="completed", DialCallDuration="42"))
        )
        assert end.find("Hangup") is not None
        assert sid not in h.acd.calls
        assert h.acd.agents["1001"].state is AgentState.WRAP_UP
        assert [type(e) for e in events if isinstance(e, CallAnswered | CallEnded)] == [CallAnswered, CallEnded]
        assert sid not in h.gateway.calls
        assert len(h.api.requests) == 1
        kinds = [(node, kind) for _, node, kind, _ in h.steps.steps]
        assert kinds == [
            ("welcome", "entered"), ("main", "entered"), ("main", "dtmf"), ("booking", "entered"),
            ("booking", "outcome"),
        ]


async def test_free_agent_is_dialled_in_the_transfer_response(harness: Make) -> None:
    async with harness() as h:
        h.acd.login("1002")
        sid = call_sid(2)
        await start_call(h, sid)
        root = await press(h, sid, 1, "0")
        client = root.find("Dial/Client/Identity")
        assert client is not None and client.text == "agent-1002"
        assert h.acd.calls[sid].state is CallState.RINGING
        assert h.api.requests == []  # answered in the webhook, no REST update


async def test_ring_no_answer_returns_the_caller_to_their_place(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        first, second = call_sid(3), call_sid(4)
        for sid in (first, second):
            await start_call(h, sid)
            await press(h, sid, 1, "1")
        assert [c.id for c in h.acd.waiting_calls("booking")] == [first, second]
        h.acd.login("1001")
        await h.api.wait_for(1)
        assert h.api.requests[0].url == f"{CALLS_URL}/{first}.json"
        hold = ET.fromstring(
            await h.poster.twiml(f"/twilio/dial?call={first}", base_form(first, DialCallStatus="no-answer"))
        )
        assert [c.id for c in h.acd.waiting_calls("booking")] == [first, second]
        assert h.acd.position(first) == 1
        assert any("1번째" in (s.text or "") for s in hold.findall("Say"))
        assert h.acd.agents["1001"].state is AgentState.PAUSED
        assert [e.call_id for e in events if isinstance(e, CallRingNoAnswer)] == [first]
        assert len(h.api.requests) == 1  # the <Dial> action answered; no REST needed


async def test_acd_ring_timer_stops_the_dial_over_rest(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(5)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        h.acd.login("1001")
        await h.api.wait_for(1)
        h.clock.advance(21)  # the queue's ring timeout is 20 s
        requests = await h.api.wait_for(2)
        back = ET.fromstring(str(requests[1].data["Twiml"]))
        assert back.find("Play") is not None and back.find("Dial") is None
        assert back.find("Redirect").text == f"{PUBLIC}/twilio/hold?call={sid}"  # type: ignore[union-attr]
        assert h.acd.calls[sid].state is CallState.QUEUED


async def test_caller_hanging_up_while_waiting_is_an_abandon(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(6)
        await start_call(h, sid)
        await press(h, sid, 1, "2")
        assert h.acd.calls[sid].queue == "refund"
        status, _ = await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert status == 200
        abandoned = [e for e in events if isinstance(e, CallAbandoned)]
        assert [(e.call_id, e.reason) for e in abandoned] == [(sid, "caller_hangup")]
        assert sid not in h.gateway.calls
        # late webhooks for the finished call are answered, not errors
        doc = await h.poster.twiml(f"/twilio/hold?call={sid}", base_form(sid))
        assert ET.fromstring(doc).find("Hangup") is not None


async def test_caller_hanging_up_while_ringing_frees_the_agent(harness: Make) -> None:
    async with harness() as h:
        h.acd.login("1001")
        sid = call_sid(7)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        assert h.acd.agents["1001"].state is AgentState.RINGING
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="canceled"))
        assert sid not in h.acd.calls
        assert h.acd.agents["1001"].state is AgentState.AVAILABLE


async def test_caller_hanging_up_in_the_ivr_ends_the_interpreter(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(8)
        await start_call(h, sid)
        task = h.gateway.calls[sid].task
        assert task is not None
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        await task
        assert sid not in h.gateway.calls
        assert sid not in h.acd.calls
        assert h.steps.steps[-1][1:] == ("main", "outcome", "abandoned:caller_hangup")
        assert h.steps.starts == [(sid, "twilio", "+821012345678", "+8215990000")]
        assert h.steps.ends == [(sid, "abandoned")]


async def test_a_call_that_never_posts_back_is_cleaned_up(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(9)
        await start_call(h, sid)
        task = h.gateway.calls[sid].task
        assert task is not None
        h.clock.advance(5 + 30 - 1)
        assert not task.done() and sid in h.gateway.calls
        h.clock.advance(2)  # past the question's timeout plus idle_timeout
        await task
        assert sid not in h.gateway.calls
        assert h.steps.steps[-1][2:] == ("outcome", "abandoned:caller_hangup")


async def test_replayed_answer_to_an_old_step_is_ignored(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(10)
        await start_call(h, sid)
        # a "1" then no-match... the menu asks again at step 2
        again = await press(h, sid, 1, "7")
        gather = again.find("Gather")
        assert gather is not None and gather.get("action", "").endswith("step=2")
        repeat = await press(h, sid, 1, "2")  # the old step replayed with another key
        assert ET.tostring(repeat) == ET.tostring(again)  # the open question, asked again
        assert sid not in h.acd.calls
        await press(h, sid, 2, "2")
        assert h.acd.calls[sid].queue == "refund"


async def test_agent_without_twilio_address_is_treated_as_no_answer(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        h.acd.login("1003")  # refund agent without a SIP URI / identity
        sid = call_sid(11)
        await start_call(h, sid)
        hold = await press(h, sid, 1, "2")
        assert hold.find("Dial") is None and hold.find("Play") is not None
        await h.gateway.drain()
        assert [e.call_id for e in events if isinstance(e, CallRingNoAnswer)] == [sid]
        assert h.acd.calls[sid].state is CallState.QUEUED
        assert h.acd.agents["1003"].state is AgentState.PAUSED


async def test_rest_404_means_the_caller_is_gone(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(12)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        h.api.fail[sid] = 404
        h.acd.login("1001")
        await h.gateway.drain()
        assert [e.call_id for e in events if isinstance(e, CallAbandoned)] == [sid]
        assert h.acd.agents["1001"].state is AgentState.AVAILABLE



async def test_accepted_callback_keeps_the_place_and_calls_agent_then_customer(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(13)
        await start_call(h, sid)
        await press(h, sid, 1, "9")
        bye = await press(h, sid, 2, "1")
        assert [e.tag for e in bye] == ["Say", "Hangup"] and bye[0].text == "다시 연락드리겠습니다."
        assert h.acd.calls[sid].queue == "general" and h.acd.calls[sid].caller == "+821012345678"
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert h.acd.calls[sid].state is CallState.QUEUED  # the caller left; the place is kept

        h.acd.login("1001")
        (create,) = await h.api.wait_for(1)
        assert (create.method, create.url) == ("POST", f"{CALLS_URL}.json")
        assert create.data["To"] == "sip:1001@pbx.example.com" and create.data["From"] == "+8215990000"
        assert create.data["StatusCallback"] == f"{PUBLIC}/twilio/callback?call={sid}"
        assert create.data["StatusCallbackEvent"] == ["answered", "completed"]
        number = ET.fromstring(str(create.data["Twiml"])).find("Dial/Number")
        assert number is not None and number.text == "+821012345678"

        leg = f"CA{0xF001:032x}"
        h.clock.advance(21)  # the agent does not answer within the ring timeout
        cancel = (await h.api.wait_for(2))[1]
        assert (cancel.url, cancel.data) == (f"{CALLS_URL}/{leg}.json", {"Status": "completed"})
        assert h.acd.calls[sid].state is CallState.QUEUED
        h.acd.unpause("1001")
        second = (await h.api.wait_for(3))[2]
        assert second.url == f"{CALLS_URL}.json"
        old_leg, leg = leg, f"CA{0xF002:032x}"
        await h.poster.post(f"/twilio/callback?call={sid}", base_form(old_leg, CallStatus="no-answer"))
        assert h.acd.calls[sid].state is CallState.RINGING  # the cancelled leg's report changes nothing
        await h.poster.post(f"/twilio/callback?call={sid}", base_form(leg, CallStatus="in-progress"))
        assert h.acd.calls[sid].state is CallState.ON_CALL
        await h.poster.post(f"/twilio/callback?call={sid}", base_form(leg, CallStatus="completed"))
        assert sid not in h.acd.calls and sid not in h.gateway.calls
        assert [type(e).__name__ for e in events if isinstance(e, CallAnswered | CallEnded)] == [
            "CallAnswered", "CallEnded"
        ]


async def test_acd_giving_up_hangs_up_with_an_apology(harness: Make) -> None:
    async with harness() as h:
        h.acd.queues["general"] = dataclasses.replace(h.acd.queues["general"], max_wait=60)
        sid = call_sid(14)
        await start_call(h, sid)
        await press(h, sid, 1, "0")
        h.clock.advance(61)
        (update,) = await h.api.wait_for(1)
        doc = ET.fromstring(str(update.data["Twiml"]))
        assert [e.tag for e in doc] == ["Say", "Hangup"] and "죄송합니다" in (doc[0].text or "")
        assert sid not in h.gateway.calls


async def test_no_menu_for_the_number_says_sorry_and_hangs_up(harness: Make) -> None:
    from .conftest import make_settings

    async with harness(settings=make_settings(menu="missing-menu")) as h:
        root = await start_call(h, call_sid(15))
        assert [e.tag for e in root] == ["Say", "Hangup"]
        await h.gateway.close()
        # the record opened for the call is closed: the IVR failed
        assert [s[0] for s in h.steps.starts] == [call_sid(15)]
        assert h.steps.ends == [(call_sid(15), "failed")]
        assert h.steps.steps[-1][2:] == ("outcome", "failed:ivr_error")


async def test_caller_hanging_up_during_the_conversation_ends_the_call(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        h.acd.login("1001")
        sid = call_sid(16)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        await h.poster.post(f"/twilio/agent?call={sid}", base_form(call_sid(0xB1), CallStatus="in-progress"))
        assert h.acd.calls[sid].state is CallState.ON_CALL
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert [e.call_id for e in events if isinstance(e, CallEnded)] == [sid]
        # Twilio may still report the <Dial> ending: answered, nothing changes twice
        late = await h.poster.twiml(f"/twilio/dial?call={sid}", base_form(sid, DialCallStatus="completed"))
        assert ET.fromstring(late).find("Hangup") is not None
        assert len([e for e in events if isinstance(e, CallEnded)]) == 1


async def test_menu_survey_entry_runs_after_the_agent_hangs_up(harness: Make) -> None:
    async with harness(survey=True) as h:
        h.acd.login("1001")
        sid = call_sid(17)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        await h.poster.post(f"/twilio/agent?call={sid}", base_form(call_sid(0xC1), CallStatus="in-progress"))
        survey = ET.fromstring(
            await h.poster.twiml(f"/twilio/dial?call={sid}", base_form(sid, DialCallStatus="completed"))
        )
        assert sid not in h.acd.calls  # the ACD call ended with the conversation
        gather = survey.find("Gather")
        assert gather is not None and gather.get("action") == f"{PUBLIC}/twilio/gather?call={sid}&step=1"
        assert gather.find("Say").text == "만족도를 1번부터 5번 중에서 눌러 주세요."  # type: ignore[union-attr]
        bye = await press(h, sid, 1, "4")
        assert [e.tag for e in bye] == ["Say", "Hangup"] and bye[0].text == "감사합니다."
        assert sid not in h.gateway.calls  # the IVR ended the call: nothing is kept
        assert ("survey", "dtmf", "4") in [(n, k, i) for _, n, k, i in h.steps.steps]


async def test_waiting_call_without_any_webhook_for_hold_timeout_is_dropped(harness: Make) -> None:
    async with harness() as h:
        events = record(h)
        sid = call_sid(18)
        await start_call(h, sid)
        await press(h, sid, 1, "1")
        h.clock.advance(600)
        await h.poster.twiml(f"/twilio/hold?call={sid}", base_form(sid))  # re-arms the watchdog
        h.clock.advance(899)
        assert h.acd.calls[sid].state is CallState.QUEUED
        h.clock.advance(2)
        assert [(e.call_id, e.reason) for e in events if isinstance(e, CallAbandoned)] == [(sid, "lost")]
        (update,) = await h.api.wait_for(1)
        assert ET.fromstring(str(update.data["Twiml"])).find("Hangup") is not None
        assert sid not in h.gateway.calls


async def test_retried_incoming_webhook_gets_the_open_question_again(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(19)
        first = await start_call(h, sid)
        again = await start_call(h, sid)  # Twilio retried: the first answer was lost
        assert ET.tostring(again) == ET.tostring(first)
        assert len(h.gateway.calls) == 1
        await press(h, sid, 1, "2")
        assert h.acd.calls[sid].queue == "refund"


async def test_late_reports_about_an_earlier_agent_change_nothing(harness: Make) -> None:
    async with harness() as h:
        sid = call_sid(20)
        await start_call(h, sid)
        await press(h, sid, 1, "0")  # general: agents 1001 and 1002
        h.acd.login("1001")
        await h.api.wait_for(1)
        h.clock.advance(21)  # 1001 does not answer: back to the queue over REST, 1001 paused
        await h.api.wait_for(2)
        h.acd.login("1002")
        third = (await h.api.wait_for(3))[2]
        assert ET.fromstring(str(third.data["Twiml"])).find("Dial/Client/Identity").text == "agent-1002"  # type: ignore[union-attr]
        assert h.acd.calls[sid].agent_id == "1002"
        late = await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1001",
                                    base_form(sid, DialCallStatus="no-answer"))
        assert ET.fromstring(late).find("Play") is not None
        await h.poster.post(f"/twilio/agent?call={sid}&agent=1001", base_form(call_sid(0xD1), CallStatus="in-progress"))
        assert (h.acd.calls[sid].state, h.acd.calls[sid].agent_id) == (CallState.RINGING, "1002")
        assert h.acd.agents["1002"].state is AgentState.RINGING
        await h.poster.post(f"/twilio/agent?call={sid}&agent=1002", base_form(call_sid(0xD2), CallStatus="in-progress"))
        assert h.acd.calls[sid].state is CallState.ON_CALL


def offering(h: Harness) -> None:
    from acd.queue import EscalationStep

    general = h.acd.queues["general"]
    h.acd.queues["general"] = dataclasses.replace(
        general, escalation=(EscalationStep(after=60, offer_callback=True),)
    )


async def test_callback_offered_while_waiting_is_accepted_and_keeps_the_place(harness: Make) -> None:
    from .conftest import make_settings

    async with harness(settings=make_settings(callback_entry="offer"), survey=True) as h:
        offering(h)
        first, second = call_sid(40), call_sid(41)
        for sid in (first, second):
            await start_call(h, sid)
            await press(h, sid, 1, "0")
        h.clock.advance(61)  # both reach the offer step
        requests = await h.api.wait_for(2)
        assert [(r.url, r.data) for r in requests] == [
            (f"{CALLS_URL}/{sid}.json", {"Url": f"{PUBLIC}/twilio/resume?call={sid}", "Method": "POST"})
            for sid in (first, second)
        ]
        offer = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={first}", base_form(first)))
        gather = offer.find("Gather")
        assert gather is not None and gather.get("action") == f"{PUBLIC}/twilio/gather?call={first}&step=1"
        bye = await press(h, first, 1, "1")
        assert [e.tag for e in bye] == ["Say", "Hangup"] and bye[0].text == "순서가 되면 전화드리겠습니다."
        await h.poster.post("/twilio/status", base_form(first, CallStatus="completed"))
        assert [c.id for c in h.acd.waiting_calls("general")] == [first, second]  # place kept

        # the second caller declines and goes back to waiting, behind the first
        await h.poster.twiml(f"/twilio/resume?call={second}", base_form(second))
        hold = await press(h, second, 1, "2")
        assert hold.find("Play") is not None and any("2번째" in (s.text or "") for s in hold.findall("Say"))
        assert [c.id for c in h.acd.waiting_calls("general")] == [first, second]

        h.acd.login("1002")
        create = (await h.api.wait_for(3))[2]
        assert create.url == f"{CALLS_URL}.json" and create.data["To"] == "client:agent-1002"


async def test_agent_free_during_the_offer_takes_the_call(harness: Make) -> None:
    from .conftest import make_settings

    async with harness(settings=make_settings(callback_entry="offer"), survey=True) as h:
        offering(h)
        sid = call_sid(42)
        await start_call(h, sid)
        await press(h, sid, 1, "0")
        h.clock.advance(61)
        await h.api.wait_for(1)
        await h.poster.twiml(f"/twilio/resume?call={sid}", base_form(sid))  # the offer is asked
        h.acd.login("1001")
        update = (await h.api.wait_for(2))[1]
        assert ET.fromstring(str(update.data["Twiml"])).find("Dial/Sip") is not None
        task = h.gateway.calls[sid].task
        assert task is not None
        await task  # the offer's IVR run ended
        assert h.acd.calls[sid].state is CallState.RINGING and sid in h.gateway.calls


async def test_hanging_up_during_the_offer_is_an_abandon(harness: Make) -> None:
    from .conftest import make_settings

    async with harness(settings=make_settings(callback_entry="offer"), survey=True) as h:
        events = record(h)
        offering(h)
        sid = call_sid(43)
        await start_call(h, sid)
        await press(h, sid, 1, "0")
        h.clock.advance(61)
        await h.api.wait_for(1)
        await h.poster.twiml(f"/twilio/resume?call={sid}", base_form(sid))
        task = h.gateway.calls[sid].task
        await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert task is not None
        await task
        assert [(e.call_id, e.reason) for e in events if isinstance(e, CallAbandoned)] == [(sid, "caller_hangup")]
        assert sid not in h.gateway.calls and sid not in h.acd.calls


async def test_withheld_number_is_no_caller_and_gets_no_callback_offer(harness: Make) -> None:
    from twilio_gateway.call import caller_number

    assert caller_number("+821012345678") == "+821012345678"
    assert [caller_number(v) for v in ("+266696687", "anonymous", "client:bob", "sip:x@y", "")] == [""] * 5
    async with harness() as h:
        sid = call_sid(44)
        await h.poster.twiml("/twilio/voice", base_form(sid, From="+266696687", To="+8215990000"))
        assert h.gateway.calls[sid].channel.caller is None
        await press(h, sid, 1, "9")  # the callback node: no number, so straight to its decline branch
        assert h.acd.calls[sid].queue == "general" and h.acd.calls[sid].caller == ""


async def test_a_caller_on_hold_restored_after_a_restart_keeps_the_call(harness: Make) -> None:
    """After a restart the ACD has the call back (docs/state.md) but the gateway does not: the
    caller's next hold webhook takes it back, and the next free agent is dialled for it."""
    async with harness() as h:
        sid = call_sid(7)
        h.acd.arrive(sid, "booking", caller="+821012345678", source="twilio", dialed="+8215990000")
        assert sid not in h.gateway.calls  # as after a restart: the ACD knows the call, the gateway not
        hold = ET.fromstring(await h.poster.twiml(f"/twilio/hold?call={sid}", base_form(sid)))
        assert hold.find("Hangup") is None
        redirect = hold.find("Redirect")
        assert redirect is not None and redirect.text == f"{PUBLIC}/twilio/hold?call={sid}"
        assert h.acd.calls[sid].state is CallState.QUEUED
        h.acd.login("1001")
        requests = await h.api.wait_for(1)
        assert [(r.method, r.url) for r in requests] == [("POST", f"{CALLS_URL}/{sid}.json")]
        assert ET.fromstring(str(requests[0].data["Twiml"])).find("Dial") is not None
        status, _ = await h.poster.post("/twilio/status", base_form(sid, CallStatus="completed"))
        assert status == 200
