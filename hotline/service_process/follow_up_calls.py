"""Follow-up call tasks placed by Hotline through the same path as queue callbacks (issue 15).

When an agent takes a follow-up task (desktop "My tasks", or the API), Hotline does the
dialling: the task becomes a callback request for the customer's number in the follow-up
queue (`service.follow_up_queue`, default the first queue), handed to the channel's callback
path (`CallbackPlacer`; on Asterisk `asterisk.callback.Callbacks`: the queue's callback hours,
arrival order and same-number merging apply; an agent is rung by Originate, then the
customer is dialled with the dialplan's attempts). When the callback is over its outcome is
recorded on the task, by the agent who took it: `reached`, or `no_answer` when the customer
was not reached after the attempts. A cancelled callback leaves the task taken, for the
agent to record. Without a callback path (no Asterisk) taking a task works as before and the
agent dials and records the outcome themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from acd.callbacks import Outcome, Request
from casestore.accounts import Actor
from casestore.service_process.outreach_store import OutreachRepository, TaskView
from hotline.privacy import mask_phone

log = logging.getLogger("hotline.service.follow_up")

OUTCOMES = {Outcome.REACHED: "reached", Outcome.NO_ANSWER: "no_answer"}  # task outcome of each


def call_id_of(task_id: int) -> str:
    """The call id of a task's follow-up call (one record in the case store)."""
    return f"followup-{task_id}"


class CallbackPlacer(Protocol):
    """The channel's callback path, as this module needs it."""

    def arrive(self, call_id: str, queue: str, number: str) -> object: ...

    def add_outcome_hook(self, hook: Callable[[Request], None]) -> None: ...


class FollowUpCalls:
    def __init__(self, outreach: OutreachRepository, placer: CallbackPlacer, queue: str) -> None:
        self.outreach = outreach
        self.placer = placer
        self.queue = queue
        self.placed: dict[str, tuple[Actor, int]] = {}  # call id -> who took which task
        self._tasks: set[asyncio.Task[None]] = set()
        self.recorded = asyncio.Event()  # set after each outcome written (tests, shutdown)
        placer.add_outcome_hook(self._finished)

    async def take(self, actor: Actor, task_id: int) -> TaskView:
        """The agent takes the task; Hotline places the call (when the customer has a number)."""
        task = await self.outreach.take_follow_up(actor, task_id)
        if not task.phone:
            log.warning("follow-up task %s: the customer has no phone number; the agent dials", task_id)
            return task
        call_id = call_id_of(task_id)
        try:
            self.placer.arrive(call_id, self.queue, task.phone)
        except Exception as exc:  # the task stays taken: the agent can still call and record
            log.error("follow-up task %s: callback to %s not placed: %s", task_id, mask_phone(task.phone), exc)
            return task
        self.placed[call_id] = (actor, task_id)
        log.info("follow-up task %s: callback to %s placed in %s", task_id, mask_phone(task.phone), self.queue)
        return task

    def _finished(self, request: Request) -> None:
        for call_id in (request.call_id, *request.merged):
            taken = self.placed.pop(call_id, None)
            outcome = OUTCOMES.get(request.outcome) if request.outcome is not None else None
            if taken is None or outcome is None:
                continue
            task = asyncio.get_running_loop().create_task(self._record(*taken, outcome))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _record(self, actor: Actor, task_id: int, outcome: str) -> None:
        try:
            await self.outreach.finish_follow_up(actor, task_id, outcome)
            log.info("follow-up task %s: %s", task_id, outcome)
        except Exception:
            log.exception("follow-up task %s: outcome %s not recorded", task_id, outcome)
        finally:
            self.recorded.set()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
