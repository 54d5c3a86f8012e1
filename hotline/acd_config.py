"""Queues and agents as every node sees them: versions kept in the case store, the running ACD
changed live through its operation path (acd/live_config.py), edits made elsewhere picked up.

    live = LiveAcdConfig(acd, AcdConfigStore(engine), run=command, leader=lambda: True)
    await live.start(config)              # first import of the file's queues and agents
    await live.edit(actor, "agent", {"id": "1001", "skills": {"booking": 6}}, message="new skill")
    await live.rollback(actor, "agent", "1001", 2)
    live.diff(older, newer)

An item is checked by the configuration file's own schema (`hotline.config_schema`, errors
naming the key) and parser (`hotline.config`), then by the ACD (an overflow target must exist,
no overflow circle), before it is stored; a refused edit changes nothing. The ACD is changed
through `run` (one node: its own ACD; a cluster: the leader's, so every replica, the stream
and the snapshots have it). The config file's queues and agents are imported once, when the
store does not know them; afterwards the store is the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from acd.engine import Acd
from acd.errors import AcdError
from acd.live_config import ConfigRefused, agent_data, check_overflow, queue_data
from acd.queue import QueueConfig
from casestore.accounts import Actor
from casestore.acd_config import AcdConfigStore, ConfigVersion
from casestore.errors import StoreUnavailable
from hotline.config import ConfigError, HotlineConfig, parse_agent, parse_queue
from hotline.config_validation import check_document
from ivr.source import format_path

log = logging.getLogger("hotline.acd_config")

Run = Callable[[str, dict[str, Any]], Awaitable[None]]
SECTION = {"queue": "queues", "agent": "agents"}


@dataclass(frozen=True, slots=True)
class Problem:
    key: str  # the key path inside the item ("skills.booking"), "" for the item itself
    message: str


class InvalidItem(ValueError):
    """The item is refused (schema, parser or ACD); `problems` name the keys."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.key or 'item'}: {p.message}" for p in problems))
        self.problems = problems


def item_name(kind: str, data: Mapping[str, Any]) -> str:
    return str(data.get("id" if kind == "agent" else "name", ""))


def normalized(kind: str, data: Mapping[str, Any], queues: Mapping[str, QueueConfig]) -> dict[str, Any]:
    """`data` checked as the configuration file's item and written out in full (every key),
    or InvalidItem. `queues`: the running ones (an overflow target must be one of them)."""
    issues = check_document({SECTION[kind]: [dict(data)]})
    if issues:
        raise InvalidItem([Problem(format_path(i.path[2:]), i.message) for i in issues])
    try:
        if kind == "agent":
            return agent_data(parse_agent(data, "agent"))
        queue = parse_queue(data, "queue")
        check_overflow({n: q for n, q in queues.items() if n != queue.name}, queue)
    except ConfigError as exc:
        raise InvalidItem([Problem("", str(exc))]) from exc
    except ConfigRefused as exc:
        raise InvalidItem([Problem("overflow", str(exc))]) from exc
    out = queue_data(queue)
    if data.get("description"):
        out["description"] = str(data["description"])
    return out


def running(acd: Acd, kind: str, name: str) -> dict[str, Any] | None:
    """The item as the ACD runs it now (None: unknown there)."""
    if kind == "agent":
        agent = acd.agents.get(name)
        return agent_data(agent.config) if agent is not None else None
    queue = acd.queues.get(name)
    return queue_data(queue) if queue is not None else None


def _core(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "description"}


