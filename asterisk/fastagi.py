"""FastAGI server: Asterisk connects for each call that runs `AGI(agi://host:port/script)`.

The asyncio side only moves bytes: `AgiParser` frames them. A session reads the environment
block to its blank line (however the bytes are chunked), then sends one command at a time and
waits for its reply, noting an unprompted `HANGUP` line and still reading the reply of the
command in flight (Asterisk answers it, often with `511`). Every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from asterisk.agi_parser import (
    AgiEnvironment,
    AgiFramingError,
    AgiHangup,
    AgiMessage,
    AgiParser,
    AgiReply,
)
from asterisk.errors import AsteriskError

log = logging.getLogger("hotline.asterisk.agi")


class AgiError(AsteriskError):
    pass


class AgiConnectionClosed(AgiError):
    """Asterisk closed the FastAGI socket (the call is gone)."""


class AgiTimeout(AgiError):
    pass


class AgiCommandError(AgiError):
    def __init__(self, command: str, reply: AgiReply) -> None:
        super().__init__(f"{command.split(' ', 1)[0]}: {reply.text}")
        self.command = command
        self.reply = reply


class AgiDeadChannel(AgiCommandError):
    """511: the channel hung up."""


class AgiUnknownCommand(AgiCommandError):
    """510."""


class AgiUsageError(AgiCommandError):
    """520: wrong arguments; `reply.text` holds Asterisk's usage text."""


_ERRORS: dict[int, type[AgiCommandError]] = {511: AgiDeadChannel, 510: AgiUnknownCommand, 520: AgiUsageError}


class AgiSession:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: AgiEnvironment,
        parser: AgiParser,
        backlog: deque[AgiMessage],
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.env = env
        self.hung_up = False  # Asterisk sent HANGUP
        self.closed = False
        self._parser = parser
        self._backlog = backlog

    @property
    def script(self) -> str:
        """The script name of the AGI URL (`agi://host:port/<script>?key=...`), without the query."""
        return self.env.get("network_script").partition("?")[0]

    @property
    def params(self) -> dict[str, str]:
        """The query of the AGI URL (`?key=...`): Asterisk sends it in `agi_network_script`."""
        return dict(parse_qsl(self.env.get("network_script").partition("?")[2], keep_blank_values=True))

    async def command(self, line: str, *, within: float = 10.0) -> AgiReply:
        """Send one command and return its 200 reply; 510/511/520 raise `AgiCommandError`s."""
        if self.closed:
            raise AgiConnectionClosed(f"{line.split(' ', 1)[0]}: session closed")
        if "\n" in line or "\r" in line:
            raise ValueError("an AGI command is one line")
        try:
            self.writer.write(line.encode("utf-8") + b"\n")
            reply = await asyncio.wait_for(self._reply(), within)
        except TimeoutError as exc:
            raise AgiTimeout(f"{line.split(' ', 1)[0]}: no reply in {within} s") from exc
        except (ConnectionError, OSError) as exc:
            self.closed = True
            raise AgiConnectionClosed(str(exc)) from exc
        error = _ERRORS.get(reply.code)
        if error is not None:
            if reply.code == 511:
                self.hung_up = True
            raise error(line, reply)
        if reply.code != 200:
            raise AgiCommandError(line, reply)
        return reply

    async def _reply(self) -> AgiReply:
        while True:
            while self._backlog:
                msg = self._backlog.popleft()
                if isinstance(msg, AgiHangup):
                    self.hung_up = True
                elif isinstance(msg, AgiReply):
                    return msg
            data = await self.reader.read(4096)
            if not data:
                self.closed = True
                raise AgiConnectionClosed("Asterisk closed the FastAGI connection")
            try:
                self._backlog.extend(self._parser.feed(data))
            except AgiFramingError as exc:
                self.closed = True
                raise AgiConnectionClosed(f"unframeable reply: {exc}") from exc

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()


SessionHandler = Callable[[AgiSession], Awaitable[None]]


class FastAgiServer:
    def __init__(
        self,
        handler: SessionHandler,
        host: str = "127.0.0.1",
        port: int = 4573,
        *,
        env_timeout: float = 5.0,
        max_sessions: int = 200,
        secret: str = "",
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.env_timeout = env_timeout
        self.max_sessions = max_sessions
        self.secret = secret
        self.sessions = 0  # sessions handled so far
        self.active = 0  # sessions open now (connections still reading their environment included)
        self.rejected = 0  # refused: no environment, over the cap, wrong secret
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI listening on %s:%s", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.active += 1
        try:
            if self.active > self.max_sessions:
                self.rejected += 1
                log.warning("FastAGI: %d sessions open (max_sessions); connection refused", self.active - 1)
                return
            session = await self._open(reader, writer)
            if session is None:
                self.rejected += 1
                return
            if self.secret and not hmac.compare_digest(session.params.get("key", ""), self.secret):
                self.rejected += 1
                log.warning("FastAGI session %s from %s refused: wrong or missing key in the AGI URL",
                            session.env.get("uniqueid"), writer.get_extra_info("peername"))
                await session.close()
                return
            self.sessions += 1
            try:
                await self.handler(session)
            except Exception:
                log.exception("FastAGI session %s failed", session.env.get("uniqueid"))
            finally:
                await session.close()
        finally:
            self.active -= 1
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _open(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> AgiSession | None:
        parser = AgiParser()
        backlog: deque[AgiMessage] = deque()

        async def read_env() -> AgiEnvironment | None:
            while True:
                data = await reader.read(4096)
                if not data:
                    return None
                for msg in parser.feed(data):
                    backlog.append(msg)
                if backlog and isinstance(backlog[0], AgiEnvironment):
                    env = backlog.popleft()
                    assert isinstance(env, AgiEnvironment)
                    return env

        try:
            env = await asyncio.wait_for(read_env(), self.env_timeout)
        except (TimeoutError, AgiFramingError, ConnectionError) as exc:
            log.warning("FastAGI connection dropped before its environment: %s", exc)
            return None
        if env is None:
            return None
        return AgiSession(reader, writer, env, parser, backlog)
