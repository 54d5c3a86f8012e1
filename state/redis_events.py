"""The ACD's event log on a Redis Stream: a buffered publisher and a reader that rebuilds.

The ACD calls subscribers synchronously, so `RedisEventLog.__call__` only appends the event
to a bounded buffer; a background task writes it with pipelined XADDs (MAXLEN ~ trimming).
While Redis is away the task reconnects with exponential backoff and the buffer holds the
events (beyond `buffer` events, new ones are dropped, counted and logged). A batch is only
removed from the buffer once Redis acknowledged it; a batch resent after a failure may be
written twice, so every entry carries the publisher's id and a sequence number and the
reader drops the repeats.

Entry fields: `e` the event as JSON (`Event.to_dict()`), `p` publisher id, `n` sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, cast

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from acd.agent import AgentConfig
from acd.clock import Clock
from acd.engine import Acd
from acd.events import Event, event_from_dict
from acd.queue import QueueConfig
from acd.replay import replay
from state.errors import StateError, StateUnavailable
from state.settings import StateSettings

log = logging.getLogger("hotline.state")

Connect = Callable[[], "aioredis.Redis"]


def connect(settings: StateSettings) -> aioredis.Redis:
    """A client for `settings.url`; our own timeouts and backoff replace the library's retries."""
    return aioredis.from_url(
        settings.url,
        socket_timeout=settings.timeout,
        socket_connect_timeout=settings.timeout,
        retry_on_timeout=False,
        retry=None,
    )


