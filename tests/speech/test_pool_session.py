"""A recognizer-process session's traffic (speech/process_pool.py `PooledSession`), over a
hand-written stand-in for the worker: the first frame at once, audio before the voice in 60 ms
pieces, every frame once voice has started, and what is held back is sent before `finish`."""

from __future__ import annotations

from typing import Any

from ivr.speech import Recognition
from speech.process_pool import HOLD_BYTES, PooledSession, ProcessPoolRecognizer
from tests.speech.conftest import SETTINGS

FRAME = 320


class FakeWorker:
    """Answers like a worker: voice starts once `voice_at` bytes have arrived, the result comes
    with the request that brings the total to `result_at` bytes. Records every message."""

    def __init__(self, voice_at: int, result_at: int | None = None) -> None:
        self.voice_at = voice_at
        self.result_at = result_at
        self.sessions = 0
        self.sent: list[tuple[Any, ...]] = []
        self.requests: list[tuple[Any, ...]] = []
        self.heard = 0

    def send(self, message: tuple[Any, ...]) -> None:
        self.sent.append(message)

    async def request(self, sid: int, message: tuple[Any, ...], within: float) -> tuple[Any, ...]:
        self.requests.append(message)
        if message[0] == "finish":
            return ("finished", sid, Recognition("예약", 1.0))
        if message[0] == "close":
            return ("closed", sid)
        self.heard += len(message[2])
        done = self.result_at is not None and self.heard >= self.result_at
        return ("fed", sid, self.heard >= self.voice_at, Recognition("환불", 1.0) if done else None)


def session_on(worker: FakeWorker) -> PooledSession:
    owner = ProcessPoolRecognizer(SETTINGS, [])
    return PooledSession(owner, worker, "ko", ("예약", "환불"))  # type: ignore[arg-type]


async def test_audio_before_the_voice_goes_in_60_ms_pieces_then_every_frame() -> None:
    worker = FakeWorker(voice_at=13 * FRAME, result_at=20 * FRAME)
    session = session_on(worker)
    results = [await session.feed(bytes(FRAME)) for _ in range(20)]
    sizes = [len(m[2]) for m in worker.requests]
    assert HOLD_BYTES == 3 * FRAME
    assert sizes == [FRAME] + [HOLD_BYTES] * 4 + [FRAME] * 7  # voice heard with the 4th piece
    assert results[-1] == Recognition("환불", 1.0) and not any(results[:-1])
    assert session.speech_started()


async def test_finish_sends_the_audio_held_back_first() -> None:
    worker = FakeWorker(voice_at=10**9)
    session = session_on(worker)
    for _ in range(5):
        assert await session.feed(bytes(FRAME)) is None
    assert await session.finish() == Recognition("예약", 1.0)
    assert [(m[0], len(m[2]) if m[0] == "feed" else 0) for m in worker.requests] == [
        ("feed", FRAME), ("feed", HOLD_BYTES), ("feed", FRAME), ("finish", 0)
    ]
    await session.close()
    assert worker.requests[-1][0] == "close" and worker.sessions == 0


async def test_a_result_with_the_held_audio_is_what_finish_returns() -> None:
    worker = FakeWorker(voice_at=10**9, result_at=2 * FRAME)
    session = session_on(worker)
    assert await session.feed(bytes(FRAME)) is None  # sent: the first frame
    assert await session.feed(bytes(FRAME)) is None  # held
    assert await session.finish() == Recognition("환불", 1.0)
    assert [m[0] for m in worker.requests] == ["feed", "feed"]
