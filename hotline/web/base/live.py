"""Live events for browsers: one publisher fed from the ACD's event subscription (and from
services, e.g. case changes), fanned out to per-connection bounded queues.

The publisher never waits: a connection whose queue is full is dropped (its stream ends with a
`reset` event and the browser reconnects and re-reads the state), so a slow browser never slows
the ACD. Each event names its audience: staff (admins, supervisors) and, optionally, the one
agent it concerns. Events carry ids and states, never personal data; pages fetch masked views.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.events import (
    AgentPendingChanged,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallAssigned,
    CallEnded,
    CallQueued,
    CallRingNoAnswer,
    Event,
)
from hotline.roles import STAFF, Principal, Role

log = logging.getLogger("hotline.live")


@dataclass(frozen=True)
class LiveEvent:
    kind: str
    data: Mapping[str, Any]
    agent_id: str = ""  # the agent it concerns (that agent receives it too)
    roles: frozenset[Role] = STAFF  # roles that receive it whoever it concerns


@dataclass
class Connection:
    who: Principal
    queue: asyncio.Queue[LiveEvent]
    id: int
    dropped: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)



def _agent_event(event: Event) -> LiveEvent | None:
    """The ACD's events as live events (one table: ACD event type -> live event)."""
    if isinstance(event, AgentStateChanged):
        return LiveEvent(
            "agent_state",
            {"agent_id": event.agent_id, "old": event.old, "new": event.new, "reason": event.reason,
             "call_id": event.call_id, "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, AgentPendingChanged):
        return LiveEvent(
            "agent_state",
            {"agent_id": event.agent_id, "pending_logout": event.logout, "pending_pause": event.pause,
             "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, CallAssigned):
        return LiveEvent(
            "call_offered",
            {"call_id": event.call_id, "agent_id": event.agent_id, "queue": event.queue, "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, CallRingNoAnswer):
        return LiveEvent(
            "call_ring_no_answer",
            {"call_id": event.call_id, "agent_id": event.agent_id, "queue": event.queue, "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, CallAnswered):
        return LiveEvent(
            "call_answered",
            {"call_id": event.call_id, "agent_id": event.agent_id, "queue": event.queue, "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, CallEnded):
        return LiveEvent(
            "call_ended",
            {"call_id": event.call_id, "agent_id": event.agent_id, "queue": event.queue, "at": event.at},
            agent_id=event.agent_id,
        )
    if isinstance(event, CallQueued):
        return LiveEvent("call_queued", {"call_id": event.call_id, "queue": event.queue, "at": event.at})
    if isinstance(event, CallAbandoned):
        return LiveEvent("call_abandoned", {"call_id": event.call_id, "queue": event.queue, "at": event.at})
    return None


ACD_EVENT_KINDS = (
    AgentStateChanged, AgentPendingChanged, CallAssigned, CallRingNoAnswer, CallAnswered,
    CallEnded, CallQueued, CallAbandoned,
)


class Publisher:
    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self._connections: dict[int, Connection] = {}
        # the audiences, indexed: publishing costs the recipients, not every connection
        self._by_role: dict[Role, dict[int, Connection]] = {role: {} for role in Role}
        self._by_agent: dict[str, dict[int, Connection]] = {}
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        self.dropped = 0

    @property
    def connections(self) -> int:
        return len(self._connections)

    def connect(self, who: Principal) -> Connection:
        conn = Connection(who, asyncio.Queue(self.queue_size), next(self._ids))
        self._connections[conn.id] = conn
        self._by_role[who.role][conn.id] = conn
        if who.role is Role.AGENT and who.agent_id:
            self._by_agent.setdefault(who.agent_id, {})[conn.id] = conn
        self._connected.set()
        return conn

    async def wait_for_connections(self, count: int) -> None:
        """Until at least `count` streams are open (tests: the page is listening)."""
        while self.connections < count:
            self._connected.clear()
            await self._connected.wait()

    def disconnect(self, conn: Connection) -> None:
        self._connections.pop(conn.id, None)
        self._by_role[conn.who.role].pop(conn.id, None)
        agent_conns = self._by_agent.get(conn.who.agent_id)
        if agent_conns is not None:
            agent_conns.pop(conn.id, None)
            if not agent_conns:
                del self._by_agent[conn.who.agent_id]
        conn.closed.set()

    def _recipients(self, event: LiveEvent) -> list[Connection]:
        targets: dict[int, Connection] = {}
        for role in event.roles:
            targets.update(self._by_role[role])
        if event.agent_id:
            targets.update(self._by_agent.get(event.agent_id, {}))
        return list(targets.values())

    def publish(self, event: LiveEvent) -> None:
        for conn in self._recipients(event):
            try:
                conn.queue.put_nowait(event)
            except asyncio.QueueFull:
                conn.dropped = True
                self.dropped += 1
                log.warning("live connection %s (%s) too slow: dropped", conn.id, conn.who.actor)
                self.disconnect(conn)

    def on_acd_event(self, event: Event) -> None:
        live = _agent_event(event)
        if live is not None:
            self.publish(live)

    def case_changed(self, case_number: str, status: str, assigned_agent: str | None = None, **data: Any) -> None:
        """Services call this after a case change is committed."""
        self.publish(
            LiveEvent(
                "case_changed",
                {"number": case_number, "status": status, "assigned_agent": assigned_agent, **data},
                agent_id=assigned_agent or "",
            )
        )

    def close_all(self) -> None:
        for conn in list(self._connections.values()):
            self.disconnect(conn)

