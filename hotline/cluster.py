"""`state.mode: cluster` in the wiring: this node's `ClusterNode`, the adapters that run only
while it leads, the case-store writer fed only by the leader, the API's agent actions sent
to the leader from a follower.

Call control choice: the node holding the lease runs the AMI link and call control; every
node runs a FastAGI server with the IVR (hotline/cluster_agi.py) and serves the Twilio
webhooks (hotline/cluster_twilio.py), sending the calls' ACD operations to the leader;
followers keep the ACD replica, serve the API and pages, and forward agent actions. After a
take-over the new leader's AMI resync takes the parked callers back with their places.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from aiohttp import web

from acd.engine import Acd
from acd.events import Event, Subscriber
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_COMMAND_KEY, PRINCIPAL
from state.cluster import ClusterNode, LeaderHooks, ScopedClock
from state.journal import call_ids
from state.settings import Durability

log = logging.getLogger("hotline.state.cluster")

CLUSTER_KEY = web.AppKey("cluster", ClusterNode)
Ctx = Callable[[web.Application], AsyncIterator[None]]


class LeaderWriterSource:
    """The ACD as the case store's writer sees it: events only while this node leads."""

    def __init__(self, acd: Acd, is_leader: Callable[[], bool]) -> None:
        self.acd = acd
        self.is_leader = is_leader

    def subscribe(self, subscriber: Subscriber, kinds: Iterable[type[Event]] | None = None) -> Callable[[], None]:
        def gated(event: Event) -> None:
            if self.is_leader():
                subscriber(event)

        return self.acd.subscribe(gated, kinds)


class LeaderOnly:
    """aiohttp cleanup contexts entered when this node becomes the leader, left when it stops."""

    def __init__(self) -> None:
        self.contexts: list[Ctx] = []
        self._running: list[AsyncIterator[None]] = []

    async def start(self, app: web.Application) -> None:
        for ctx in self.contexts:
            generator = ctx(app)
            await generator.__anext__()
            self._running.append(generator)

    async def stop(self) -> None:
        while self._running:
            generator = self._running.pop()
            try:
                await generator.__anext__()
            except StopAsyncIteration:
                pass
            except Exception:
                log.exception("cluster: stopping a leader-only adapter failed")


def cluster_ctx(
    durability: Durability,
    acd: Acd,
    clock: ScopedClock,
    leader_only: LeaderOnly,
    writer_of: Callable[[web.Application], Any],
    in_ivr: Callable[[web.Application], Iterable[str]] = lambda app: (),
) -> Ctx:
    """Join the cluster (after the case store's context: the writer exists). `in_ivr`: the
    calls in this node's own IVR now (kept open at a take-over)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def promoted(tail: list[Event]) -> None:
            writer = writer_of(app)
            if writer is not None:
                # An open call the ACD does not have was in an IVR: the dead leader's (closed
                # here as interrupted), or a live follower's (closed too, and resumed by the
                # writer when it reaches a queue or ends in the IVR: both rewrite the row's
                # end); the ACD's own and those in this node's IVR stay open.
                keep = set(acd.calls) | call_ids(tail) | set(in_ivr(app))
                agents = {a.id for a in acd.agents.values() if a.state.value != "logged_out"}
                try:
                    await writer.close_orphans(keep_calls=keep, keep_agents=agents)
                except Exception as exc:  # the store is away: the writer retries its own rows
                    log.warning("cluster: orphaned calls not closed (%r)", exc)
                for event in tail:  # the old leader's writer may not have flushed them
                    writer.on_event(event)
            await leader_only.start(app)

        async def before_commit() -> None:
            writer = writer_of(app)
            if writer is not None:
                await writer.drain()

        node = ClusterNode(durability, acd, clock,
                           LeaderHooks(promoted=promoted, demoted=leader_only.stop, before_commit=before_commit))
        app[CLUSTER_KEY] = node
        app[ACD_COMMAND_KEY] = node.command
        await node.start()
        try:
            yield
        finally:
            await node.stop()

    return ctx


async def cluster_view(request: web.Request) -> web.Response:
    """This node's part in the cluster (which node leads, since when, the fencing token)."""
    if request.get(PRINCIPAL) is None:  # any signed-in person or API token
        raise ApiError(401, "unauthorized", "sign in or send an API token")
    node = request.app[CLUSTER_KEY]
    holder = None
    try:
        holder = await node.lease.holder()
    except Exception as exc:  # Redis away: say so, this node still answers
        log.warning("cluster view: %r", exc)
    return web.json_response({
        "node": node.node_id, "leader": node.leader, "token": node.lease.token if node.leader else None,
        "epoch": node.epoch, "holder": list(holder) if holder else None, "promotions": node.promotions,
        "last_promotion": node.last_promotion, "calls": len(node.acd.calls),
    })


def add_cluster_routes(app: web.Application) -> None:
    app.router.add_get("/api/cluster", cluster_view)
