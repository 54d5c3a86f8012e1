"""A recognizer process (speech/process_pool.py starts them): the Vosk adapter in its own
interpreter, serving sessions over a socketpair (framing: speech/pool_protocol.py).

Each worker loads the models itself (the first thing it does) and decodes on its own main
thread: the process is there to decode, so a step runs inline (`InlineExecutor`) instead of
being handed to a thread and back, which cost about 30 % per 20 ms frame. Requests of one
session are answered in order; sessions take turns on the worker's event loop. The parent
bounds every request with its own timeout (`speech.step_timeout`). It exits when the parent says "stop" or
its socket closes (the parent died), so no recognizer process outlives Hotline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from ivr.speech import SpeechError
from speech.pool_protocol import Decoder, FramingError, encode
from speech.recognizer import VoskRecognizer, VoskSession, load_source
from speech.settings import SpeechSettings

log = logging.getLogger("hotline.speech.worker")
T = TypeVar("T")


def main(conn: Connection, settings: SpeechSettings) -> None:
    """The process entry point."""
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(sock, replace(settings, threads=1)))


class InlineExecutor(ThreadPoolExecutor):
    """Runs each submitted call at once, on the calling thread (the worker's loop); no thread
    is ever started (the type is what VoskRecognizer takes)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever awaits the future, as a pool would
            future.set_exception(exc)
        return future


async def _main(sock: socket.socket, settings: SpeechSettings) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    try:
        models = {language: load_source(source) for language, source in settings.models.items()}
        recognizer = VoskRecognizer(settings, models, InlineExecutor())
        await recognizer.warm_up()
        writer.write(encode(("ready", tuple(recognizer.languages()), os.getpid())))
        await writer.drain()
        await Worker(recognizer, writer).serve(reader)
    except SpeechError as exc:
        writer.write(encode(("failed", str(exc))))
        with contextlib.suppress(ConnectionError):
            await writer.drain()
    finally:
        writer.close()


class _Session:
    def __init__(self, sid: int, session: VoskSession | None, error: SpeechError | None,
                 send: Any) -> None:
        self.sid = sid
        self.session = session
        self.error = error  # opening failed (unknown language, no grammar phrase in the model)
        self.send = send
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        while True:
            message = await self.queue.get()
            op = message[0]
            if op == "close":
                if self.session is not None:
                    with contextlib.suppress(SpeechError):
                        await self.session.close()
                self.send(("closed", self.sid))
                return
            if self.error is not None or self.session is None:
                error = self.error or SpeechError("no session")
                self.send(("error", self.sid, type(error).__name__, str(error)))
                continue
            try:
                if op == "feed":
                    result = await self.session.feed(message[2])
                    self.send(("fed", self.sid, self.session.speech_started(), result))
                elif op == "finish":
                    self.send(("finished", self.sid, await self.session.finish()))
            except SpeechError as exc:
                self.send(("error", self.sid, type(exc).__name__, str(exc)))


class Worker:
    def __init__(self, recognizer: VoskRecognizer, writer: asyncio.StreamWriter) -> None:
        self.recognizer = recognizer
        self.writer = writer
        self.sessions: dict[int, _Session] = {}

    def send(self, message: tuple[Any, ...]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(message))

    async def serve(self, reader: asyncio.StreamReader) -> None:
        decoder = Decoder()
        while True:
            data = await reader.read(65536)
            if not data:
                break
            try:
                messages = decoder.feed(data)
            except FramingError as exc:
                log.error("speech worker %s: %s; exiting", os.getpid(), exc)
                break
            for message in messages:
                if message[0] == "stop":
                    return await self._close_all()
                self._dispatch(message)
            await self.writer.drain()
        await self._close_all()

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        op, sid = message[0], message[1]
        if op == "open":
            session: VoskSession | None = None
            error: SpeechError | None = None
            try:
                session = self.recognizer.session(message[2], message[3])
            except SpeechError as exc:
                error = exc
            self.sessions[sid] = _Session(sid, session, error, self.send)
            return
        entry = self.sessions.get(sid)
        if entry is None:
            self.send(("error", sid, "SessionClosed", "no such session"))
            return
        entry.queue.put_nowait(message)
        if op == "close":
            del self.sessions[sid]

    async def _close_all(self) -> None:
        for entry in list(self.sessions.values()):
            entry.queue.put_nowait(("close", entry.sid))
        await asyncio.gather(*(e.task for e in self.sessions.values()), return_exceptions=True)
        self.sessions.clear()
