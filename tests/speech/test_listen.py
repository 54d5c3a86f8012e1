from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ivr.speech import Recognition
from speech.listen import decode_ulaw, listen
from speech.mulaw import ULAW_FRAME_BYTES
from speech.recognizer import VoskRecognizer

from .conftest import FIXTURES, GRAMMAR, clip, frames


async def ulaw_stream(name: str) -> AsyncIterator[bytes]:
    """What a Twilio Media Stream delivers: 160-byte mu-law payloads."""
    data = (FIXTURES / name).read_bytes()
    for frame in frames(data, ULAW_FRAME_BYTES):
        yield frame


async def test_listen_to_a_mulaw_stream_with_barge_in(recognizer: VoskRecognizer) -> None:
    barged: list[bool] = []
    async with recognizer.session("ko", GRAMMAR) as session:
        result = await listen(
            session,
            decode_ulaw(ulaw_stream("lead_sangdamwon.ulaw")),
            no_input=5.0,
            max_duration=10.0,
            on_speech=lambda: barged.append(True),
        )
    assert result.text == "상담원"
    assert barged == [True]


async def test_no_voice_within_the_no_input_time(recognizer: VoskRecognizer) -> None:
    async with recognizer.session("ko", GRAMMAR) as session:
        # The clip has two seconds of line noise before the voice.
        result = await listen(
            session, decode_ulaw(ulaw_stream("lead_hwanbul.ulaw")), no_input=1.0, max_duration=10.0
        )
        assert result.text == "" and not session.speech_started()


async def test_max_duration_cuts_the_utterance(recognizer: VoskRecognizer) -> None:
    c = clip("oom_nalssi_ko.ulaw")  # a sentence of about 1.5 s
    async with recognizer.session("ko", GRAMMAR) as session:
        result = await listen(
            session, decode_ulaw(ulaw_stream(c.file)), no_input=5.0, max_duration=c.speech_start + 0.5
        )
    assert result.text  # what was heard until the cut, forced onto the grammar


class FakeSession:
    """A speech session that never ends by itself; records what it was fed."""

    def __init__(self, started_after: int) -> None:
        self.fed: list[bytes] = []
        self.started_after = started_after
        self.finished = False

    async def feed(self, pcm: bytes) -> Recognition | None:
        self.fed.append(pcm)
        return None

    def speech_started(self) -> bool:
        return len(self.fed) >= self.started_after

    async def finish(self) -> Recognition:
        self.finished = True
        return Recognition(text="예약", confidence=0.5)

    async def close(self) -> None:
        pass


async def test_a_stalled_stream_ends_listening_without_waiting_forever() -> None:
    stall = asyncio.Event()

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield bytes(320)
        await stall.wait()  # the carrier stops sending audio
        yield bytes(320)

    session = FakeSession(started_after=3)
    result = await listen(session, stream(), no_input=5.0, max_duration=10.0, frame_timeout=0.1)
    assert session.finished and result.text == "예약"
    assert len(session.fed) == 10


async def test_end_of_stream_before_voice_is_no_input() -> None:
    async def stream() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield bytes(320)

    session = FakeSession(started_after=100)
    result = await listen(session, stream(), no_input=5.0, max_duration=10.0)
    assert result.text == "" and not session.finished
