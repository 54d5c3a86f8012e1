"""Driving a speech session from a call's audio: the loop every channel adapter needs.

    pcm = decode_ulaw(twilio_media_payloads)          # or Asterisk slin frames as they are
    result = await listen(session, pcm, no_input=5, max_duration=10, on_speech=stop_prompt)

Time is counted in audio fed (a live call delivers 20 ms of audio every 20 ms), so the
loop needs no clock; a stream that stalls for `frame_timeout` seconds of wall time ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from ivr.speech import Recognition, SpeechSession
from speech.mulaw import ulaw_to_pcm16

NO_INPUT = Recognition(text="", confidence=0.0)


async def decode_ulaw(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """mu-law frames (Twilio Media Streams, Asterisk ulaw) -> 16-bit PCM frames."""
    async for frame in frames:
        yield ulaw_to_pcm16(frame)


async def listen(
    session: SpeechSession,
    audio: AsyncIterator[bytes],
    *,
    no_input: float,
    max_duration: float,
    on_speech: Callable[[], None] | None = None,
    frame_timeout: float = 1.0,
    sample_rate: int = 8000,
) -> Recognition:
    """Feed 16-bit PCM from `audio` into `session` until it yields a result.

    - No voice within `no_input` seconds of audio: no input (empty text).
    - `max_duration` seconds of audio, the stream ending, or no frame for `frame_timeout`
      seconds: the result for what was heard so far (`session.finish()`).
    - `on_speech` is called once, when voice starts (barge-in: stop the prompt).
    The session is not closed here: its owner closes it.
    """
    bytes_per_second = sample_rate * 2
    fed = 0
    announced = False
    iterator = aiter(audio)
    while True:
        try:
            pcm = await asyncio.wait_for(anext(iterator), frame_timeout)
        except (StopAsyncIteration, TimeoutError):
            break
        result = await session.feed(pcm)
        fed += len(pcm)
        if result is not None:
            return result
        started = session.speech_started()
        if started and not announced:
            announced = True
            if on_speech is not None:
                on_speech()
        if not started and fed >= no_input * bytes_per_second:
            return NO_INPUT
        if fed >= max_duration * bytes_per_second:
            break
    if not session.speech_started():
        return NO_INPUT
    return await session.finish()
