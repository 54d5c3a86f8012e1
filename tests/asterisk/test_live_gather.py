"""`live_gather` against an in-memory stream and a scripted session: what is fed when,
what the caller hears, and how silence ends the wait."""

from __future__ import annotations

import asyncio

from asterisk import audiosocket
from asterisk.live_gather import FRAME, live_gather
from ivr.channel import DigitSpec, InputKind, SpeechSpec
from ivr.speech import Recognition


class MemoryStream:
    """The AudioStream surface live_gather uses; the caller's frames come from a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[audiosocket.Message | None] = asyncio.Queue()
        self.sent = bytearray()
        self.closed = False
        self._backlog: list[audiosocket.Message] = []
        self.after: dict[int, bytes] = {}  # bytes sent by Hotline -> what the caller then says

    def caller(self, pcm: bytes) -> None:
        for i in range(0, len(pcm), FRAME):
            self.queue.put_nowait(audiosocket.Message(audiosocket.AUDIO, pcm[i : i + FRAME]))

    def pending(self) -> int:
        return len(self._backlog)

    def peek(self) -> audiosocket.Message | None:
        return self._backlog[0] if self._backlog else None

    def read_nowait(self) -> audiosocket.Message | None:
        return self._backlog.pop(0) if self._backlog else None

    async def read(self) -> audiosocket.Message | None:
        if self._backlog:
            return self._backlog.pop(0)
        return await self.queue.get()

    def send_audio(self, pcm: bytes) -> None:
        self.sent += pcm
        due = self.after.pop(len(self.sent), None)
        if due is not None:
            self.caller(due)


class ScriptedSession:
    """Voice is any non-zero frame; the result comes after `end` bytes of voice."""

    def __init__(self, end: int = 10 * FRAME) -> None:
        self.fed = bytearray()
        self.voice = 0
        self.end = end

    async def feed(self, pcm: bytes) -> Recognition | None:
        self.fed += pcm
        self.voice += sum(FRAME for i in range(0, len(pcm), FRAME) if any(pcm[i : i + FRAME]))
        return Recognition("예약", 1.0) if self.voice >= self.end else None

    def speech_started(self) -> bool:
        return self.voice >= 4 * FRAME

    async def finish(self) -> Recognition:
        return Recognition("", 0.0)

    async def close(self) -> None:
        return None


SPEC = SpeechSpec("ko", ("예약",), timeout=0.3, max_duration=5.0)
PROMPT = b"\x10\x10" * (FRAME // 2) * 20  # 0.4 s of prompt


async def test_without_barge_in_voice_over_the_prompt_is_not_heard() -> None:
    stream, session = MemoryStream(), ScriptedSession(end=4 * FRAME)
    stream.caller(b"\x01" * FRAME * 5)  # said at once, while the prompt plays: ignored
    result = await asyncio.wait_for(
        live_gather(stream, PROMPT, session, speech=SPEC, digits=None, barge_in=False), 10  # type: ignore[arg-type]
    )
    assert result.input.kind is InputKind.NONE and not result.barged_in
    assert bytes(stream.sent[: len(PROMPT)]) == PROMPT  # the whole prompt was sent
    assert not session.fed  # nothing of it reached the recognizer


async def test_with_barge_in_voice_stops_the_prompt_and_decides() -> None:
    stream, session = MemoryStream(), ScriptedSession()
    stream.caller(b"\x01" * FRAME * 12)
    result = await asyncio.wait_for(
        live_gather(stream, PROMPT * 10, session, speech=SPEC, digits=None), 10  # type: ignore[arg-type]
    )
    assert result.input.kind is InputKind.SPEECH and result.barged_in
    assert result.input.recognition is not None and result.input.recognition.text == "예약"
    assert len(stream.sent) < len(PROMPT * 10)  # the prompt was cut


async def test_a_key_collects_digits_on_the_stream_with_its_terminator() -> None:
    stream, session = MemoryStream(), ScriptedSession()
    for key in "12#":
        stream.queue.put_nowait(audiosocket.Message(audiosocket.DTMF, key.encode()))
    result = await asyncio.wait_for(
        live_gather(stream, PROMPT, session, speech=SPEC, digits=DigitSpec(max_digits=4)), 10  # type: ignore[arg-type]
    )
    assert (result.input.kind, result.input.digits) == (InputKind.DTMF, "12")


async def test_no_audio_at_all_after_the_prompt_is_no_input() -> None:
    stream, session = MemoryStream(), ScriptedSession()  # a phone that sends no RTP
    result = await asyncio.wait_for(
        live_gather(stream, PROMPT, session, speech=SPEC, digits=None), 10  # type: ignore[arg-type]
    )
    assert result.input.kind is InputKind.NONE


async def test_a_phone_silent_during_the_prompt_is_still_heard_after_it() -> None:
    """No RTP at all while the prompt plays (a SIPp caller, a phone with silence suppression);
    the caller answers 0.8 s after the prompt, within the 2 s no-input wait."""
    stream, session = MemoryStream(), ScriptedSession()
    stream.after[len(PROMPT) + 40 * FRAME] = b"\x01" * FRAME * 12
    spec = SpeechSpec("ko", ("예약",), timeout=2.0, max_duration=5.0)
    result = await asyncio.wait_for(
        live_gather(stream, PROMPT, session, speech=spec, digits=None), 10  # type: ignore[arg-type]
    )
    assert result.input.kind is InputKind.SPEECH and not result.barged_in
