"""Follow-up call tasks Hotline dials for the agent who takes them (issue 15).

When an agent takes a follow-up task (desktop "My tasks", or the API), Hotline places the
call *for that agent*: a call record is opened on the task's case (direction outbound,
`casestore/service_process/follow_up_store.py`), then the channel's dialler places a call
reserved for the agent (acd/targeted.py) in `service.follow_up_queue` (default the first
queue): it rings only that agent, now if they are free or as soon as they are, and connects
them to the customer. On Asterisk (`asterisk/follow_up.py`) the agent's phone is Originated
first and the dialplan dials the customer; on Twilio (`twilio_gateway/follow_up.py`) the
customer is called through the REST API and the TwiML connects them to the agent's SIP URI
or Client identity.

When it is over the outcome (acd/follow_up.py) is recorded by the agent who took the task,
on the task and as a note on the case: `reached`, `no_answer`, `busy`, `failed`. The
fallback: when the agent logs out, or has not been free for `service.follow_up_wait`
seconds (default 600), the call is dropped and the task is open again for anyone
(`released`). Without a dialler, a customer without a number, or a taker without an ACD agent,
taking a task works as before: the agent dials and records the outcome themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from acd.follow_up import FollowUpOutcome
from casestore.accounts import Actor
from casestore.service_process.follow_up_store import FollowUpCallStore, task_of
from casestore.service_process.outreach_store import OutreachRepository, TaskView
from hotline.privacy import mask_phone

log = logging.getLogger("hotline.service.follow_up")

DEFAULT_WAIT = 600.0


class FollowUpDialler(Protocol):
    """A channel's follow-up path (asterisk/follow_up.py, twilio_gateway/follow_up.py)."""

    source: str  # the ACD source (and call record source) of its calls

    def place(self, call_id: str, queue: str, number: str, agent_id: str, *, wait: float) -> None: ...

    def add_outcome_hook(self, hook: Callable[[str, FollowUpOutcome], None]) -> None: ...

    def close(self) -> None: ...  # stop following the ACD


class FollowUpCalls:
    def __init__(
        self, outreach: OutreachRepository, calls: FollowUpCallStore, dialler: FollowUpDialler, queue: str,
        *, wait: float = DEFAULT_WAIT,
    ) -> None:
        self.outreach = outreach
        self.store = calls
        self.dialler = dialler
        self.queue = queue
        self.wait = wait
        self.placed: dict[str, tuple[Actor, int]] = {}  # call id -> who took which task
        self._tasks: set[asyncio.Task[None]] = set()
        self.recorded = asyncio.Event()  # set after each outcome written (tests, shutdown)
        dialler.add_outcome_hook(self._finished)

    async def take(self, actor: Actor, task_id: int, agent_id: str | None = None) -> TaskView:
        """The agent takes the task; Hotline places the call for `agent_id` (the taker's ACD
        agent) when the customer has a number."""
        task = await self.outreach.take_follow_up(actor, task_id)
        if not task.phone:
            log.warning("follow-up task %s: the customer has no phone number; the agent dials", task_id)
            return task
        if not agent_id:
            log.warning("follow-up task %s: %s is no ACD agent; they dial themselves", task_id, actor.login)
            return task
        call_id = ""
        try:
            call_id = await self.store.open_call(task_id, number=task.phone, queue=self.queue, agent_id=agent_id,
                                                 source=self.dialler.source)
            self.placed[call_id] = (actor, task_id)
            self.dialler.place(call_id, self.queue, task.phone, agent_id, wait=self.wait)
        except Exception as exc:  # the task stays taken: the agent can still call and record
            log.error("follow-up task %s: call to %s not placed: %s", task_id, mask_phone(task.phone), exc)
            if call_id:
                self.placed.pop(call_id, None)
                await self.store.not_placed(call_id)
            return task
        log.info("follow-up task %s: call %s to %s placed for agent %s", task_id, call_id,
                 mask_phone(task.phone), agent_id)
        return task

    def calling(self, task_id: int) -> bool:
        """Whether Hotline is placing a call for the task now."""
        return any(task == task_id for _, task in self.placed.values())

    def _finished(self, call_id: str, outcome: FollowUpOutcome) -> None:
        taken = self.placed.pop(call_id, None)
        if taken is None:
            task_id = task_of(call_id)
            if task_id is None:
                return
            coro = self._record_for_taker(task_id, call_id, outcome)  # placed before a restart
        else:
            coro = self._record(*taken, call_id, outcome)
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, actor: Actor, task_id: int, call_id: str, outcome: FollowUpOutcome) -> None:
        try:
            if outcome is FollowUpOutcome.RELEASED:
                await self.store.release(actor, task_id, call_id)
            else:
                await self.store.record(actor, task_id, call_id, outcome.value)
            log.info("follow-up task %s: %s", task_id, outcome.value)
        except Exception:
            log.exception("follow-up task %s: outcome %s not recorded", task_id, outcome.value)
        finally:
            self.recorded.set()

    async def _record_for_taker(self, task_id: int, call_id: str, outcome: FollowUpOutcome) -> None:
        try:
            actor = await self.store.taker(task_id)
        except Exception:
            log.exception("follow-up task %s: its taker not found", task_id)
            actor = None
        if actor is None:
            log.warning("follow-up task %s: call %s ended (%s) but the task is not taken", task_id, call_id,
                        outcome.value)
            self.recorded.set()
            return
        await self._record(actor, task_id, call_id, outcome)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
