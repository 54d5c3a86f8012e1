"""The AudioSocket server: Asterisk connects for each `AudioSocket(<uuid>,host:port)`.

The asyncio side only moves bytes: `asterisk.audiosocket.AudioSocketParser` frames them. A
connection's first message is the call's UUID (Hotline made it up and `expect`ed it); the
connection is then handed, as an `AudioStream`, to whoever waits for that UUID. A connection
whose UUID nobody expects, or that sends no id within `id_timeout`, is closed.

    stream_future = server.expect(call_uuid)    # before running AudioSocket on the channel
    stream = await asyncio.wait_for(stream_future, 5)
    message = await stream.read()               # audio / DTMF / None once Asterisk hung up
    stream.send_audio(pcm)                      # played to the caller (16-bit 8 kHz)
    await stream.close()                        # hangup message: AudioSocket() returns 0
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque

from asterisk import audiosocket
from asterisk.audiosocket import AudioSocketError, AudioSocketParser, Message

log = logging.getLogger("hotline.asterisk.audiosocket")


class AudioStream:
    """One AudioSocket connection after its id message."""

    def __init__(self, call_uuid: uuid.UUID, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 parser: AudioSocketParser, backlog: deque[Message]) -> None:
        self.call_uuid = call_uuid
        self._reader = reader
        self._writer = writer
        self._parser = parser
        self._backlog = backlog
        self.ended = False  # Asterisk hung up or closed the socket
        self.closed = False
        self.error: int | None = None  # the code of an error message from Asterisk

    def pending(self) -> int:
        """Messages already read and waiting (audio that arrived while the reader was busy)."""
        return len(self._backlog)

    def peek(self) -> Message | None:
        return self._backlog[0] if self._backlog else None

    def read_nowait(self) -> Message | None:
        return self._backlog.popleft() if self._backlog else None

    async def read(self) -> Message | None:
        """The next audio or DTMF message; None once the call's audio has ended."""
        while not self._backlog:
            if self.ended:
                return None
            try:
                data = await self._reader.read(65536)
            except (ConnectionError, OSError):
                data = b""
            if not data:
                self.ended = True
                return None
            try:
                messages = self._parser.feed(data)
            except AudioSocketError as exc:
                log.warning("AudioSocket %s: %s; closing", self.call_uuid, exc)
                self.ended = True
                return None
            for message in messages:
                if message.kind == audiosocket.HANGUP:
                    self.ended = True
                elif message.kind == audiosocket.ERROR:
                    self.error = message.payload[0] if message.payload else 0
                    log.warning("AudioSocket %s: error 0x%02x from Asterisk", self.call_uuid, self.error)
                else:
                    self._backlog.append(message)
        return self._backlog.popleft()

    def send_audio(self, pcm: bytes) -> None:
        if not self.closed and not self._writer.is_closing():
            self._writer.write(audiosocket.audio(pcm))

    async def drain(self, within: float = 5.0) -> None:
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self._writer.drain(), within)

    async def close(self, within: float = 5.0) -> None:
        """Send the hangup message (Asterisk's AudioSocket() then returns 0 and the dialplan,
        or the AGI command, goes on) and close the socket."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            if not self._writer.is_closing():
                self._writer.write(audiosocket.hangup())
                await asyncio.wait_for(self._writer.drain(), within)
            self._writer.close()
            await asyncio.wait_for(self._writer.wait_closed(), within)


class AudioSocketServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, id_timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.id_timeout = id_timeout
        self.accepted = 0
        self.rejected = 0  # no id in time, not AudioSocket, or nobody expected that UUID
        self._expected: dict[uuid.UUID, asyncio.Future[AudioStream]] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._streams: set[AudioStream] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("AudioSocket listening on %s:%s", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for fut in self._expected.values():
            fut.cancel()
        self._expected.clear()
        for stream in list(self._streams):
            await stream.close(within=1.0)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    def expect(self, call_uuid: uuid.UUID) -> asyncio.Future[AudioStream]:
        """A future for the connection that will announce `call_uuid`; cancel it (or call
        `forget`) if the channel never connects."""
        fut: asyncio.Future[AudioStream] = asyncio.get_running_loop().create_future()
        self._expected[call_uuid] = fut
        fut.add_done_callback(lambda _: self._expected.pop(call_uuid, None) if self._expected.get(call_uuid) is fut
                              else None)
        return fut

    def forget(self, stream: AudioStream) -> None:
        self._streams.discard(stream)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            stream = await self._open(reader, writer)
            if stream is None:
                self.rejected += 1
                writer.close()
                return
            fut = self._expected.get(stream.call_uuid)
            if fut is None or fut.done():
                self.rejected += 1
                log.warning("AudioSocket connection for unknown call %s refused", stream.call_uuid)
                await stream.close(within=1.0)
                return
            self.accepted += 1
            self._streams.add(stream)
            fut.set_result(stream)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _open(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AudioStream | None:
        parser = AudioSocketParser()
        backlog: deque[Message] = deque()

        async def first() -> Message | None:
            while not backlog:
                data = await reader.read(4096)
                if not data:
                    return None
                backlog.extend(parser.feed(data))
            return backlog.popleft()

        try:
            message = await asyncio.wait_for(first(), self.id_timeout)
        except (TimeoutError, AudioSocketError, ConnectionError, OSError) as exc:
            log.warning("AudioSocket connection dropped before its id: %s", exc or type(exc).__name__)
            return None
        if message is None or message.kind != audiosocket.ID:
            log.warning("AudioSocket connection began with %s, not an id", message.name if message else "nothing")
            return None
        return AudioStream(message.call_uuid, reader, writer, parser, backlog)
