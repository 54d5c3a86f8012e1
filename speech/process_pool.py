"""`ivr.speech.Recognizer` over several recognizer processes: every core decodes.

One Python process decodes on one core at a time for the parts that hold the GIL (the voice
detector, the Vosk binding's bookkeeping), so many callers at once saturate a core while the
others idle. `open_process_recognizer(settings, processes=N)` starts N worker processes
(speech/pool_worker.py), each with its own copy of the models, and gives each new session to
the worker with the fewest open sessions. A session's requests go over that worker's
socketpair and are answered in order (framing: speech/pool_protocol.py); the event loop only
moves bytes.

    async with open_process_recognizer(settings, processes=2) as recognizer:
        session = recognizer.session("ko", ["예약", "환불"])
        result = await session.feed(frame)      # as with VoskRecognizer

Every request waits at most `step_timeout` (plus a second for the hand-off), then raises
`SpeechTimeout`. A worker that dies fails its open sessions with `SpeechError` (the IVR then
asks by keys) and is started again in the background; new sessions go to the live ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ivr.speech import Recognition
from speech import errors
from speech.errors import ModelError, SessionClosed, SpeechError, SpeechTimeout
from speech.pool_protocol import Decoder, FramingError, encode
from speech.pool_worker import main as worker_main
from speech.settings import SpeechSettings

log = logging.getLogger("hotline.speech.pool")
_sids = itertools.count(1)
# Until the worker has heard voice start, audio goes to it in pieces of 60 ms, not 20 ms:
# a third of the round trips over the line noise before an answer (each costs both processes
# a wake-up and two system calls); barge-in is seen at most 40 ms later. The first frame goes
# at once (a grammar the worker refused fails the first feed), and once voice has started
# every frame does, so the end of speech is not delayed.
HOLD_BYTES = 960


class WorkerProcess:
    """The parent's end of one recognizer process."""

    def __init__(self, index: int, settings: SpeechSettings) -> None:
        self.index = index
        self.settings = settings
        self.process: BaseProcess | None = None
        self.pid = 0
        self.sessions = 0  # open sessions on this worker
        self.alive = False
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[tuple[Any, ...]]] = {}
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self, load_timeout: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=worker_main, args=(child, self.settings),
                                   name=f"hotline-speech-{self.index}", daemon=True)
        self.process.start()
        child.close()
        reader, self._writer = await _open(parent)
        try:
            ready = await asyncio.wait_for(_first(reader), load_timeout)
        except TimeoutError as exc:
            self.kill()
            raise ModelError(f"speech worker {self.index} did not load its models within {load_timeout} s") from exc
        if ready is None or ready[0] != "ready":
            self.kill()
            raise ModelError(f"speech worker {self.index} failed: {ready[1] if ready else 'exited'}")
        self.pid = ready[2]
        self.alive = True
        self._reader_task = asyncio.get_running_loop().create_task(self._read(reader))

    async def request(self, sid: int, message: tuple[Any, ...], within: float) -> tuple[Any, ...]:
        if not self.alive or self._writer is None:
            raise SpeechError("the speech worker is gone")
        fut: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()
        self._pending[sid] = fut
        try:
            self._writer.write(encode(message))
            return await asyncio.wait_for(fut, within)
        except TimeoutError as exc:
            raise SpeechTimeout(f"speech worker {self.index} took over {within} s") from exc
        finally:
            if self._pending.get(sid) is fut:
                del self._pending[sid]

    def send(self, message: tuple[Any, ...]) -> None:
        if self.alive and self._writer is not None:
            self._writer.write(encode(message))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        decoder = Decoder()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for message in decoder.feed(data):
                    fut = self._pending.get(message[1]) if len(message) > 1 else None
                    if fut is not None and not fut.done():
                        fut.set_result(message)
        except (FramingError, ConnectionError) as exc:
            log.error("speech worker %s: %s", self.index, exc)
        finally:
            self.alive = False
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(SpeechError(f"speech worker {self.index} (pid {self.pid}) exited"))

    async def stop(self, within: float = 10.0) -> None:
        if self.alive:
            self.send(("stop",))
        if self._writer is not None:
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(self._writer.drain(), within)
        if self.process is not None:
            process = self.process
            await asyncio.to_thread(process.join, within)
            if process.is_alive():
                self.kill()
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task

    def kill(self) -> None:
        self.alive = False
        if self.process is not None and self.process.is_alive():
            self.process.kill()


async def _open(conn: Connection) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    return await asyncio.open_unix_connection(sock=sock)


async def _first(reader: asyncio.StreamReader) -> tuple[Any, ...] | None:
    decoder = Decoder()
    while True:
        data = await reader.read(65536)
        if not data:
            return None
        messages = decoder.feed(data)
        if messages:  # the worker says nothing more until asked
            return messages[0]


