"""Follow-up calls Hotline places, in the store (issue 15): the outbound call's record and
the outcome on the task and the case.

- `open_call`: before the call enters the ACD, its `calls` row is written with the task's
  case, `direction = outbound`, the customer's number and source; the call writer then
  fills in the rest from the ACD's events (and opens no case of its own for it:
  `casestore.writer.OUTBOUND_PREFIX`). One row per attempt: `followup-<task>-<n>`.
- `record`: the task is done with the outcome (`reached`, `no_answer`, `busy`, `failed`),
  by the agent who took it; a note on the case says so; both audited, one transaction.
- `release`: the call never reached the agent (acd/targeted.py's fallback): the task is open
  again for anyone, with a note on the case.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import writing
from casestore.errors import InvalidInput, NotFound
from casestore.models import CALLS, CASE_NOTES, CASES, USERS
from casestore.repository import _Transaction
from casestore.service_process.models import FOLLOW_UP_TASKS
from casestore.writer import OUTBOUND_PREFIX

OUTBOUND = "outbound"
NOTES = {
    "reached": "Follow-up call {call}: the customer was reached.",
    "no_answer": "Follow-up call {call}: the customer did not answer.",
    "busy": "Follow-up call {call}: the customer's line was busy.",
    "failed": "Follow-up call {call}: the call could not be completed.",
    "released": "Follow-up call {call}: not placed (the agent was not available); the task is open again.",
}


def call_prefix(task_id: int) -> str:
    return f"{OUTBOUND_PREFIX}{task_id}-"


def task_of(call_id: str) -> int | None:
    """The task a follow-up call id (`followup-<task>-<n>`) belongs to."""
    if not call_id.startswith(OUTBOUND_PREFIX):
        return None
    task, _, attempt = call_id.removeprefix(OUTBOUND_PREFIX).partition("-")
    return int(task) if task.isdigit() and attempt.isdigit() else None


async def finish_taken_task(conn: AsyncConnection, actor: Actor, task_id: int, outcome: str, now: float) -> None:
    """The follow-up task `actor` took is done with `outcome` (InvalidInput: not theirs, or not taken)."""
    f = FOLLOW_UP_TASKS.c
    done = await conn.execute(
        update(FOLLOW_UP_TASKS).where(f.id == task_id, f.status == "taken", f.taken_by == actor.user_id)
        .values(status="done", outcome=outcome, done_at=now)
    )
    if not done.rowcount:
        raise InvalidInput(f"task {task_id} is not taken by {actor.login}")


class FollowUpCallStore:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def open_call(self, task_id: int, *, number: str, queue: str, agent_id: str, source: str) -> str:
        """The record of a new follow-up call for the task (taken); returns its call id."""
        now = self.clock()
        f = FOLLOW_UP_TASKS.c
        async with _Transaction(writing(self.engine)) as conn:
            case_id = (await conn.execute(select(f.case_id).where(f.id == task_id, f.status == "taken"))).scalar()
            if case_id is None:
                raise InvalidInput(f"task {task_id} is not taken")
            prefix = call_prefix(task_id)
            earlier = (await conn.execute(
                select(func.count()).select_from(CALLS).where(CALLS.c.id.startswith(prefix, autoescape=True))
            )).scalar_one()
            call_id = f"{prefix}{int(earlier) + 1}"
            await conn.execute(CALLS.insert().values(
                id=call_id, case_id=case_id, direction=OUTBOUND, caller=number, queue=queue,
                agent_id=agent_id, source=source, started_at=now,
            ))
        return call_id

    async def taker(self, task_id: int) -> Actor | None:
        """Who took the task (still taken), e.g. for a call that outlived a restart."""
        f = FOLLOW_UP_TASKS.c
        async with _Transaction(writing(self.engine)) as conn:
            row = (await conn.execute(
                select(USERS.c.login, USERS.c.id).select_from(FOLLOW_UP_TASKS.join(USERS, USERS.c.id == f.taken_by))
                .where(f.id == task_id, f.status == "taken")
            )).first()
        return None if row is None else Actor(str(row.login), int(row.id))

    async def not_placed(self, call_id: str) -> None:
        """The dialler refused the call (agent logged out, number not dialable): its record ends."""
        async with _Transaction(writing(self.engine)) as conn:
            await conn.execute(update(CALLS).where(CALLS.c.id == call_id, CALLS.c.ended_at.is_(None))
                               .values(ended_at=self.clock(), outcome="not_placed"))

    async def record(self, actor: Actor, task_id: int, call_id: str, outcome: str) -> None:
        """The call is over: the task done with `outcome`, a note on its case."""
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            await finish_taken_task(conn, actor, task_id, outcome, now)
            case_number = await self._note(conn, actor, task_id, call_id, outcome, now)
            await record_audit(conn, actor, "follow_up.done", f"task:{task_id}", at=now,
                               after={"outcome": outcome, "call": call_id, "case": case_number})

    async def release(self, actor: Actor, task_id: int, call_id: str) -> None:
        """The call never reached the agent: the task is open again (for anyone)."""
        now = self.clock()
        f = FOLLOW_UP_TASKS.c
        async with _Transaction(writing(self.engine)) as conn:
            released = await conn.execute(
                update(FOLLOW_UP_TASKS).where(f.id == task_id, f.status == "taken", f.taken_by == actor.user_id)
                .values(status="open", taken_by=None)
            )
            if not released.rowcount:
                raise InvalidInput(f"task {task_id} is not taken by {actor.login}")
            await self._note(conn, actor, task_id, call_id, "released", now)
            await record_audit(conn, actor, "follow_up.release", f"task:{task_id}", at=now, after={"call": call_id})

    async def _note(
        self, conn: AsyncConnection, actor: Actor, task_id: int, call_id: str, outcome: str, now: float,
    ) -> str:
        row = (await conn.execute(
            select(CASES.c.id, CASES.c.number).select_from(
                FOLLOW_UP_TASKS.join(CASES, CASES.c.id == FOLLOW_UP_TASKS.c.case_id)
            ).where(FOLLOW_UP_TASKS.c.id == task_id)
        )).first()
        if row is None:
            raise NotFound(f"no task {task_id}")
        body = NOTES.get(outcome, "Follow-up call {call}: " + outcome).format(call=call_id)
        await conn.execute(CASE_NOTES.insert().values(case_id=row.id, author=actor.login, at=now, body=body))
        await conn.execute(update(CASES).where(CASES.c.id == row.id).values(updated_at=now))
        return str(row.number)
