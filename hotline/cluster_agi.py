"""FastAGI on every node of a cluster: the IVR runs where the session lands, the call goes
to the leader.

Every node runs a FastAGI server and the IVR (`AsteriskService(serve_ami=False)`, "the
front"); only the leader runs the AMI link and call control (`AsteriskService(serve_agi=
False)`, started and stopped with the lease). When the IVR is done with a call:

- on the leader, it is queued here as on one node (`LocalHandover`);
- on a follower, `arrive` is sent to the leader through the command path under the id
  `arrive:<call id>` (the same on every attempt: a reply lost in a failover is answered from
  the leader's kept result, or refused as a duplicate when the old leader had it in its
  stream: both mean the call is queued). The leader's call control takes the channel by its
  Uniqueid (`CallControl._arrived_elsewhere`); abandon and end then come from the leader's
  AMI, which sees the channel hang up. A follower that hears from no leader within
  `within` seconds leaves the caller parked on hold (the dialplan did that already, with the
  channel variables set) and keeps sending the same command in the background for
  `retry_for` seconds; a leader elected meanwhile adopts the caller in its AMI resync anyway.
- a callback accepted on a follower is sent the same way (source `asterisk-callback`); with
  no leader it is refused while the caller is still in the IVR (the menu says so);
- the survey (agent hung up first) sends `end` for the talk.

The case-store rows of the IVR (call start, steps, outcome) are written by the node that ran
it (idempotent upserts on the call's id); the ACD's by the leader's writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from acd.call import CallState
from acd.errors import AcdError
from asterisk.callback import CALLBACK_SOURCE
from asterisk.errors import CallControlError
from asterisk.handover import LocalHandover
from asterisk.service import AsteriskService
from asterisk.settings import valid_callback_number
from hotline.privacy import mask_phone
from state.cluster import ClusterNode
from state.commands import raise_reply
from state.errors import StateError

log = logging.getLogger("hotline.state.cluster")

FRONT_KEY = web.AppKey("asterisk_front", AsteriskService)


class ClusterHandover:
    """`asterisk.handover.Handover` for a cluster node: local while leading, else the leader."""

    def __init__(self, node: Callable[[], ClusterNode], control: Callable[[], AsteriskService | None], *,
                 within: float = 10.0, retry_for: float = 60.0) -> None:
        self.node = node
        self.control = control  # the leader's call control on this node, when it runs
        self.within = within
        self.retry_for = retry_for
        self.sent = 0  # calls handed to another node (tests, the log)
        self._retries: set[asyncio.Task[None]] = set()

    def _local(self) -> LocalHandover | None:
        service = self.control()
        return LocalHandover(service.control) if service is not None and self.node().leader else None

    async def close(self) -> None:
        for task in list(self._retries):
            task.cancel()
        await asyncio.gather(*self._retries, return_exceptions=True)

    async def enqueue(
        self, call_id: str, channel: str, queue: str, *, caller: str, dialed: str, language: str,
        priority: int, tier: str, skills: Mapping[str, int],
    ) -> None:
        local = self._local()
        if local is not None:
            await local.enqueue(call_id, channel, queue, caller=caller, dialed=dialed, language=language,
                                priority=priority, tier=tier, skills=skills)
            return
        args = {"call_id": call_id, "queue": queue, "caller": caller, "language": language, "priority": priority,
                "tier": tier, "skills": dict(skills), "source": "asterisk", "dialed": dialed}
        try:
            await self._arrive(call_id, args)
        except StateError as exc:
            log.error("call %s: no leader answered (%s); the caller waits on hold, sent again for %.0f s",
                      call_id, exc, self.retry_for)
            task = asyncio.get_running_loop().create_task(self._retry(call_id, args), name=f"arrive-{call_id}")
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)
            return
        log.info("call %s from %s queued in %s through the leader", call_id, mask_phone(caller), queue)

    async def _arrive(self, call_id: str, args: dict[str, Any]) -> None:
        """`arrive` on the leader (StateError when no leader answered within `within`)."""
        node = self.node()
        try:
            async with asyncio.timeout(self.within):
                reply = await node.send_command(f"arrive:{call_id}", "arrive", args)
        except TimeoutError as exc:
            raise StateError(f"no reply within {self.within} s") from exc
        self.sent += 1
        if reply.get("error") == "DuplicateCall":  # the leader had it already (a resent command)
            return
        try:
            raise_reply(reply)
        except AcdError as exc:
            raise CallControlError(f"cannot queue call {call_id}: {exc}", call_id) from exc
        with contextlib.suppress(TimeoutError):  # the replica shows it before the IVR says done
            await node.wait_applied(int(reply.get("n", 0)), within=2.0)

    async def _retry(self, call_id: str, args: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_for
        while loop.time() < deadline:
            await asyncio.sleep(1.0)
            if call_id in self.node().acd.calls:
                return  # a new leader adopted it from its channel (resync)
            try:
                await self._arrive(call_id, args)
                log.warning("call %s: queued through the leader after a retry", call_id)
                return
            except StateError:
                continue
            except CallControlError as exc:
                log.error("%s", exc)
                return
        log.error("call %s: no leader for %.0f s; the caller stays on hold for the next leader's resync",
                  call_id, self.retry_for)

    async def callback(
        self, call_id: str, queue: str, number: str, *, dialed: str, language: str, priority: int,
        tier: str, skills: Mapping[str, int],
    ) -> None:
        local = self._local()
        if local is not None:
            await local.callback(call_id, queue, number, dialed=dialed, language=language, priority=priority,
                                 tier=tier, skills=skills)
            return
        if not valid_callback_number(number):
            raise CallControlError(f"call {call_id}: callback number {mask_phone(number)!r} is not dialable",
                                   call_id)
        args = {"call_id": call_id, "queue": queue, "caller": number, "language": language, "priority": priority,
                "tier": tier, "skills": dict(skills), "source": CALLBACK_SOURCE, "dialed": dialed}
        try:
            await self._arrive(call_id, args)
        except StateError as exc:  # the caller is still in the IVR: the menu says it failed
            raise CallControlError(f"call {call_id}: callback not queued, no leader ({exc})", call_id) from exc
        log.info("call %s: callback to %s queued in %s through the leader", call_id, mask_phone(number), queue)

    async def agent_left(self, call_id: str) -> tuple[str, str] | None:
        local = self._local()
        if local is not None:
            return await local.agent_left(call_id)
        node = self.node()
        call = node.acd.calls.get(call_id)
        if call is None or call.state is not CallState.ON_CALL:
            return None
        try:
            async with asyncio.timeout(self.within):
                reply = await node.send_command(f"end:{call_id}", "end", {"call_id": call_id})
            raise_reply(reply)
        except (StateError, AcdError, TimeoutError) as exc:
            log.warning("call %s: the talk's end not sent to the leader (%r); its AMI ends it", call_id, exc)
        return call.dialed, call.language

    async def hangup(self, channel: str, call_id: str) -> None:
        local = self._local()
        if local is not None:
            await local.hangup(channel, call_id)
            return
        log.error("call %s: refused by the leader; it stays on hold until the leader's next resync", call_id)

    async def settle(self, call_id: str, within: float) -> None:
        """On a follower the leader's Redirect is not awaited here (its AMI actions run on the
        leader): the session closes once the leader has queued the call."""
        local = self._local()
        if local is not None:
            await local.settle(call_id, within)


def front_check(app: web.Application) -> str | None:
    """readyz on a cluster node: the FastAGI front is listening (the leader also needs AMI)."""
    front = app.get(FRONT_KEY)
    return None if front is not None and front.agi.port else "FastAGI not listening"