class RedisEventLog:
    """Subscriber of an `Acd` that publishes its events to a Redis Stream (see module doc)."""

    def __init__(
        self,
        settings: StateSettings,
        *,
        client: Connect | None = None,
        backoff: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        self.settings = settings
        self.id = uuid.uuid4().hex[:12]
        self._connect = client or (lambda: connect(settings))
        self._backoff = backoff
        self._buffer: deque[tuple[int, Event]] = deque()
        self._seq = itertools.count(1)
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._task: asyncio.Task[None] | None = None
        # Set while writes fail (Redis away), cleared by the next good write.
        self.unavailable = asyncio.Event()
        self.published = 0
        self.dropped = 0
        self.failures = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def __call__(self, event: Event) -> None:
        if len(self._buffer) >= self.settings.buffer:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("state: buffer full (%d events), %d dropped so far", self.settings.buffer, self.dropped)
            return
        self._buffer.append((next(self._seq), event))
        if not self._wake.is_set():
            self._wake.set()
            self._empty.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="state-publisher")

    async def stop(self, drain: float = 2.0) -> None:
        """Write what is buffered (for up to `drain` seconds), then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await self.flush(drain)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._buffer:
            log.error("state: stopped with %d events not written", len(self._buffer))

    async def flush(self, within: float) -> None:
        """Wait until every buffered event is written (TimeoutError after `within` seconds)."""
        async with asyncio.timeout(within):
            while self._buffer:
                await self._empty.wait()

    async def _run(self) -> None:
        client: aioredis.Redis | None = None
        delay = self._backoff[0]
        try:
            while True:
                if not self._buffer:
                    self._empty.set()
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                try:
                    if client is None:
                        client = self._connect()
                    await self._write_batch(client)
                    delay = self._backoff[0]
                    if self.unavailable.is_set():
                        log.info("state: Redis back, %d events buffered", len(self._buffer))
                        self.unavailable.clear()
                except StateUnavailable as exc:
                    self.failures += 1
                    self.unavailable.set()
                    log.warning("state: Redis write failed (%s); %d events buffered, retry in %.2fs",
                                exc, len(self._buffer), delay)
                    if client is not None:
                        await _close(client)
                        client = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._backoff[1])
        finally:
            if client is not None:
                await _close(client)

    async def _write_batch(self, client: aioredis.Redis) -> None:
        settings = self.settings
        batch = list(itertools.islice(self._buffer, settings.batch))
        pipe = client.pipeline(transaction=False)
        for n, event in batch:
            entry = {"e": json.dumps(event.to_dict(), separators=(",", ":")), "p": self.id, "n": n}
            pipe.xadd(settings.stream, entry, maxlen=settings.maxlen, approximate=True)  # type: ignore[arg-type]
        try:
            async with asyncio.timeout(settings.timeout):
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateUnavailable(f"XADD to {settings.stream!r}: {exc!r}") from exc
        for _ in batch:
            self._buffer.popleft()
        self.published += len(batch)


async def _close(client: aioredis.Redis) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await client.aclose()


@contextlib.asynccontextmanager
async def publishing(settings: StateSettings, acd: Acd, **kwargs: Any) -> AsyncIterator[RedisEventLog]:
    """Publish every event of `acd` while inside (an aiohttp cleanup_ctx body)."""
    publisher = RedisEventLog(settings, **kwargs)
    unsubscribe = acd.subscribe(publisher)
    publisher.start()
    try:
        yield publisher
    finally:
        unsubscribe()
        await publisher.stop()


# -- reading ---------------------------------------------------------------------------------


async def read_entries(
    settings: StateSettings, *, client: aioredis.Redis | None = None, page: int = 10_000
) -> list[tuple[bytes, Mapping[bytes, bytes]]]:
    """Every entry of the stream, oldest first (XRANGE in pages of `page`)."""
    own = client is None
    redis = client if client is not None else connect(settings)
    entries: list[tuple[bytes, Mapping[bytes, bytes]]] = []
    start: bytes | str = "-"
    try:
        while True:
            async with asyncio.timeout(settings.timeout):
                chunk = cast(
                    list[tuple[bytes, Mapping[bytes, bytes]]],
                    await redis.xrange(settings.stream, min=start, max="+", count=page),
                )
            entries.extend(chunk)
            if len(chunk) < page:
                return entries
            start = b"(" + chunk[-1][0]
    except (RedisError, OSError, TimeoutError) as exc:
        raise StateUnavailable(f"XRANGE of {settings.stream!r}: {exc!r}") from exc
    finally:
        if own:
            await _close(redis)


def decode_entries(entries: Iterable[tuple[bytes, Mapping[bytes, bytes]]]) -> list[Event]:
    """Events of the entries, in order, repeats (same publisher and sequence) dropped."""
    last: dict[bytes, int] = {}
    events: list[Event] = []
    for entry_id, fields in entries:
        try:
            publisher, n = fields[b"p"], int(fields[b"n"])
            if n <= last.get(publisher, 0):
                continue
            last[publisher] = n
            events.append(event_from_dict(json.loads(fields[b"e"])))
        except (KeyError, ValueError, TypeError) as exc:
            raise StateError(f"stream entry {entry_id.decode()}: not an event ({exc!r})") from exc
    return events


async def read_events(settings: StateSettings, *, client: aioredis.Redis | None = None) -> list[Event]:
    entries = await read_entries(settings, client=client)
    return await asyncio.to_thread(decode_entries, entries)


async def rebuild_from_redis(
    settings: StateSettings,
    queues: Iterable[QueueConfig],
    agents: Iterable[AgentConfig],
    clock: Clock,
    *,
    client: aioredis.Redis | None = None,
    pause_on_ring_no_answer: bool = True,
    occupancy_window: float = 3600.0,
    start: float | None = None,
) -> Acd:
    """An `Acd` rebuilt from the stream (decoding and replay in a worker thread), on `clock`."""
    entries = await read_entries(settings, client=client)
    queues, agents = list(queues), list(agents)

    def work() -> Any:
        return replay(
            decode_entries(entries),
            queues,
            agents,
            pause_on_ring_no_answer=pause_on_ring_no_answer,
            occupancy_window=occupancy_window,
            start=start,
        )

    replayed = await asyncio.to_thread(work)
    return replayed.attach(clock)
