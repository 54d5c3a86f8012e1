"""The ACD leader's lease on Redis, with a fencing token, and the writes it fences.

Keys (all under one prefix):

    <prefix>:lease          "<node id> <token>", with a time to live (PX)
    <prefix>:token          counter: every election takes the next number (INCR)
    <prefix>:fence          the token of the latest election
    <prefix>:snapshot       hash: token, entry (last stream entry it includes), data
    <prefix>:epoch:<token>  the event stream of the leader elected with <token>

Each check-and-write is one Lua script (atomic in Redis): a leader's stream entries and
snapshots are written only while `fence` still holds its token, so a former leader that
comes back after a new election finds every write refused (`Fenced`) and steps down. A
leader that cannot renew its lease within its time to live stops acting as leader on its own
clock (`Lease.valid`), before another node can take the lease.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from state.errors import StateError, StateUnavailable

# KEYS: lease, token, fence, snapshot; ARGV: node id, ttl (ms), epoch key prefix. The token
# never repeats an epoch whose fence, snapshot or stream is still there, even when the
# counter itself was lost (a Sentinel failover to a replica that had not received the INCR).
ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
local floor = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'),
                       tonumber(redis.call('HGET', KEYS[4], 'token') or '0'))
while token <= floor or redis.call('EXISTS', ARGV[3] .. token) == 1 do
  token = math.max(token, floor) + 1
end
redis.call('SET', KEYS[2], token)
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
redis.call('SET', KEYS[3], token)
return token
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: fence, stream; ARGV: token, maxlen, then field/value pairs of each entry (n pairs each)
APPEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED') end
local last = ''
local width = tonumber(ARGV[3])
local i = 4
while i <= #ARGV do
  local entry = {}
  for j = 0, width - 1 do entry[#entry + 1] = ARGV[i + j] end
  last = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
  i = i + width
end
return last
"""
# KEYS: fence, snapshot, stream; ARGV: token, entry, data, n (events in the snapshot). One
# HSET: a follower never reads a snapshot with another snapshot's `n` (it would skip events
# the snapshot does not hold, or re-run some it does).
SNAPSHOT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED') end
redis.call('HSET', KEYS[2], 'token', ARGV[1], 'entry', ARGV[2], 'data', ARGV[3], 'n', ARGV[4])
if ARGV[2] ~= '0-0' then redis.call('XTRIM', KEYS[3], 'MINID', ARGV[2]) end
return 1
"""


class Fenced(StateError):
    """A newer leader was elected: this node's token is stale, its write was refused."""


@dataclass(frozen=True)
class Keys:
    prefix: str

    @property
    def lease(self) -> str:
        return f"{self.prefix}:lease"

    @property
    def token(self) -> str:
        return f"{self.prefix}:token"

    @property
    def fence(self) -> str:
        return f"{self.prefix}:fence"

    @property
    def snapshot(self) -> str:
        return f"{self.prefix}:snapshot"

    @property
    def commands(self) -> str:
        return f"{self.prefix}:commands"

    def epoch(self, token: int) -> str:
        return f"{self.prefix}:epoch:{token}"

    def reply(self, command_id: str) -> str:
        return f"{self.prefix}:reply:{command_id}"


class Lease:
    """One node's hold on the leader lease (see module doc)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, node_id: str, ttl: float, *, timeout: float = 1.0) -> None:
        self.client = client
        self.keys = keys
        self.node_id = node_id
        self.ttl = ttl
        self.timeout = timeout
        self.token = 0
        self._valid_until = 0.0  # monotonic: the lease cannot have expired before this
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self._append = client.register_script(APPEND)
        self._snapshot = client.register_script(SNAPSHOT)

    @property
    def value(self) -> str:
        return f"{self.node_id} {self.token}"

    @property
    def valid(self) -> bool:
        """Held and surely not expired yet (by this node's clock, counted from the start of
        the last successful renewal)."""
        return self.token > 0 and time.monotonic() < self._valid_until

    async def _call(self, script: Any, keys: list[str], args: list[Any], what: str) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await script(keys=keys, args=args)
        except ResponseError as exc:
            if "FENCED" in str(exc):
                raise Fenced(f"{what}: token {self.token} is stale (a newer leader was elected)") from exc
            raise StateUnavailable(f"{what}: {exc!r}") from exc
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateUnavailable(f"{what}: {exc!r}") from exc

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this node is now the leader."""
        started = time.monotonic()
        token = int(await self._call(
            self._acquire, [self.keys.lease, self.keys.token, self.keys.fence, self.keys.snapshot],
            [self.node_id, int(self.ttl * 1000), self.keys.epoch(0)[:-1]], "acquire"))
        if token == 0:
            return False
        self.token = token
        self._valid_until = started + self.ttl
        return True

    async def renew(self) -> bool:
        """Extend the lease; False when it was lost (expired and maybe taken)."""
        if self.token == 0:
            return False
        started = time.monotonic()
        ok = int(await self._call(self._renew, [self.keys.lease], [self.value, int(self.ttl * 1000)], "renew"))
        if ok:
            self._valid_until = started + self.ttl
            return True
        self.lost()
        return False

    def lost(self) -> None:
        self.token = 0
        self._valid_until = 0.0

    async def release(self) -> None:
        if self.token:
            try:
                await self._call(self._release, [self.keys.lease], [self.value], "release")
            finally:
                self.lost()

    async def holder(self) -> tuple[str, int] | None:
        try:
            async with asyncio.timeout(self.timeout):
                raw = await self.client.get(self.keys.lease)
        except (RedisError, OSError, TimeoutError) as exc:
            raise StateUnavailable(f"lease: {exc!r}") from exc
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        node, _, token = text.rpartition(" ")
        return node, int(token)

    # -- fenced writes ------------------------------------------------------------------------

    async def append(self, token: int, entries: list[dict[str, str]], maxlen: int) -> str:
        """XADD `entries` to the stream of epoch `token`, unless fenced; returns the last id."""
        if not entries:
            return ""
        fields = sorted(entries[0])
        args: list[Any] = [token, maxlen, 2 * len(fields)]
        for entry in entries:
            for name in fields:
                args.extend((name, entry[name]))
        last = await self._call(self._append, [self.keys.fence, self.keys.epoch(token)], args, "append")
        return last.decode() if isinstance(last, bytes) else str(last)

    async def write_snapshot(self, token: int, entry: str, data: str, n: int) -> None:
        """Store the snapshot (`n` events, including the stream up to `entry`) and trim the
        stream before it."""
        await self._call(self._snapshot, [self.keys.fence, self.keys.snapshot, self.keys.epoch(token)],
                         [token, entry, data, n], "snapshot")
