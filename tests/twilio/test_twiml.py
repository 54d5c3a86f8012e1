"""The pure TwiML renderer: documents checked as XML."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from ivr.channel import DigitSpec, Prompt, SpeechSpec
from twilio_gateway.settings import AgentTarget, SpeechMode
from twilio_gateway.twiml import GatherUrls, render_dial, render_gather, render_hangup, render_hold

from .conftest import make_settings

URLS = GatherUrls("https://h/twilio/gather?step=3", "https://h/twilio/resume?step=3", "wss://h/twilio/stream",
                  {"call": "CA1", "step": "3"})
HELLO = [Prompt("안녕하세요", "ko"), Prompt("Welcome", "en", audio="en/welcome")]


def xml(doc: str) -> ET.Element:
    return ET.fromstring(doc)


def test_prompts_say_in_the_callers_language_or_play_audio() -> None:
    root = xml(render_hangup(HELLO, make_settings()))
    assert [(e.tag, e.get("language"), e.text) for e in root] == [
        ("Say", "ko-KR", "안녕하세요"), ("Say", "en-US", "Welcome"), ("Hangup", None, None)
    ]
    played = xml(render_hangup(HELLO, dataclasses.replace(
        make_settings(), audio_base_url="https://cdn.example.com/prompts", voice="Polly.Seoyeon")))
    assert [(e.tag, e.text, e.get("voice")) for e in played][:2] == [
        ("Say", "안녕하세요", "Polly.Seoyeon"), ("Play", "https://cdn.example.com/prompts/en/welcome.wav", None)
    ]


def test_dtmf_gather_posts_back_even_on_timeout() -> None:
    spec = DigitSpec(max_digits=6, timeout=4.5, terminator="#")
    root = xml(render_gather(HELLO[:1], digits=spec, speech=None, barge_in=True, urls=URLS, settings=make_settings()))
    gather = root.find("Gather")
    assert gather is not None and gather.attrib == {
        "input": "dtmf", "action": URLS.action, "method": "POST", "numDigits": "6", "finishOnKey": "#",
        "timeout": "5", "actionOnEmptyResult": "true",
    }
    assert [e.tag for e in gather] == ["Say"]
    no_barge = xml(render_gather(HELLO[:1], digits=spec, speech=None, barge_in=False, urls=URLS,
                                 settings=make_settings()))
    assert [e.tag for e in no_barge] == ["Say", "Gather"] and len(no_barge.find("Gather")) == 0  # type: ignore[arg-type]


def test_speech_with_our_recognizer_streams_then_resumes() -> None:
    speech = SpeechSpec("ko", ("예약", "환불"))
    root = xml(render_gather(HELLO[:1], digits=DigitSpec(), speech=speech, barge_in=True, urls=URLS,
                             settings=make_settings()))
    assert [e.tag for e in root] == ["Gather", "Connect", "Redirect"]
    assert root.find("Gather").get("timeout") == "1"  # type: ignore[union-attr]
    stream = root.find("Connect/Stream")
    assert stream is not None and stream.get("url") == URLS.stream
    assert [(p.get("name"), p.get("value")) for p in stream] == [("call", "CA1"), ("step", "3")]
    assert root.find("Redirect").text == URLS.resume  # type: ignore[union-attr]
    speech_only = xml(render_gather(HELLO[:1], digits=None, speech=speech, barge_in=True, urls=URLS,
                                    settings=make_settings()))
    assert [e.tag for e in speech_only] == ["Say", "Connect", "Redirect"]


def test_twilio_speech_fallback_uses_hints_and_language() -> None:
    settings = dataclasses.replace(make_settings(), speech=SpeechMode.TWILIO)
    root = xml(render_gather(HELLO[:1], digits=DigitSpec(), speech=SpeechSpec("ko", ("예약", "환불"), timeout=3),
                             barge_in=True, urls=URLS, settings=settings))
    gather = root.find("Gather")
    assert gather is not None
    assert (gather.get("input"), gather.get("language"), gather.get("hints"), gather.get("timeout")) == (
        "speech dtmf", "ko-KR", "예약, 환불", "3"
    )
    assert root.find("Connect") is None


def test_hold_announces_position_and_expected_wait_then_loops() -> None:
    root = xml(render_hold([], position=3, expected_wait=250, language="en", hold_url="https://h/hold",
                           settings=make_settings()))
    assert [e.tag for e in root] == ["Say", "Play", "Redirect"]
    assert root[0].text == "You are number 3 in the queue. The expected wait is about 4 minutes. Please hold."
    ringing = xml(render_hold([], position=0, expected_wait=0, language="ko", hold_url="https://h/hold",
                              settings=make_settings()))
    assert [e.tag for e in ringing] == ["Play", "Redirect"]


def test_dial_sip_with_recording_and_client_without() -> None:
    root = xml(render_dial([], target=AgentTarget("sip", "sip:1001@pbx"), language="ko", action_url="A",
                           agent_status_url="S", recording_url="R", settings=make_settings()))
    dial = root.find("Dial")
    assert dial is not None and dial.get("timeout") == "20" and dial.get("answerOnBridge") == "true"
    assert (dial.get("record"), dial.get("recordingStatusCallback")) == ("record-from-answer-dual", "R")
    sip = dial.find("Sip")
    assert sip is not None and (sip.text, sip.get("statusCallbackEvent")) == ("sip:1001@pbx", "answered")
    client = xml(render_dial([], target=AgentTarget("client", "bob"), language="zh", action_url="A",
                             agent_status_url="S", recording_url=None, settings=make_settings()))
    assert client.find("Dial").get("record") is None  # type: ignore[union-attr]
    assert client.find("Dial/Client/Identity").text == "bob"  # type: ignore[union-attr]
    assert client.find("Say").get("language") == "zh-CN"  # type: ignore[union-attr]


def test_barge_in_streams_during_the_prompts() -> None:
    settings = dataclasses.replace(make_settings(), speech_barge_in=True)
    speech = SpeechSpec("ko", ("예약",), timeout=4)
    keys = xml(render_gather(HELLO[:1], digits=DigitSpec(), speech=speech, barge_in=True, urls=URLS,
                             settings=settings))
    assert [e.tag for e in keys] == ["Start", "Gather"]
    assert keys.find("Start/Stream").get("name") == "q3"  # type: ignore[union-attr]
    assert keys.find("Gather").get("timeout") == "4"  # type: ignore[union-attr]
    voice_only = xml(render_gather(HELLO[:1], digits=None, speech=speech, barge_in=True, urls=URLS,
                                   settings=settings))
    assert [e.tag for e in voice_only] == ["Start", "Say", "Pause", "Redirect"]
    assert voice_only.find("Pause").get("length") == "4"  # type: ignore[union-attr]
    no_barge = xml(render_gather(HELLO[:1], digits=None, speech=speech, barge_in=False, urls=URLS,
                                 settings=settings))
    assert [e.tag for e in no_barge] == ["Say", "Connect", "Redirect"]  # the node forbids barge-in
