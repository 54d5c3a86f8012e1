"""Media Stream messages and the listening logic, on bytes and a scripted speech session."""

from __future__ import annotations

import base64
import json

import pytest

from ivr.channel import DigitSpec, InputKind, SpeechSpec
from ivr.speech import Recognition
from speech.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from twilio_gateway.mediastream import (
    Connected,
    Dtmf,
    Listener,
    Media,
    Start,
    Stop,
    StreamProtocolError,
    parse_message,
)

from .fakes import ScriptedSpeech

FRAME = b"\xff" * 160  # 20 ms of mu-law silence


def media(payload: bytes, ts: int = 0) -> str:
    return json.dumps({"event": "media", "sequenceNumber": "3", "streamSid": "MZ1",
                       "media": {"track": "inbound", "chunk": "1", "timestamp": str(ts),
                                 "payload": base64.b64encode(payload).decode()}})


def test_parses_twilio_messages() -> None:
    assert parse_message('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == Connected("Call")
    start = parse_message(json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
        "start": {"streamSid": "MZ1", "accountSid": "AC1", "callSid": "CA9", "tracks": ["inbound"],
                  "customParameters": {"call": "CA9", "step": "3"},
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
    }))
    assert start == Start("MZ1", "CA9", {"call": "CA9", "step": "3"}, "audio/x-mulaw", 8000)
    assert parse_message(media(b"\x01\x02", 40)) == Media(b"\x01\x02", 40, "inbound")
    assert parse_message('{"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "5"}}') == Dtmf("5")
    assert parse_message('{"event": "stop", "stop": {"callSid": "CA9"}}') == Stop("CA9")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"event": "media"}',
        '{"event": "media", "media": {"payload": "***"}}',
        '{"event": "start", "start": {"streamSid": "MZ"}}',
        '{"event": "dtmf", "dtmf": {"digit": "55"}}',
        '{"event": "dtmf", "dtmf": {"digit": "x"}}',
        '{"event": "teleport"}',
        b"\xff\xfe",
    ],
)
def test_rejects_malformed_messages(text: str | bytes) -> None:
    with pytest.raises(StreamProtocolError):
        parse_message(text)


SPEECH = SpeechSpec(language="ko", grammar=("예약", "환불"), timeout=1.0, max_duration=2.0)


async def test_recognized_phrase_is_the_answer_and_audio_is_decoded() -> None:
    session = ScriptedSpeech(Recognition("환불", 1.0), start_after=5, answer_after=30)
    listener = Listener(session, SPEECH, None)
    tone = pcm16_to_ulaw(b"\x00\x10" * 160)
    answers = [await listener.media(tone) for _ in range(30)]
    assert answers[:29] == [None] * 29
    last = answers[29]
    assert last is not None and last.kind is InputKind.SPEECH
    assert last.recognition == Recognition("환불", 1.0)
    assert session.fed[0] == ulaw_to_pcm16(tone) and len(session.fed[0]) == 320  # decoded PCM


async def test_silence_until_the_timeout_in_audio_time_is_no_input() -> None:
    session = ScriptedSpeech(Recognition("예약", 1.0), start_after=None, answer_after=None)
    listener = Listener(session, SPEECH, None)
    answers = [await listener.media(FRAME) for _ in range(50)]  # 1.0 s of audio
    assert answers[:49] == [None] * 49
    assert answers[49] is not None and answers[49].kind is InputKind.NONE


async def test_speech_longer_than_max_duration_is_cut_and_finished() -> None:
    session = ScriptedSpeech(Recognition("예약", 0.97), start_after=1, answer_after=None)
    listener = Listener(session, SPEECH, None)
    answer = None
    frames = 0
    while answer is None:
        answer = await listener.media(FRAME)
        frames += 1
    assert session.finished and frames == 101  # speech from frame 1, then 2.0 s
    assert answer.recognition == Recognition("예약", 0.97)


async def test_keys_on_the_stream_answer_a_dtmf_question() -> None:
    listener = Listener(None, None, DigitSpec(max_digits=3, timeout=5, inter_digit_timeout=1.0))
    assert listener.dtmf("1") is None
    assert listener.dtmf("2") is None
    answer = listener.dtmf("3")
    assert answer is not None and answer.digits == "123"

    short = Listener(None, None, DigitSpec(max_digits=6, inter_digit_timeout=1.0))
    short.dtmf("4")
    assert short.dtmf("#") is not None and (await short.end()).digits == "4"
    pause = Listener(None, None, DigitSpec(max_digits=6, inter_digit_timeout=0.1))
    pause.dtmf("9")
    results = [await pause.media(FRAME) for _ in range(5)]
    assert results[:4] == [None] * 4 and results[4] is not None and results[4].digits == "9"


async def test_stream_ending_early_decides_with_what_was_heard() -> None:
    heard = ScriptedSpeech(Recognition("예약", 1.0), start_after=1, answer_after=None)
    listener = Listener(heard, SPEECH, None)
    await listener.media(FRAME)
    assert (await listener.end()).recognition == Recognition("예약", 1.0)
    silent = Listener(ScriptedSpeech(Recognition("", 0.0), None, None), SPEECH, None)
    await silent.media(FRAME)
    assert (await silent.end()).kind is InputKind.NONE
