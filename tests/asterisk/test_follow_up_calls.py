"""Follow-up call tasks (issue 15) placed by Hotline through the callback path on Asterisk
(hotline/service_process/follow_up_calls.py + asterisk/callback.py), against the fake
Asterisk: taking the task Originates an agent, the customer is dialled, and the outcome is
written on the task. The repository is an in-memory double of OutreachRepository's three calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from casestore.accounts import Actor
from casestore.service_process.outreach_store import TaskView
from hotline.service_process.follow_up_calls import FollowUpCalls, call_id_of
from tests.asterisk.rig import Rig, make_rig

NUMBER = "+821012345678"


class Tasks:
    """The task table, as the follow-up calls use it."""

    def __init__(self) -> None:
        self.rows = {7: TaskView(7, "C-2026-0001", 0.0, "open", None, None, NUMBER),
                     8: TaskView(8, "C-2026-0002", 0.0, "open", None, None, NUMBER.replace("5678", "9999"))}
        self.finished: list[tuple[str, int, str]] = []

    async def take_follow_up(self, actor: Actor, task_id: int) -> TaskView:
        row = self.rows[task_id]
        assert row.status == "open"
        self.rows[task_id] = TaskView(row.id, row.case_number, row.due_at, "taken", actor.user_id, None, row.phone)
        return self.rows[task_id]

    async def finish_follow_up(self, actor: Actor, task_id: int, outcome: str) -> TaskView:
        row = self.rows[task_id]
        assert row.status == "taken" and row.taken_by == actor.user_id
        self.rows[task_id] = TaskView(row.id, row.case_number, row.due_at, "done", row.taken_by, outcome, row.phone)
        self.finished.append((actor.login, task_id, outcome))
        return self.rows[task_id]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec")
    yield rig
    await rig.close()


async def test_taking_a_task_places_the_call_and_records_reached_and_no_answer(rig: Rig) -> None:
    tasks = Tasks()
    calls = FollowUpCalls(tasks, rig.control.callbacks, "booking")  # type: ignore[arg-type]
    agent = Actor("kim", user_id=3)
    rig.acd.login("1001")
    task = await calls.take(agent, 7)
    assert task.status == "taken"
    originate = await rig.fake.wait_action("Originate")
    assert originate["Channel"] == "PJSIP/1001" and originate["CallerID"] == f'"Callback" <{NUMBER}>'
    assert rig.acd.calls[call_id_of(7)].caller == NUMBER
    leg = originate["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    rig.fake.customer_answers(leg)
    await rig.barrier()
    rig.fake.hangup(leg)
    await rig.barrier()
    await asyncio.wait_for(calls.recorded.wait(), 5.0)
    await calls.drain()
    assert tasks.finished == [("kim", 7, "reached")]

    calls.recorded.clear()
    assert rig.state("1001") == "wrap_up"  # the booking queue's wrap-up ends when the agent says
    rig.acd.wrap_done("1001")
    await calls.take(agent, 8)
    second = await rig.fake.wait_action("Originate", 2)
    leg = second["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    for _ in range(3):  # every attempt the dialplan makes fails
        rig.fake.customer_fails(leg)
        await rig.barrier()
    await asyncio.wait_for(calls.recorded.wait(), 5.0)
    await calls.drain()
    assert tasks.finished[-1] == ("kim", 8, "no_answer")
    assert tasks.rows[8].outcome == "no_answer"
