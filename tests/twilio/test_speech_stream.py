"""Speech over a real Media Stream WebSocket into the real Vosk recognizer (Korean test model,
committed espeak-ng clips): the recognized phrase selects the menu branch."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest
from twilio.request_validator import RequestValidator

from acd.call import CallState
from ivr.speech import Recognition
from speech.recognizer import VoskRecognizer

from .conftest import Harness, make_settings
from .fakes import ACCOUNT, TOKEN, BrokenSpeech, FakeRecognizer, call_sid
from .streaming import clip, media_messages, stream_audio

Make = Callable[..., AbstractAsyncContextManager[Harness]]


def form(sid: str, **extra: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT, "CallSid": sid, **extra}


async def test_speech_question_is_a_stream_with_dtmf_barge_in(harness: Make, vosk: VoskRecognizer) -> None:
    async with harness(recognizer=vosk) as h:
        sid = call_sid(20)
        root = ET.fromstring(await h.poster.twiml("/twilio/voice", form(sid, From="+821011112222")))
        gather = root.find("Gather")
        assert gather is not None and gather.get("timeout") == "1" and gather.get("numDigits") == "1"
        assert len(gather.findall("Say")) == 2  # keys during the prompts end them
        stream = root.find("Connect/Stream")
        assert stream is not None and stream.get("url") == "wss://hotline.example.com/twilio/stream"
        params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
        assert params == {"call": sid, "step": "1"}
        redirect = root.find("Redirect")
        assert redirect is not None and redirect.text == (
            f"https://hotline.example.com/twilio/resume?call={sid}&step=1"
        )


@pytest.mark.parametrize(
    ("clip_name", "queue"),
    [("kw_hwanbul_ko_150.ulaw", "refund"), ("kw_yeyak_ko_f1_175.ulaw", "booking"),
     ("kw_sangdamwon_ko_m3_150.ulaw", "general")],
)
async def test_spoken_keyword_selects_the_branch(
    harness: Make, vosk: VoskRecognizer, clip_name: str, queue: str
) -> None:
    async with harness(recognizer=vosk) as h:
        sid = call_sid(21)
        await h.poster.twiml("/twilio/voice", form(sid, From="+821011112222"))
        await stream_audio(h.session, h.base, sid, 1, clip(clip_name))
        hold = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={sid}&step=1", form(sid)))
        assert hold.find("Play") is not None
        assert h.acd.calls[sid].queue == queue and h.acd.calls[sid].state is CallState.QUEUED
        speech = [s for s in h.steps.steps if s[2] == "speech"]
        assert len(speech) == 1 and speech[0][1] == "main"


async def test_silence_on_the_stream_is_no_input_and_the_menu_asks_again(
    harness: Make, vosk: VoskRecognizer
) -> None:
    async with harness(recognizer=vosk) as h:
        sid = call_sid(22)
        await h.poster.twiml("/twilio/voice", form(sid))
        await stream_audio(h.session, h.base, sid, 1, clip("silence.ulaw"))
        again = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={sid}&step=1", form(sid)))
        stream = again.find("Connect/Stream")
        assert stream is not None
        assert {p.get("name"): p.get("value") for p in stream.findall("Parameter")}["step"] == "2"
        assert [s[2] for s in h.steps.steps if s[1] == "main"] == ["entered", "timeout"]


async def test_keys_pressed_on_the_stream_answer_too(harness: Make, vosk: VoskRecognizer) -> None:
    async with harness(recognizer=vosk) as h:
        sid = call_sid(23)
        await h.poster.twiml("/twilio/voice", form(sid))
        await stream_audio(h.session, h.base, sid, 1, b"\xff" * 160 * 10, digits="2")
        await h.poster.twiml(f"/twilio/resume?call={sid}&step=1", form(sid))
        assert h.acd.calls[sid].queue == "refund"
        assert [s[2:] for s in h.steps.steps if s[1] == "main" and s[2] == "dtmf"] == [("dtmf", "2")]


async def test_stream_for_a_question_that_is_not_open_is_closed(harness: Make, vosk: VoskRecognizer) -> None:
    async with harness(recognizer=vosk) as h:
        sid = call_sid(24)
        await h.poster.twiml("/twilio/voice", form(sid))
        await stream_audio(h.session, h.base, sid, 7, clip("kw_hwanbul_ko_150.ulaw"))
        question = h.gateway.calls[sid].channel.question
        assert question is not None and question.step == 1 and not question.answer.done()
        assert sid not in h.acd.calls


async def test_voice_during_the_prompts_barges_in_over_rest(harness: Make, vosk: VoskRecognizer) -> None:
    settings = dataclasses.replace(make_settings(), speech_barge_in=True)
    async with harness(recognizer=vosk, settings=settings) as h:
        sid = call_sid(25)
        root = ET.fromstring(await h.poster.twiml("/twilio/voice", form(sid)))
        assert [e.tag for e in root] == ["Start", "Gather"]
        stream = root.find("Start/Stream")
        assert stream is not None and stream.get("name") == "q1"
        gather = root.find("Gather")
        assert gather is not None and (gather.get("timeout"), gather.get("actionOnEmptyResult")) == ("5", "true")
        assert len(gather.findall("Say")) == 2  # the prompts play while we listen

        await stream_audio(h.session, h.base, sid, 1, clip("kw_hwanbul_ko_150.ulaw"))
        (redirect,) = await h.api.wait_for(1)
        assert redirect.url.endswith(f"/Calls/{sid}.json")
        assert redirect.data == {"Url": f"https://hotline.example.com/twilio/resume?call={sid}", "Method": "POST"}
        hold = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={sid}", form(sid)))
        assert hold.find("Play") is not None and h.acd.calls[sid].queue == "refund"
        # Twilio's <Gather> was cut by the redirect; a late empty post changes nothing
        late = await h.poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits=""))
        assert ET.fromstring(late).find("Play") is not None and h.acd.calls[sid].queue == "refund"


async def test_keys_to_the_gather_end_a_stream_started_with_the_prompts(
    harness: Make, vosk: VoskRecognizer
) -> None:
    settings = dataclasses.replace(make_settings(), speech_barge_in=True)
    async with harness(recognizer=vosk, settings=settings) as h:
        sid = call_sid(26)
        await h.poster.twiml("/twilio/voice", form(sid))
        url = h.base.replace("http://", "ws://") + "twilio/stream"
        signature = RequestValidator(TOKEN).compute_signature("wss://hotline.example.com/twilio/stream", {})
        async with h.session.ws_connect(url, headers={"X-Twilio-Signature": signature}) as ws:
            for text in list(media_messages(sid, 1, b"\xff" * 160 * 300))[:102]:  # 2 s of silence
                await ws.send_str(text)
            hold = await h.poster.twiml(f"/twilio/gather?call={sid}&step=1", form(sid, Digits="2"))
            assert ET.fromstring(hold).find("Play") is not None
            await ws.send_str(list(media_messages(sid, 1, b"\xff" * 160))[2])
            msg = await ws.receive(timeout=5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert h.acd.calls[sid].queue == "refund"
        assert h.api.requests == []  # silence never barges in


async def test_recognizer_failure_is_no_input_and_the_call_goes_on(harness: Make) -> None:
    broken = BrokenSpeech(Recognition("", 0.0), None, None)
    async with harness(recognizer=FakeRecognizer(broken)) as h:
        sid = call_sid(27)
        await h.poster.twiml("/twilio/voice", form(sid))
        await stream_audio(h.session, h.base, sid, 1, clip("kw_hwanbul_ko_150.ulaw"))
        again = ET.fromstring(await h.poster.twiml(f"/twilio/resume?call={sid}&step=1", form(sid)))
        stream = again.find("Connect/Stream")
        assert stream is not None  # asked again
        assert {p.get("name"): p.get("value") for p in stream.findall("Parameter")}["step"] == "2"
        assert broken.closed and len(broken.fed) == 1
        assert [s[2] for s in h.steps.steps if s[1] == "main"] == ["entered", "timeout"]