class LiveAcdConfig:
    def __init__(self, acd: Acd, store: AcdConfigStore, *, run: Run, leader: Callable[[], bool] = lambda: True,
                 poll: float = 2.0) -> None:
        self.acd = acd
        self.store = store
        self.run = run
        self.leader = leader
        self.poll = poll
        self._seen: tuple[int, float] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- start and stop ----------------------------------------------------------------------

    async def start(self, config: HotlineConfig) -> None:
        """Import the file's queues and agents the store does not know, make the ACD run the
        store's newest versions, then follow changes made by other nodes."""
        source = str(config.path.name) if config.path is not None else "the configuration"
        await self.store.import_missing("queue", [queue_data(q) for q in config.queues], source=source)
        await self.store.import_missing("agent", [agent_data(a) for a in config.agents], source=source)
        await self.sync(force=True)
        if self.poll > 0:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="acd-config-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            try:
                await self.sync()
            except (StoreUnavailable, AcdError, OSError) as exc:
                log.warning("queues and agents: cannot follow the store (%s); the running ones stay", exc)

    async def sync(self, *, force: bool = False) -> int:
        """Make the ACD run the store's newest versions (on the leader only: replicas follow
        its stream); returns how many items changed."""
        if not self.leader():
            return 0
        async with self._lock:
            seen = await self.store.fingerprint()
            if seen == self._seen and not force:
                return 0
            current = await self.store.current()
            changed = 0
            # queues first (an agent edit does not need them; an overflow target does), in an
            # order where every overflow target is there before the queue naming it
            queues = sorted((v for (k, _), v in current.items() if k == "queue"),
                            key=lambda v: v.data.get("overflow") is not None)
            for version in [*queues, *(v for (k, _), v in current.items() if k == "agent")]:
                if running(self.acd, version.kind, version.name) != _core(version.data):
                    try:
                        await self._apply(version.kind, version.data)
                        changed += 1
                    except AcdError as exc:
                        log.error("%s %s v%d not applied: %s", version.kind, version.name, version.version, exc)
            self._seen = seen
            return changed

    async def _apply(self, kind: str, data: Mapping[str, Any]) -> None:
        await self.run(f"configure_{kind}", {"data": _core(data)})

    # -- the admin page's API ----------------------------------------------------------------

    def check(self, kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The item normalized, or InvalidItem naming the keys (nothing is changed)."""
        return normalized(kind, data, self.acd.queues)

    async def edit(self, actor: Actor, kind: str, data: Mapping[str, Any], *, message: str = "",
                   action: str | None = None) -> ConfigVersion:
        """Check, store as a new version (audited), and apply to the running ACD."""
        item = self.check(kind, data)
        name = item_name(kind, item)
        async with self._lock:
            saved = await self.store.save(actor, kind, name, item, message=message, action=action)
            if running(self.acd, kind, name) != _core(item):
                await self._apply(kind, item)
            self._seen = None  # our own save: the next poll reads the store again
        log.info("%s %s: version %d by %s", kind, name, saved.version, actor.login)
        return saved

    async def rollback(self, actor: Actor, kind: str, name: str, version: int) -> ConfigVersion:
        """Make an older version the newest again (stored as a new version)."""
        older = await self.store.get(kind, name, version)
        return await self.edit(actor, kind, older.data, message=f"rollback to version {version}",
                               action=f"{kind}.rollback")

    async def items(self, kind: str) -> list[ConfigVersion]:
        return [v for (k, _), v in sorted((await self.store.current()).items()) if k == kind]


ORDER = ("id", "name", "description", "skills", "groups", "capacity", "disabled", "policy", "service_level",
         "max_wait", "overflow", "escalation", "ring_timeout", "wrap_up", "tier_priority", "aging", "ring_no_answer",
         "announce")


def ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys in the configuration file's order (the store keeps them sorted)."""
    rank = {key: i for i, key in enumerate(ORDER)}
    return {k: data[k] for k in sorted(data, key=lambda k: (rank.get(k, len(ORDER)), k))}


def as_yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(ordered(data), sort_keys=False, allow_unicode=True, default_flow_style=False)


def diff(older: ConfigVersion, newer: ConfigVersion) -> str:
    """A unified diff of two versions as YAML."""
    return "".join(difflib.unified_diff(
        as_yaml(older.data).splitlines(keepends=True), as_yaml(newer.data).splitlines(keepends=True),
        fromfile=f"{older.kind} {older.name} v{older.version}", tofile=f"{newer.kind} {newer.name} v{newer.version}",
    ))
