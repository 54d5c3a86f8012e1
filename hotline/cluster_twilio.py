"""Twilio webhooks on every node of a cluster: the IVR runs on the node whose webhook began
the call, the queue and the routing on the leader.

Every node serves the Twilio routes. A call's first webhook (`voice`) may reach any node
(the number's URL, or its fallback URL); the TwiML it answers points every later webhook of
the call at that node (`twilio.public_url` is the node's own address), so the IVR, which
waits in that process for the caller's answers, sees them all. On a follower:

- the IVR's transfer sends `arrive` to the leader (id `arrive:<call sid>`, the same on every
  attempt), waiting at most `within` seconds: a leader's refusal, or no leader in time, ends
  the call with the "sorry" message instead of a caller on hold nobody routes;
- the caller then loops on the follower's hold TwiML (positions read from its replica) until
  the leader assigns an agent: the leader's gateway takes the call (`TwilioGateway._adopt`)
  and dials the agent over REST, so the `dial`/`agent` webhooks and any later hold rounds go
  to the leader; the follower forgets the call when its replica sees the assignment;
- answer, end, ring-no-answer and abandon (a `status` webhook reaching the follower, the hold
  watchdog) are sent to the leader in the background, each bounded by `within` seconds;
- when this node leads, everything runs here (`LocalOps`), as on one node.

Every network wait is bounded: the command's own attempts (`ClusterNode.send_command`) and
`within` around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from acd.errors import AcdError
from state.cluster import ClusterNode
from state.commands import CommandError, raise_reply
from state.errors import StateError
from twilio_gateway.acd_ops import LocalOps

log = logging.getLogger("hotline.state.cluster")


class ClusterOps:
    """`twilio_gateway.acd_ops.AcdOps` for a cluster node: here while leading, else on the leader."""

    def __init__(self, node: Callable[[], ClusterNode], *, within: float = 8.0) -> None:
        self.node = node
        self.within = within
        self._tasks: set[asyncio.Task[None]] = set()

    def _local(self) -> LocalOps | None:
        node = self.node()
        return LocalOps(node.acd) if node.leader else None

    async def _send(self, command_id: str, op: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.within):
                return await self.node().send_command(command_id, op, args)
        except (StateError, TimeoutError) as exc:
            raise CommandError({"ok": False, "error": "no_leader",
                                "message": f"no leader answered {op} within {self.within} s ({exc!r})"}) from exc

    async def arrive(
        self, call_id: str, queue: str, *, caller: str, language: str, priority: int, tier: str,
        skills: Mapping[str, int], source: str, dialed: str,
    ) -> None:
        local = self._local()
        if local is not None:
            await local.arrive(call_id, queue, caller=caller, language=language, priority=priority, tier=tier,
                               skills=skills, source=source, dialed=dialed)
            return
        args = {"call_id": call_id, "queue": queue, "caller": caller, "language": language, "priority": priority,
                "tier": tier, "skills": dict(skills), "source": source, "dialed": dialed}
        reply = await self._send(f"arrive:{call_id}", "arrive", args)
        if reply.get("error") != "DuplicateCall":  # a resent arrive the leader had already
            raise_reply(reply)
        with contextlib.suppress(TimeoutError):  # the hold TwiML says the place: the replica has it first
            await self.node().wait_applied(int(reply.get("n", 0)), within=2.0)

    def _forward(self, op: str, args: dict[str, Any]) -> None:
        local = self._local()
        if local is not None:
            call_id = args.pop("call_id")
            getattr(local, op)(call_id, **args)
            return

        async def send() -> None:
            try:
                raise_reply(await self._send(f"{op}:{args['call_id']}:{uuid.uuid4().hex[:8]}", op, args))
            except AcdError as exc:
                log.warning("twilio call %s: %s not done on the leader: %s", args["call_id"], op, exc)

        task = asyncio.get_running_loop().create_task(send(), name=f"twilio-{op}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def answer(self, call_id: str) -> None:
        self._forward("answer", {"call_id": call_id})

    def end(self, call_id: str, disposition: str = "") -> None:
        self._forward("end", {"call_id": call_id, **({"disposition": disposition} if disposition else {})})

    def ring_no_answer(self, call_id: str) -> None:
        self._forward("ring_no_answer", {"call_id": call_id})

    def abandon(self, call_id: str, reason: str) -> None:
        self._forward("abandon", {"call_id": call_id, "reason": reason})

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
