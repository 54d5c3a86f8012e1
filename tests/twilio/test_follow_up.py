"""Follow-up calls on Twilio (twilio_gateway/follow_up.py): the call is reserved for the
agent who took the task (acd/targeted.py), placed with exactly one REST `Calls.create` to
the customer whose TwiML dials that agent's SIP URI or Client identity, and the signed
status callbacks of the customer's leg give the outcome."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from acd.call import CallState
from acd.follow_up import FollowUpOutcome
from acd.targeted import TargetedCalls
from twilio_gateway.errors import TwilioApiError
from twilio_gateway.follow_up import FOLLOW_UPS_KEY, TwilioFollowUps
from twilio_gateway.routes import GATEWAY_KEY

from .conftest import Harness, make_settings, running
from .fakes import ACCOUNT, TOKEN, ApiRequest
from .test_conference import media_server, stored_harness
from .test_end_to_end import wav_bytes
from .test_flow import base_form

CALLS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Calls"
NUMBER = "+821012345678"
FROM = "+8215990000"
XML = '<?xml version="1.0" encoding="UTF-8"?>'


class Outcomes(list[tuple[str, FollowUpOutcome]]):
    def __call__(self, call_id: str, outcome: FollowUpOutcome) -> None:
        self.append((call_id, outcome))


def with_follow_ups(outcomes: Outcomes) -> Callable[[web.Application], None]:
    def extra(app: web.Application) -> None:
        async def ctx(app: web.Application) -> AsyncIterator[None]:
            gateway = app[GATEWAY_KEY]
            dialler = app[FOLLOW_UPS_KEY] = TwilioFollowUps(
                gateway.settings, gateway.acd, gateway.rest, TargetedCalls(gateway.acd))
            dialler.add_outcome_hook(outcomes)
            yield
            dialler.close()

        app.cleanup_ctx.append(ctx)

    return extra


def dialler(h: Harness) -> TwilioFollowUps:
    return h.app[FOLLOW_UPS_KEY]


async def status(h: Harness, call_id: str, sid: str, call_status: str) -> None:
    text = await h.poster.twiml(f"/twilio/follow-up?call={call_id}", {"CallSid": sid, "CallStatus": call_status,
                                                                       "AccountSid": ACCOUNT})
    assert text == f"{XML}<Response />"


async def test_one_calls_create_to_the_customer_dialling_the_taking_agents_client_then_reached() -> None:
    outcomes = Outcomes()
    async with running(settings=make_settings(callback_from=FROM), extra=with_follow_ups(outcomes)) as h:
        h.acd.login("1001")  # idle longest, and not the one who took the task
        h.acd.login("1002")
        dialler(h).place("followup-7-1", "general", NUMBER, "1002", wait=300)
        requests = await h.api.wait_for(1)
        await dialler(h).drain()
        assert requests == [ApiRequest("POST", f"{CALLS}.json", {
            "To": NUMBER, "From": FROM,
            "Twiml": f'{XML}<Response><Dial answerOnBridge="true" record="record-from-answer-dual" '
                     'recordingStatusCallback="https://hotline.example.com/twilio/recording?call=followup-7-1" '
                     'recordingStatusCallbackEvent="completed" recordingStatusCallbackMethod="POST" timeout="20">'
                     "<Client><Identity>agent-1002</Identity></Client></Dial></Response>",
            "StatusCallback": "https://hotline.example.com/twilio/follow-up?call=followup-7-1",
            "StatusCallbackMethod": "POST", "StatusCallbackEvent": ["answered", "completed"],
        }, (ACCOUNT, TOKEN))]
        sid = f"CA{0xF001:032x}"
        assert h.acd.call("followup-7-1").state is CallState.ON_CALL  # the agent is busy with it
        assert h.acd.agent("1002").state.value == "on_call" and h.acd.agent("1001").state.value == "available"
        await status(h, "followup-7-1", sid, "in-progress")
        await status(h, "followup-7-1", sid, "completed")
        assert outcomes == [("followup-7-1", FollowUpOutcome.REACHED)]
        assert "followup-7-1" not in h.acd.calls
        assert h.acd.agent("1002").state.value == "wrap_up"


@pytest.mark.parametrize(("final", "outcome"), [
    ("busy", FollowUpOutcome.BUSY), ("no-answer", FollowUpOutcome.NO_ANSWER), ("failed", FollowUpOutcome.FAILED),
])
async def test_customer_not_reached_on_a_sip_agent(final: str, outcome: FollowUpOutcome) -> None:
    outcomes = Outcomes()
    settings = make_settings(callback_from=FROM, record=False)
    async with running(settings=settings, extra=with_follow_ups(outcomes)) as h:
        h.acd.login("1001")
        dialler(h).place("followup-8-1", "general", NUMBER, "1001", wait=300)
        requests = await h.api.wait_for(1)
        await dialler(h).drain()
        assert requests[0].data["Twiml"] == (
            f'{XML}<Response><Dial answerOnBridge="true" timeout="20"><Sip>sip:1001@pbx.example.com</Sip>'
            "</Dial></Response>")
        sid = f"CA{0xF001:032x}"
        await status(h, "followup-8-1", f"CA{0xBEEF:032x}", final)  # another leg's report: ignored
        assert outcomes == []
        await status(h, "followup-8-1", sid, final)
        assert outcomes == [("followup-8-1", outcome)]


async def test_a_busy_agent_is_waited_for_and_an_unsigned_status_is_refused() -> None:
    outcomes = Outcomes()
    async with running(settings=make_settings(callback_from=FROM), extra=with_follow_ups(outcomes)) as h:
        h.acd.login("1001")
        h.acd.login("1002")
        h.acd.pause("1002", "break")
        dialler(h).place("followup-9-1", "general", NUMBER, "1002", wait=300)
        await dialler(h).drain()
        assert h.api.requests == []  # 1001 is free and eligible: not called for it
        h.acd.unpause("1002")
        await h.api.wait_for(1)
        code, _ = await h.poster.post("/twilio/follow-up?call=followup-9-1",
                                      {"CallSid": f"CA{0xF001:032x}", "CallStatus": "completed"}, sign=False)
        assert code == 403 and outcomes == []


async def test_the_agent_logging_out_releases_it_with_no_request() -> None:
    outcomes = Outcomes()
    async with running(settings=make_settings(callback_from=FROM), extra=with_follow_ups(outcomes)) as h:
        h.acd.login("1002")
        h.acd.pause("1002", "break")
        dialler(h).place("followup-10-1", "general", NUMBER, "1002", wait=300)
        h.acd.logout("1002")
        assert outcomes == [("followup-10-1", FollowUpOutcome.RELEASED)] and h.api.requests == []


async def test_an_agent_without_a_twilio_address_is_refused() -> None:
    async with running(settings=make_settings(callback_from=FROM), extra=with_follow_ups(Outcomes())) as h:
        h.acd.login("1003")
        with pytest.raises(TwilioApiError, match="no SIP URI"):
            dialler(h).place("followup-11-1", "refund", NUMBER, "1003", wait=300)
        assert "followup-11-1" not in h.acd.calls


async def test_a_waiting_follow_up_from_before_a_restart_is_dialled_by_the_new_process() -> None:
    async with running(settings=make_settings(callback_from=FROM), extra=with_follow_ups(Outcomes())) as h:
        h.acd.login("1001")
        h.acd.pause("1001", "break")
        targeted = dialler(h).targeted
        dialler(h).place("followup-12-1", "general", NUMBER, "1001", wait=300)
        dialler(h).close()  # the process that placed it is gone; the ACD (journal) keeps the call
        outcomes = Outcomes()
        after = TwilioFollowUps(dialler(h).settings, h.acd, dialler(h).rest, TargetedCalls(h.acd))
        after.add_outcome_hook(outcomes)
        assert targeted is not after.targeted
        h.acd.unpause("1001")
        [request] = await h.api.wait_for(1)
        await after.drain()
        assert request.data["To"] == NUMBER and "<Sip>sip:1001@pbx.example.com</Sip>" in request.data["Twiml"]
        after.status("followup-12-1", f"CA{0xF001:032x}", "no-answer")
        assert outcomes == [("followup-12-1", FollowUpOutcome.NO_ANSWER)]
        after.close()


async def test_a_follow_up_is_recorded_on_its_own_call_record(tmp_path: Path) -> None:
    outcomes = Outcomes()
    seen: list[tuple[str, str | None]] = []
    audio = wav_bytes(0.5)
    recording_sid = "RE" + "3" * 32
    media = await media_server({recording_sid: audio}, seen)
    make = functools.partial(running, settings=make_settings(callback_from=FROM), extra=with_follow_ups(outcomes))
    try:
        async with stored_harness(make, tmp_path) as (h, store):
            h.acd.login("1002")
            dialler(h).place("followup-5-1", "general", NUMBER, "1002", wait=300)
            requests = await h.api.wait_for(1)
            await dialler(h).drain()
            assert "recording?call=followup-5-1" in requests[0].data["Twiml"]
            sid = f"CA{0xF001:032x}"
            await status(h, "followup-5-1", sid, "in-progress")
            url = media.make_url(f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording_sid}")
            code, _ = await h.poster.post("/twilio/recording?call=followup-5-1", base_form(
                sid, RecordingSid=recording_sid, RecordingUrl=str(url), RecordingStatus="completed",
                RecordingChannels="2"))
            assert code == 200
            code, _ = await h.poster.post("/twilio/recording?call=followup-" + "x" * 80, base_form(
                sid, RecordingSid=recording_sid, RecordingUrl=str(url), RecordingStatus="completed"))
            assert code == 400  # not a call id: refused, nothing fetched
            await status(h, "followup-5-1", sid, "completed")
            await h.gateway.drain()
    finally:
        await media.close()
    assert store.recordings == [("followup-5-1", audio)] and len(seen) == 1
    assert [row.id for row in store.calls] == ["followup-5-1"]
    assert outcomes == [("followup-5-1", FollowUpOutcome.REACHED)]
