"""One `gather` over an AudioSocket stream: play the prompt, listen, barge in, decide.

The prompt goes out in 20 ms frames at real time (Asterisk writes each frame to the caller as
it comes, so the pace is ours); once it has been said, silence frames keep flowing, because
AudioSocket() gives up after 2 s without traffic either way. The caller's audio goes into the
speech session from the first frame (`barge_in`): when voice starts, the rest of the prompt is
dropped at once. A key (AudioSocket forwards DTMF) also stops the prompt and the digits are
collected on the same stream. No-input and the maximum duration count from the end of the
prompt (or from the barge-in), in audio time; a stream that stops delivering audio for
`gap` seconds of wall time counts as the caller falling silent.

Audio that queued up while the recognizer was busy is fed as one chunk (the session cuts it
into 20 ms frames itself), so a loaded recognizer catches up instead of falling behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from asterisk import audiosocket
from asterisk.audiosocket_server import AudioStream
from ivr.channel import CallerHangup, DigitSpec, Input, SpeechSpec
from ivr.speech import Recognition, SpeechSession

FRAME = 320  # 20 ms of 8 kHz 16-bit PCM
FRAME_SECONDS = 0.02
BYTES_PER_SECOND = 16000
SILENCE = bytes(FRAME)


@dataclass(frozen=True, slots=True)
class LiveResult:
    input: Input
    barged_in: bool = False  # voice (or a key) stopped the prompt
    decided_at: float = 0.0  # loop time of the decision (benchmarks: minus the voice's end)


class PromptPlayer:
    """Sends `pcm` to the stream one 20 ms frame per tick, then silence until `stop()`."""

    def __init__(self, stream: AudioStream, pcm: bytes, *, now: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.pcm = pcm
        self.now = now
        self.sent = 0  # bytes of the prompt sent
        self.done = asyncio.Event()  # the prompt was said (or dropped)
        self._task: asyncio.Task[None] | None = None
        if not pcm:
            self.done.set()

    @property
    def playing(self) -> bool:
        return not self.done.is_set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def drop_prompt(self) -> None:
        """Barge-in: the rest of the prompt is not said."""
        self.done.set()

    async def stop(self) -> None:
        self.done.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        start = self.now()
        tick = 0
        while not self.stream.closed:
            if self.playing:
                frame = self.pcm[self.sent : self.sent + FRAME]
                self.sent += len(frame)
                if self.sent >= len(self.pcm):
                    self.done.set()
                frame = frame.ljust(FRAME, b"\0")
            else:
                frame = SILENCE
            self.stream.send_audio(frame)
            tick += 1
            delay = start + tick * FRAME_SECONDS - self.now()
            if delay < -1.0:  # the loop stalled for a second: restart the schedule, no burst
                start, tick, delay = self.now(), 0, 0.0
            await asyncio.sleep(max(0.0, delay))


async def live_gather(
    stream: AudioStream,
    prompt: bytes,
    session: SpeechSession | None,
    *,
    speech: SpeechSpec | None,
    digits: DigitSpec | None,
    barge_in: bool = True,
    gap: float = 0.5,
    now: Callable[[], float] = time.monotonic,
) -> LiveResult:
    """Play `prompt` (16-bit 8 kHz PCM) and take the caller's answer from `stream`.

    `session` is the recognizer's session for `speech` (None: keys only). The session and the
    stream stay open: their owner closes them. Raises `CallerHangup` if the call's audio ends.
    """
    player = PromptPlayer(stream, prompt, now=now)
    player.start()
    try:
        return await _answer(stream, player, session, speech, digits, barge_in, gap, now)
    finally:
        await player.stop()


async def _answer(
    stream: AudioStream, player: PromptPlayer, session: SpeechSession | None, speech: SpeechSpec | None,
    digits: DigitSpec | None, barge_in: bool, gap: float, now: Callable[[], float],
) -> LiveResult:
    no_input = (speech.timeout if speech else digits.timeout if digits else 0.0) * BYTES_PER_SECOND
    max_audio = (speech.max_duration if speech else 0.0) * BYTES_PER_SECOND
    listened = 0  # bytes of audio since the prompt ended or the caller barged in
    barged = False
    heard = False
    while True:
        timeout = gap if heard else _wall_timeout(player, no_input - listened)
        playing = player.playing
        try:
            message = await asyncio.wait_for(stream.read(), timeout)
        except TimeoutError:
            if playing and not heard:  # the prompt was still on: the no-input wait starts now
                continue
            if heard and session is not None:
                return LiveResult(_speech(await session.finish()), barged, now())
            return LiveResult(Input.none(), barged, now())
        if message is None:
            raise CallerHangup("the caller hung up (AudioSocket closed)")
        if message.kind == audiosocket.DTMF:
            if digits is None or (player.playing and not barge_in):
                continue
            barged = barged or player.playing
            player.drop_prompt()
            return LiveResult(await _collect(stream, digits, message.digit), barged, now())
        if session is None or (player.playing and not barge_in):
            if not player.playing:
                listened += len(message.payload)
                if listened >= no_input:
                    return LiveResult(Input.none(), barged, now())
            continue
        pcm = _with_queued_audio(stream, message.payload)
        result = await session.feed(pcm)
        if result is not None:
            return LiveResult(_speech(result), barged, now())
        if session.speech_started() and not heard:
            heard = True
            if player.playing:
                barged = True
                player.drop_prompt()
        if not player.playing:
            listened += len(pcm)
        if not heard and listened >= no_input:
            return LiveResult(Input.none(), barged, now())
        if heard and listened >= max_audio:
            return LiveResult(_speech(await session.finish()), barged, now())


def _wall_timeout(player: PromptPlayer, remaining: float) -> float:
    """How long to wait for the next frame before taking the silence as no input (audio that
    stops coming, e.g. a phone that sends no RTP while quiet, still ends the wait)."""
    if player.playing:
        return 1.0  # then look again: the prompt may have ended meanwhile
    return max(0.5, remaining / BYTES_PER_SECOND + 0.5)


def _with_queued_audio(stream: AudioStream, pcm: bytes) -> bytes:
    """`pcm` and every audio frame already waiting behind it (stops at a key)."""
    chunks = [pcm]
    while stream.pending():
        nxt = stream.peek()
        if nxt is None or nxt.kind != audiosocket.AUDIO:
            break
        stream.read_nowait()
        chunks.append(nxt.payload)
    return b"".join(chunks)


def _speech(result: Recognition) -> Input:
    return Input.speech(result) if result.text else Input.none()


async def _collect(stream: AudioStream, spec: DigitSpec, first: str) -> Input:
    collected = ""
    key = first
    while key:
        if spec.terminator and key == spec.terminator:
            break
        collected += key
        if len(collected) >= spec.max_digits:
            break
        key = await _key(stream, spec.inter_digit_timeout)
    return Input.dtmf(collected) if collected else Input.none()


async def _key(stream: AudioStream, within: float) -> str:
    async def wait() -> str:
        while True:
            message = await stream.read()
            if message is None:
                raise CallerHangup("the caller hung up (AudioSocket closed)")
            if message.kind == audiosocket.DTMF:
                return message.digit

    try:
        return await asyncio.wait_for(wait(), within)
    except TimeoutError:
        return ""
