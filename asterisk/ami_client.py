"""The AMI connection: login, actions correlated by ActionID, EventList collection, events,
keepalive, reconnect with backoff and a resync hook run on every (re)connect.

Own asyncio code over `ami_parser` rather than panoramisk's Manager: panoramisk re-sends the
actions that were unanswered when the connection dropped (an Originate or Redirect would be
executed twice: duplicate routing), reconnects at a fixed interval without backoff, glues the
banner to the first message and decodes as ASCII, dropping UTF-8 caller names. Here an action
in flight when the link drops fails with `AmiNotConnected`; the resync decides what to redo.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from asterisk.ami_parser import AmiFramingError, AmiMessage, AmiParser, Kind, format_action
from asterisk.errors import (
    AmiActionError,
    AmiAuthError,
    AmiError,
    AmiNotAsterisk,
    AmiNotConnected,
    AmiTimeout,
)
from asterisk.settings import AmiSettings
from hotline.tls import client_ssl_context

log = logging.getLogger("hotline.asterisk.ami")

EventHandler = Callable[[AmiMessage], None]
ConnectHook = Callable[["AmiClient"], Awaitable[None]]


@dataclass
class ActionResult:
    response: AmiMessage
    items: list[AmiMessage] = field(default_factory=list)  # EventList items, in order
    complete: AmiMessage | None = None  # the `...Complete` event of a list


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[ActionResult]
    result: ActionResult | None = None


def _drop(task: asyncio.Task[None]) -> None:
    """Stop a task; its own exception (if it already ended) is not reported again."""
    task.cancel()
    if task.done() and not task.cancelled():
        task.exception()


class AmiClient:
    def __init__(
        self,
        settings: AmiSettings,
        on_event: EventHandler,
        *,
        on_connect: ConnectHook | None = None,
        ping_interval: float = 20.0,
    ) -> None:
        self.settings = settings
        self.on_event = on_event
        self.on_connect = on_connect
        self.ping_interval = ping_interval
        self.ready = asyncio.Event()  # logged in and resynchronised
        self.connections = 0  # successful logins so far
        self.last_error: Exception | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._logged_in = False
        self._session_logged_in = False
        self._banner: asyncio.Future[str | None] | None = None  # this connection's banner version

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="ami-connection")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if self._writer is not None and self._logged_in:
            with contextlib.suppress(AmiError):
                await self.action("Logoff", within=1.0)
        self._close_writer()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_ready(self, within: float) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), within)
        except TimeoutError as exc:
            raise AmiNotConnected(f"AMI not ready within {within} s: {self.last_error}") from exc

    async def _run(self) -> None:
        delay = self.settings.backoff_initial
        while not self._stopping:
            self._session_logged_in = False
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except AmiAuthError as exc:
                self.last_error = exc
                log.error("AMI login refused for user %r: %s", self.settings.username, exc)
            except (OSError, AmiError, AmiFramingError, TimeoutError) as exc:
                self.last_error = exc
                self._log_failure(exc)
            finally:
                self.ready.clear()
                self._logged_in = False
                self._fail_pending(AmiNotConnected("AMI connection lost"))
                self._close_writer()
            if self._stopping:
                break
            if self._session_logged_in:  # a session that logged in resets the back-off
                delay = self.settings.backoff_initial
            wait = delay * random.uniform(0.8, 1.0)
            log.debug("AMI reconnect in %.2f s", wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.settings.backoff_max)

    _failures_in_a_row = 0

    def _log_failure(self, exc: BaseException) -> None:
        """One warning per outage (no Asterisk here: one line), then debug until a login."""
        s = self.settings
        self._failures_in_a_row += 1
        if self._session_logged_in:  # a working link dropped: always worth a line
            log.warning("AMI connection to %s:%s lost: %s; reconnecting with back-off", s.host, s.port, exc)
        elif self._failures_in_a_row == 1:
            log.warning(
                "AMI connection to %s:%s failed: %s; retrying with back-off up to %.0f s, quietly "
                "(is Asterisk running? `asterisk: {enabled: false}` runs without it)",
                s.host, s.port, exc, s.backoff_max,
            )
        else:
            log.debug("AMI connection to %s:%s failed again: %s", s.host, s.port, exc)

    async def _session(self) -> None:
        s = self.settings
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(s.host, s.port, ssl=client_ssl_context(s.ssl, s.ssl_ca)), s.connect_timeout
        )
        self._writer = writer
        parser = AmiParser()
        banner = self._banner = asyncio.get_running_loop().create_future()
        reading = asyncio.create_task(self._read(reader, parser), name="ami-read")
        try:
            # The secret goes only to a peer that greets like Asterisk's manager.
            done, _ = await asyncio.wait({banner, reading}, timeout=s.connect_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if banner not in done:
                if reading in done:
                    reading.result()  # raises why the link ended
                raise AmiNotConnected(f"no AMI banner from {s.host}:{s.port} within {s.connect_timeout} s")
            version = banner.result()
            if version is None:
                raise AmiNotAsterisk(f"{s.host}:{s.port} is not an Asterisk manager (no banner); not logging in")
            log.debug("AMI banner: Asterisk Call Manager/%s", version)
            result = await self.action(
                "Login", {"Username": s.username, "Secret": s.secret, "Events": "on"},
                within=s.connect_timeout + 2.0,
            )
        except AmiActionError as exc:
            _drop(reading)
            raise AmiAuthError(exc.message or "authentication failed") from exc
        except BaseException:
            _drop(reading)
            raise
        del result
        self._logged_in = True
        self._failures_in_a_row = 0
        self._session_logged_in = True
        self.connections += 1
        self.last_error = None
        log.info("AMI logged in to %s:%s as %r", s.host, s.port, s.username)
        pinger = asyncio.create_task(self._ping(), name="ami-ping")
        try:
            if self.on_connect is not None:
                await self.on_connect(self)
            self.ready.set()
            await reading
        finally:
            pinger.cancel()
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reading

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                raise AmiNotConnected("Asterisk closed the AMI connection")
            messages = parser.feed(data)
            banner = self._banner
            if banner is not None and not banner.done() and parser.banner_checked:
                first = messages[0] if messages else None
                banner.set_result(first.name if first is not None and first.kind is Kind.BANNER else None)
                if first is None or first.kind is not Kind.BANNER:
                    raise AmiNotAsterisk(f"{self.settings.host}:{self.settings.port} did not send an AMI banner")
            for message in messages:
                self._handle(message)

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                await self.action("Ping", within=self.settings.action_timeout)
            except AmiTimeout:
                log.warning("AMI ping unanswered: dropping the connection")
                self._close_writer()
                return
            except AmiError:
                return

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    # -- actions ---------------------------------------------------------------------------

    async def action(
        self,
        name: str,
        fields: dict[str, str | list[str]] | None = None,
        *,
        within: float | None = None,
    ) -> ActionResult:
        """Send an action; wait for its response (and, for list actions, the whole list).

        `Response: Error` raises `AmiActionError`; a dropped link raises `AmiNotConnected`.
        """
        writer = self._writer
        if writer is None or (not self._logged_in and name != "Login"):
            raise AmiNotConnected(f"{name}: no AMI connection")
        action_id = f"hl-{next(self._ids)}"
        future: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future)
        try:
            writer.write(format_action(name, action_id, fields or {}))
        except (OSError, RuntimeError) as exc:
            self._pending.pop(action_id, None)
            raise AmiNotConnected(f"{name}: {exc}") from exc
        try:
            return await asyncio.wait_for(future, within or self.settings.action_timeout)
        except TimeoutError as exc:
            raise AmiTimeout(f"{name}: no answer from Asterisk") from exc
        finally:
            self._pending.pop(action_id, None)

    def _fail_pending(self, exc: AmiError) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(exc)

    # -- incoming --------------------------------------------------------------------------

    def _handle(self, message: AmiMessage) -> None:
        kind = message.kind
        if kind is Kind.EVENT:
            action_id = message.headers.get("ActionID")
            if action_id is not None:
                pending = self._pending.get(action_id)
                if pending is not None and pending.result is not None:
                    if message.headers.get("EventList") == "Complete":
                        pending.result.complete = message
                        if not pending.future.done():
                            pending.future.set_result(pending.result)
                    else:
                        pending.result.items.append(message)
                    return
            if message.raw:
                log.warning("AMI event %s with malformed lines: %r", message.name, message.raw[:200])
            try:
                self.on_event(message)
            except Exception:
                log.exception("AMI event %s: handler failed", message.name)
        elif kind is Kind.RESPONSE:
            pending = self._pending.get(message.action_id)
            if pending is None:
                log.debug("AMI response to no pending action: %s", message.headers)
                return
            if message.name == "Error":
                if not pending.future.done():
                    pending.future.set_exception(AmiActionError(pending.action, message))
                return
            result = ActionResult(message)
            if message.get("EventList") == "start":
                pending.result = result
            elif not pending.future.done():
                pending.future.set_result(result)
        elif kind is Kind.MALFORMED:
            log.warning("AMI malformed frame ignored: %r", message.raw[:200])
        elif kind is Kind.BANNER:
            log.debug("AMI banner %s", message.name)
