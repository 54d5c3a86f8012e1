"""Recognition in recognizer processes (speech/process_pool.py): two real worker processes
with the Korean model each, the same results as in-process, sessions spread over the workers,
a dead worker failing only its own sessions and being started again."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ivr.speech import Recognition
from speech.errors import SessionClosed, SpeechError
from speech.process_pool import ProcessPoolRecognizer, open_process_recognizer
from tests.speech.conftest import GRAMMAR, SETTINGS, clip, frames

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pool() -> AsyncIterator[ProcessPoolRecognizer]:
    async with open_process_recognizer(SETTINGS, processes=2) as recognizer:
        yield recognizer


async def recognize(pool: ProcessPoolRecognizer, name: str) -> tuple[Recognition, bool]:
    session = pool.session("ko", GRAMMAR)
    try:
        result = None
        for frame in frames(clip(name).pcm()):
            result = await session.feed(frame)
            if result is not None:
                break
        return (result or await session.finish()), session.speech_started()
    finally:
        await session.close()


async def test_keywords_are_recognized_in_worker_processes(pool: ProcessPoolRecognizer) -> None:
    assert len({w.pid for w in pool.workers}) == 2 and os.getpid() not in {w.pid for w in pool.workers}
    for name, word in (("kw_yeyak_ko_150.ulaw", "예약"), ("kw_hwanbul_ko_175.ulaw", "환불")):
        result, started = await recognize(pool, name)
        assert result.text == word and pool.accepts(result), (name, result)
        assert started


async def test_simultaneous_sessions_spread_over_the_workers(pool: ProcessPoolRecognizer) -> None:
    sessions = [pool.session("ko", GRAMMAR) for _ in range(4)]
    try:
        assert sorted(w.sessions for w in pool.workers) == [2, 2]
        pcm = clip("kw_sangdamwon_ko_150.ulaw").pcm()

        async def run(session: object) -> Recognition:
            assert hasattr(session, "feed")
            for frame in frames(pcm):
                result = await session.feed(frame)
                if result is not None:
                    return result
            return await session.finish()  # type: ignore[no-any-return]

        results = await asyncio.gather(*(run(s) for s in sessions))
        assert [r.text for r in results] == ["상담원"] * 4
    finally:
        for s in sessions:
            await s.close()
    assert [w.sessions for w in pool.workers] == [0, 0]
    with pytest.raises(SessionClosed):
        await sessions[0].feed(bytes(320))


async def test_unknown_language_and_bad_grammar_raise_speech_errors(pool: ProcessPoolRecognizer) -> None:
    with pytest.raises(SpeechError):
        pool.session("xx", ["a"])
    session = pool.session("ko", ["zzqx"])  # no word of it in the model: GrammarError in the worker
    with pytest.raises(SpeechError):
        await session.feed(bytes(320))
    await session.close()


async def test_a_dead_worker_fails_its_sessions_and_is_started_again(pool: ProcessPoolRecognizer) -> None:
    session = pool.session("ko", GRAMMAR)
    await session.feed(bytes(320))
    victim = next(w for w in pool.workers if w.sessions == 1)
    old_pid = victim.pid
    os.kill(old_pid, signal.SIGKILL)
    with pytest.raises(SpeechError):
        for _ in range(500):  # until the parent sees the worker's socket close
            await session.feed(bytes(320))
    await session.close()
    other = pool.session("ko", GRAMMAR)  # goes to the live worker; the dead one restarts
    assert other._worker is not victim
    await other.close()
    restart = next(iter(pool._restarts))
    await asyncio.wait_for(restart, 300)
    assert victim.alive and victim.pid != old_pid
    result, _ = await recognize(pool, "kw_yeyak_ko_150.ulaw")
    assert result.text == "예약"

