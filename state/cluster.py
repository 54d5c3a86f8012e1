"""Several `hotline serve` nodes on one Redis, exactly one of them running the ACD.

Every node keeps a replica of the leader's ACD (the app's own `Acd` object): restored from
the leader's snapshot and re-run from its epoch's stream as it grows (`StreamFollower`). A
follower sends the commands it gets (agent actions from the API) to the leader through Redis
and answers once its replica has the leader's result. The leader holds the lease
(state/lease.py), writes its events to its epoch's stream (`FencedLog`), a snapshot at
intervals (the stream before it trimmed), and runs the adapters (`LeaderHooks`).

When the lease is free (the leader died, or cannot reach Redis and stepped down), the first
follower to take it: reads the rest of the old epoch's stream, arms the replica's pending
timers on the live clock, starts its own epoch with a snapshot, and starts the adapters
(which resync with Asterisk). A leader that loses the lease or finds its token fenced stops
its adapters, drops its timers and follows again from the new leader's snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from redis import asyncio as aioredis
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import RedisError

from acd.clock import Clock, Timer
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import Event
from acd.replay import ReplayError, StreamFollower, _ReplayClock
from acd.snapshot import RingStarts, SnapshotError, reset, restore, take
from state.commands import CommandError, execute, raise_reply
from state.errors import StateError, StateUnavailable
from state.fenced_log import FencedLog
from state.lease import Fenced, Keys, Lease
from state.redis_events import decode_entries
from state.settings import Durability

log = logging.getLogger("hotline.state.cluster")


class ScopedClock:
    """The live clock, whose timers a demoted leader drops all at once (`drop_timers`)."""

    def __init__(self, inner: Clock) -> None:
        self.inner = inner
        self._generation = 0

    def now(self) -> float:
        return self.inner.now()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        generation = self._generation

        def fire() -> None:
            if generation == self._generation:
                callback()

        return self.inner.call_later(delay, fire)

    def drop_timers(self) -> None:
        self._generation += 1


@dataclass
class LeaderHooks:
    """What becoming (or ceasing to be) the leader starts and stops on this node."""

    promoted: Callable[[list[Event]], Awaitable[None]]  # the old epoch's tail since its snapshot
    demoted: Callable[[], Awaitable[None]]
    before_commit: Callable[[], Awaitable[None]] | None = None  # the case store has it all


def connect_cluster(settings: Durability, *, blocking: bool = False) -> aioredis.Redis:
    """A client for the cluster's Redis (`blocking`: for XREAD BLOCK / BLPOP, no socket
    timeout of its own: every call runs under an asyncio timeout instead)."""
    redis = settings.redis
    assert redis is not None
    options: dict[str, Any] = {"socket_timeout": None if blocking else redis.timeout,
                               "socket_connect_timeout": redis.timeout}
    if settings.sentinel:
        sentinel = aioredis.Sentinel(
            [(h.rpartition(":")[0], int(h.rpartition(":")[2])) for h in settings.sentinel], **options
        )
        return sentinel.master_for(settings.sentinel_service, **options)
    return aioredis.from_url(redis.url, retry_on_timeout=False, **options)


async def close_cluster_client(client: aioredis.Redis) -> None:
    """Close a client of `connect_cluster`, with the clients of its sentinels (closing the
    master's client leaves their connections open)."""
    await client.aclose()
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        for sentinel in pool.sentinel_manager.sentinels:
            await sentinel.aclose()


class ClusterNode:
    def __init__(self, settings: Durability, acd: Acd, clock: ScopedClock, hooks: LeaderHooks, *,
                 client: aioredis.Redis | None = None) -> None:
        self.settings = settings
        self.acd = acd
        self.clock = clock
        self.hooks = hooks
        self.node_id = settings.node_id or uuid.uuid4().hex[:12]
        self.keys = Keys(settings.prefix)
        self.client = client or connect_cluster(settings)
        self.blocking = connect_cluster(settings, blocking=True) if client is None else client
        self.timeout = settings.redis.timeout if settings.redis else 2.0
        self.lease = Lease(self.client, self.keys, self.node_id, settings.lease_ttl,
                           timeout=min(1.0, settings.lease_ttl / 3))
        self.leader = False
        self.ring = RingStarts()
        self.epoch = 0  # the epoch followed (or led)
        self.position = "0-0"  # last stream entry re-run
        self.skip_upto = 0  # sequence numbers already in the snapshot
        self.tail: list[Event] = []  # the epoch's events since its snapshot (for the case store)
        self.applied = 0  # highest sequence number re-run
        self.log: FencedLog | None = None
        self.promotions = 0
        self.last_promotion: dict[str, float] = {}
        self._follower: StreamFollower | None = None
        self._applied_changed = asyncio.Event()
        self._replica = asyncio.Lock()  # one of: following, taking over, stepping down
        self._tasks: list[asyncio.Task[None]] = []
        self._leader_tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: list[Callable[[], None]] = []
        self._stopping = False

    # -- start / stop ----------------------------------------------------------------------

    async def start(self) -> None:
        self.acd.subscribe(self.ring, RingStarts.KINDS)
        try:
            await self._resync_replica()
        except StateUnavailable as exc:
            log.warning("cluster: Redis away at start (%s); following once it is back", exc)
        self._tasks.append(asyncio.get_running_loop().create_task(self._elect(), name="cluster-elect"))
        self._tasks.append(asyncio.get_running_loop().create_task(self._tail_loop(), name="cluster-tail"))

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3.0):
                await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.leader:
            await self._step_down("shutdown", release=True)
        for client in {id(self.client): self.client, id(self.blocking): self.blocking}.values():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await close_cluster_client(client)

    # -- following ---------------------------------------------------------------------------

    async def _redis(self, coro: Awaitable[Any], what: str, *, extra: float = 0.0) -> Any:
        try:
            async with asyncio.timeout(self.timeout + extra):
                return await coro
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateUnavailable(f"{what}: {exc!r}") from exc

    async def _resync_replica(self) -> None:
        """Make the replica the leader's latest snapshot, then re-run its epoch's stream."""
        stored = cast(dict[bytes, bytes], await self._redis(self.client.hgetall(self.keys.snapshot), "snapshot"))
        if self._follower is not None:
            self._follower.close()
            self._follower = None
        fresh = not self.acd.calls and all(a.state.value == "logged_out" for a in self.acd.agents.values())
        if not fresh:
            reset(self.acd)
        if not stored:  # no leader ever: the ACD as configured, epoch 0
            self.epoch, self.position, self.skip_upto, self.tail = 0, "0-0", 0, []
            replay_clock = _ReplayClock(self.clock.now())
            self.acd.clock = replay_clock
            self._follower = StreamFollower(self.acd, replay_clock)
            return
        data = await asyncio.to_thread(json.loads, stored[b"data"])
        queues = list(self.acd.queues.values())
        options: dict[str, Any] = {"pause_on_ring_no_answer": self.acd.pause_on_ring_no_answer,
                                   "occupancy_window": self.acd.occupancy_window}
        replayed, ring = await asyncio.to_thread(
            lambda: restore(data, queues, into=self.acd, **options)
        )
        self.ring.at = ring.at
        self.epoch = int(stored[b"token"])
        self.position = stored[b"entry"].decode()
        self.skip_upto = int(stored.get(b"n", b"0"))
        self.applied = self.skip_upto
        self.tail = []
        self._follower = replayed.follow()
        await self._read_stream(block=None)
        log.info("cluster: replica restored from epoch %d's snapshot (%d calls)", self.epoch, len(self.acd.calls))

    async def _read_stream(self, block: int | None) -> int:
        """Re-run the followed epoch's new entries; returns how many."""
        if self.epoch == 0 or self._follower is None:
            return 0
        key = self.keys.epoch(self.epoch)
        total = 0
        while True:
            if block is None:
                chunk = await self._redis(self.client.xrange(key, min=f"({self.position}", count=5000), "xrange")
            else:
                raw = await self._redis(self.blocking.xread({key: self.position}, count=5000, block=block), "xread",
                                        extra=block / 1000)
                chunk = raw[0][1] if raw else []
            if not chunk:
                return total
            events: list[Event] = []
            for entry_id, fields in chunk:
                n = int(fields[b"n"])
                if n <= self.applied:
                    continue  # in the snapshot already, or written twice
                self.applied = n
                events.extend(decode_entries([(entry_id, fields)]))
            self._follower.feed(events)
            self.tail.extend(events)
            self.position = chunk[-1][0].decode()
            self._applied_changed.set()
            total += len(chunk)
            if block is not None or len(chunk) < 5000:
                return total

    async def _tail_loop(self) -> None:
        delay = 0.1
        while True:
            if self.leader:
                await asyncio.sleep(0.2)
                continue
            try:
                async with self._replica:
                    if self.leader:
                        continue
                    token = await self._redis(self.client.hget(self.keys.snapshot, "token"), "snapshot token")
                    if token is not None and int(token) != self.epoch:
                        await self._read_stream(block=None)  # the old epoch is closed: read it all first
                        await self._resync_replica()
                    await self._read_stream(block=200)
                delay = 0.1
            except (ReplayError, SnapshotError, AcdError, StateError) as exc:
                if isinstance(exc, StateUnavailable):
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                log.error("cluster: replica out of step (%s); restored again", exc)
                async with self._replica:
                    try:
                        await self._resync_replica()
                    except (ReplayError, SnapshotError, AcdError, StateError) as again:
                        # the loop goes on: the next round restores again (epoch 0 follows nothing)
                        log.error("cluster: the replica could not be restored (%s); trying again", again)
                        self.epoch = 0
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, 2.0)

    async def wait_applied(self, n: int, within: float = 3.0) -> None:
        """Until the replica has re-run the leader's events up to sequence `n`."""
        async with asyncio.timeout(within):
            while self.applied < n and not self.leader:
                self._applied_changed.clear()
                await self._applied_changed.wait()

    # -- leadership ----------------------------------------------------------------------------

    async def _elect(self) -> None:
        while True:
            try:
                if self.leader:
                    assert self.log is not None
                    if self.log.fenced.done():
                        await self._step_down("fenced: a newer leader was elected")
                    elif not await self.lease.renew():
                        await self._step_down("the lease was lost")
                elif await self.lease.acquire():
                    async with self._replica:
                        await self._promote()
            except Fenced as exc:
                await self._step_down(str(exc))
            except StateUnavailable as exc:
                if self.leader and not self.lease.valid:
                    await self._step_down(f"Redis unreachable past the lease ({exc})")
            if self.leader and not self.lease.valid:
                await self._step_down("the lease expired before it could be renewed")
            await asyncio.sleep(self.settings.renew_interval)

    async def _promote(self) -> None:
        started = time.monotonic()
        token = self.lease.token
        try:
            try:
                await self._read_stream(block=None)  # the old leader's last events
                if self._follower is None or not self._follower.complete:
                    log.warning("cluster: the old leader's last operation is cut off in its stream")
            except (ReplayError, AcdError) as exc:
                log.error("cluster: old epoch out of step (%s); restored from its snapshot", exc)
                await self._resync_replica()
            assert self._follower is not None
            replayed = self._follower.close()
            self._follower = None
            replayed.attach(self.clock)
            previous = self.epoch
            tail = list(self.tail)
            self.log = FencedLog(self.lease, token, publisher=self.node_id,
                                 maxlen=self.settings.redis.maxlen if self.settings.redis else 1_000_000)
            self._unsubscribe.append(self.acd.subscribe(self.log))
            self.log.start()
            self.epoch, self.position, self.tail = token, "0-0", []
            await self._write_snapshot(take(self.acd, self.ring.at), n=0, entry="0-0")
            if previous and previous != token:
                with contextlib.suppress(StateError):
                    await self._redis(self.client.delete(self.keys.epoch(previous)), "drop old epoch")
            self.leader = True
            self.promotions += 1
            rebuilt = time.monotonic() - started
            await self.hooks.promoted(tail)
            self.last_promotion = {"token": token, "rebuild": rebuilt, "ready": time.monotonic() - started}
            log.warning("cluster: node %s is the leader (token %d, took over in %.3f s, %d calls, %d events "
                        "of the old epoch after its snapshot)", self.node_id, token, time.monotonic() - started,
                        len(self.acd.calls), len(tail))
            loop = asyncio.get_running_loop()
            self._leader_tasks = [loop.create_task(self._snapshots(), name="cluster-snapshots"),
                                  loop.create_task(self._serve_commands(), name="cluster-commands")]
        except (StateError, SnapshotError) as exc:
            log.error("cluster: taking over failed (%s)", exc)
            await self._step_down(f"take-over failed: {exc}")

    async def _step_down(self, why: str, *, release: bool = False) -> None:
        was = self.leader
        self.leader = False
        for task in self._leader_tasks:
            task.cancel()
        await asyncio.gather(*self._leader_tasks, return_exceptions=True)
        self._leader_tasks = []
        if was:
            log.error("cluster: node %s steps down: %s", self.node_id, why)
            with contextlib.suppress(Exception):
                await self.hooks.demoted()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self.log is not None:
            await self.log.stop(drain=0.5 if release else 0.0)
            self.log = None
        self.clock.drop_timers()
        if release:
            with contextlib.suppress(StateError):
                await self.lease.release()
        else:
            self.lease.lost()
        if not self._stopping:
            with contextlib.suppress(StateError, SnapshotError):
                if self._replica.locked():  # stepping down inside a failed take-over
                    await self._resync_replica()
                else:
                    async with self._replica:
                        await self._resync_replica()

    async def _write_snapshot(self, data: dict[str, Any], *, n: int, entry: str) -> None:
        text = await asyncio.to_thread(json.dumps, data, separators=(",", ":"))
        await self.lease.write_snapshot(self.lease.token, entry, text, n)

    async def _snapshots(self) -> None:
        interval = self.settings.snapshot_interval
        while True:
            await asyncio.sleep(interval)
            assert self.log is not None
            entry = self.log.last_entry  # every entry up to here is before the snapshot
            n = self.log.emitted
            data = take(self.acd, self.ring.at)
            if self.hooks.before_commit is not None:
                try:
                    async with asyncio.timeout(10.0):
                        await self.hooks.before_commit()
                except Exception as exc:
                    log.warning("cluster: snapshot skipped, the case store is behind (%r)", exc)
                    continue
            try:
                await self._write_snapshot(data, n=n, entry=entry)
            except StateUnavailable as exc:
                log.warning("cluster: snapshot not written (%s)", exc)

    async def persisted(self) -> None:
        """Until every event of this leader so far is in Redis (StateError when it is not the
        leader any more)."""
        log_ = self.log
        if not self.leader or log_ is None:
            raise Fenced("not the leader")
        await log_.flushed()

    # -- commands --------------------------------------------------------------------------------

    async def command(self, op: str, **args: Any) -> None:
        """Run an ACD operation: here when leading, else on the leader (through Redis), then
        wait for the replica to have its result. AcdError as the leader raised it.

        A follower's command carries one id for all its attempts: when the leader's reply is
        lost (Redis slow, the leader changing) the command is sent again with the same id and
        the leader answers with the result it kept instead of running it twice (no 409 for a
        login that did happen)."""
        if self.leader:
            execute(self.acd, op, args)
            return
        reply = await self.send_command(uuid.uuid4().hex, op, args)
        raise_reply(reply)
        with contextlib.suppress(TimeoutError):
            await self.wait_applied(int(reply.get("n", 0)))

    async def send_command(self, command_id: str, op: str, args: dict[str, Any], *,
                           attempts: int = 3, wait: float = 2.0) -> dict[str, Any]:
        """Send `op` to the leader as command `command_id` until a reply comes (the same id on
        every attempt); the leader's reply."""
        last: Exception | None = None
        for _ in range(attempts):
            entry: dict[Any, Any] = {"id": command_id, "op": op, "args": json.dumps(args), "at": str(time.time()),
                                     "node": self.node_id}
            await self._redis(self.client.xadd(self.keys.commands, entry, maxlen=10_000, approximate=True),
                              "command")
            try:
                raw = await asyncio.wait_for(
                    self.blocking.blpop([self.keys.reply(command_id)], timeout=max(1, int(wait))), wait + 1)
            except (RedisError, OSError, TimeoutError) as exc:
                last = exc
                continue
            if raw is not None:
                return cast(dict[str, Any], json.loads(raw[1]))
        raise StateUnavailable(f"no answer from the leader to {op} (is there one?): {last!r}")

    async def _serve_commands(self) -> None:
        done_key = f"{self.keys.commands}:done"
        stored = await self._redis(self.client.get(done_key), "commands done")
        last = stored.decode() if stored is not None else "0-0"  # older ones are skipped by age
        while True:
            try:
                raw: Any = await self._redis(self.blocking.xread({self.keys.commands: last}, count=100, block=500),
                                             "commands", extra=0.5)
            except StateUnavailable as exc:
                log.warning("cluster: reading commands failed (%r)", exc)
                await asyncio.sleep(0.2)
                continue
            for entry_id, fields in (raw[0][1] if raw else []):
                last = entry_id.decode()
                if time.time() - float(fields[b"at"]) > 10.0:
                    continue  # sent before a failover and given up by its node
                command_id = fields[b"id"].decode()
                result_key = f"{self.keys.reply(command_id)}:result"  # kept for a resent command
                try:
                    kept = await self._redis(self.client.get(result_key), "command result")
                except StateUnavailable:
                    kept = None
                if kept is not None:
                    reply: dict[str, Any] = json.loads(kept)
                else:
                    try:
                        execute(self.acd, fields[b"op"].decode(), json.loads(fields[b"args"]))
                        assert self.log is not None
                        await self.log.flushed()  # persisted before the follower hears of it
                        reply = {"ok": True, "n": self.log.emitted}
                    except CommandError as exc:
                        reply = exc.reply
                    except AcdError as exc:
                        reply = CommandError.of(exc).reply
                key = self.keys.reply(command_id)
                pipe = self.client.pipeline(transaction=False)
                pipe.rpush(key, json.dumps(reply))
                pipe.expire(key, 30)
                pipe.set(result_key, json.dumps(reply), ex=120)
                pipe.set(done_key, last)
                await self._redis(pipe.execute(), "reply")
