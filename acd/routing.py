"""Indexes that keep routing decisions independent of how many calls wait and agents idle.

Waiting calls are bucketed by (queue, call-specific skills, escalation step): calls in one
bucket share one `Requirement`. Each bucket is a heap ordered by (-priority, arrival seq).
Routable agents (available, or on a call with a free slot when their capacity is above 1)
are bucketed by profile (skills and groups): agents in one profile are interchangeable for
eligibility, and each profile keeps its agents in idle order.

A decision scans buckets and profiles, whose number is set by configuration (queues x
languages x escalation steps; agent groups), not by traffic.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from acd.agent import Agent
from acd.call import Call, CallState
from acd.queue import Requirement

BucketKey = tuple[str, tuple[tuple[str, int], ...], int]
Profile = tuple[tuple[tuple[str, int], ...], tuple[str, ...]]


@dataclass(slots=True)
class CallBucket:
    key: BucketKey
    requirement: Requirement
    heap: list[tuple[int, int, int, Call]] = field(default_factory=list)
    live: int = 0

    def head(self) -> Call | None:
        """The first live call (stale entries left by lazy removal are dropped on the way)."""
        heap = self.heap
        while heap:
            _, _, token, call = heap[0]
            if call.qtoken == token and call.state is CallState.QUEUED:
                return call
            heapq.heappop(heap)
        return None


class WaitingCalls:
    """Calls waiting for an agent, in (priority, arrival) order within each bucket."""

    def __init__(self) -> None:
        self.buckets: dict[BucketKey, CallBucket] = {}
        self.nonempty: dict[BucketKey, CallBucket] = {}
        self._pushes = 0

    def bucket(self, key: BucketKey, requirement: Requirement) -> CallBucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = CallBucket(key, requirement)
        return bucket

    def push(self, bucket: CallBucket, call: Call) -> None:
        self._pushes += 1
        call.qtoken = self._pushes
        heapq.heappush(bucket.heap, (-call.priority, call.seq, self._pushes, call))
        bucket.live += 1
        self.nonempty[bucket.key] = bucket

    def discard(self, bucket: CallBucket, call: Call) -> None:
        """`call` left `bucket` (its heap entry is skipped lazily)."""
        call.qtoken = 0
        bucket.live -= 1
        if bucket.live == 0:
            bucket.heap.clear()
            self.nonempty.pop(bucket.key, None)

    def __len__(self) -> int:
        return sum(b.live for b in self.nonempty.values())

    def __iter__(self) -> Iterator[CallBucket]:
        return iter(list(self.nonempty.values()))


class ProfilePool:
    """Routable agents of one profile, oldest idle first."""

    __slots__ = ("agents", "config_groups", "key", "skills")

    def __init__(self, key: Profile, agent: Agent) -> None:
        self.key = key
        self.skills = dict(agent.config.skills)
        self.config_groups = agent.config.groups
        # An OrderedDict, not a dict: taking the oldest out of a plain dict again and again
        # leaves deleted slots at its front that every `next(iter(...))` has to skip.
        self.agents: OrderedDict[str, Agent] = OrderedDict()

    def oldest(self) -> Agent:
        return next(iter(self.agents.values()))


class AvailableAgents:
    """Agents ready for a call (routable), grouped by profile. `Agent.indexed` says whether
    an agent is in here."""

    def __init__(self) -> None:
        self.pools: dict[Profile, ProfilePool] = {}
        self.nonempty: dict[Profile, ProfilePool] = {}

    def add(self, agent: Agent) -> None:
        """Add `agent` as the newest idle of its pool (it must not be in already)."""
        pool = self.pools.get(agent.profile)
        if pool is None:
            pool = self.pools[agent.profile] = ProfilePool(agent.profile, agent)
        pool.agents[agent.id] = agent
        agent.indexed = True
        self.nonempty[pool.key] = pool

    def to_back(self, agent: Agent) -> None:
        """`agent` (in the index) was just offered a call and keeps a free slot."""
        self.pools[agent.profile].agents.move_to_end(agent.id)

    def remove(self, agent: Agent) -> None:
        if not agent.indexed:
            return
        agent.indexed = False
        pool = self.pools[agent.profile]
        del pool.agents[agent.id]
        if not pool.agents:
            del self.nonempty[pool.key]

    def __contains__(self, agent: Agent) -> bool:
        pool = self.pools.get(agent.profile)
        return pool is not None and agent.id in pool.agents

    def __len__(self) -> int:
        return sum(len(p.agents) for p in self.nonempty.values())