class PooledSession:
    """One utterance on a worker (`ivr.speech.SpeechSession`)."""

    def __init__(self, owner: ProcessPoolRecognizer, worker: WorkerProcess, language: str,
                 grammar: tuple[str, ...] | None) -> None:
        self._owner = owner
        self._worker = worker
        self._sid = next(_sids)
        self._started = False
        self._result: Recognition | None = None
        self._closed = False
        self._held = bytearray()  # audio not sent yet (no voice so far)
        self._fed = False  # the first frame goes at once: a failed open shows at once
        self._lock = asyncio.Lock()
        worker.sessions += 1
        worker.send(("open", self._sid, language, grammar))

    def speech_started(self) -> bool:
        return self._started

    async def feed(self, pcm: bytes) -> Recognition | None:
        if self._closed or self._result is not None:
            raise SessionClosed("this speech session already has its result or is closed")
        if len(pcm) % 2:
            raise SpeechError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
        self._held += pcm
        if not self._started and self._fed and len(self._held) < HOLD_BYTES:
            return None
        self._fed = True
        async with self._lock:
            return await self._send_held()

    async def finish(self) -> Recognition:
        if self._result is not None:
            return self._result
        if self._closed:
            raise SessionClosed("this speech session is closed")
        async with self._lock:
            if self._result is None and self._held:
                await self._send_held()
            if self._result is None:
                reply = await self._ask(("finish", self._sid))
                self._result = reply[2]
        assert self._result is not None
        return self._result

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.sessions -= 1
        async with self._lock:
            with contextlib.suppress(SpeechError):
                await self._ask(("close", self._sid))

    async def __aenter__(self) -> PooledSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send_held(self) -> Recognition | None:
        if not self._held:  # sent with an earlier frame while this one waited for the lock
            return self._result
        pcm = bytes(self._held)
        self._held.clear()
        reply = await self._ask(("feed", self._sid, pcm))
        self._started = bool(reply[2])
        result: Recognition | None = reply[3]
        if result is not None:
            self._result = result
        return result

    async def _ask(self, message: tuple[Any, ...]) -> tuple[Any, ...]:
        reply = await self._worker.request(self._sid, message, self._owner.settings.step_timeout + 1.0)
        if reply[0] == "error":
            kind = getattr(errors, str(reply[2]), SpeechError)
            if not (isinstance(kind, type) and issubclass(kind, SpeechError)):
                kind = SpeechError
            raise kind(str(reply[3]))
        return reply


class ProcessPoolRecognizer:
    """The recognizer the adapters get; build it with `open_process_recognizer`."""

    def __init__(self, settings: SpeechSettings, workers: Sequence[WorkerProcess]) -> None:
        self.settings = settings
        self.workers = list(workers)
        self._languages = tuple(settings.models)
        self._restarts: set[asyncio.Task[None]] = set()

    @property
    def confidence_threshold(self) -> float:
        return self.settings.confidence_threshold

    def accepts(self, recognition: Recognition) -> bool:
        return bool(recognition.text) and recognition.confidence >= self.confidence_threshold

    def languages(self) -> Sequence[str]:
        return self._languages

    def session(self, language: str, grammar: Sequence[str] | None) -> PooledSession:
        if language not in self._languages:
            raise SpeechError(f"no speech model for language {language!r} (configured: {sorted(self._languages)})")
        for worker in self.workers:
            if not worker.alive:
                self._restart(worker)
        live = [w for w in self.workers if w.alive]
        if not live:
            raise SpeechError("no speech worker is running")
        worker = min(live, key=lambda w: w.sessions)
        return PooledSession(self, worker, language, None if grammar is None else tuple(grammar))

    def _restart(self, worker: WorkerProcess) -> None:
        if any(t.get_name() == f"restart-{worker.index}" for t in self._restarts):
            return

        async def restart() -> None:
            await worker.stop(within=1.0)
            try:
                await worker.start(load_timeout=300.0)
                log.warning("speech worker %s restarted (pid %s)", worker.index, worker.pid)
            except ModelError as exc:
                log.error("speech worker %s could not restart: %s", worker.index, exc)

        task = asyncio.get_running_loop().create_task(restart(), name=f"restart-{worker.index}")
        self._restarts.add(task)
        task.add_done_callback(self._restarts.discard)

    async def close(self) -> None:
        for task in list(self._restarts):
            task.cancel()
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)


@asynccontextmanager
async def open_process_recognizer(
    settings: SpeechSettings, *, processes: int = 2, load_timeout: float = 300.0
) -> AsyncIterator[ProcessPoolRecognizer]:
    """Start `processes` recognizer processes (models loaded in each, in parallel), yield the
    recognizer, stop them on exit."""
    if not settings.models:
        raise ModelError("speech: no models configured (speech.models)")
    workers = [WorkerProcess(i, settings) for i in range(max(1, processes))]
    try:
        await asyncio.gather(*(w.start(load_timeout) for w in workers))
        log.info("speech: %d recognizer processes (pids %s)", len(workers), ", ".join(str(w.pid) for w in workers))
        recognizer = ProcessPoolRecognizer(settings, workers)
        yield recognizer
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
