"""Fair callbacks through the Asterisk adapter (asterisk/callback.py + acd/callbacks.py)
against the fake Asterisk: a slot later on, merged requests, cancelling, outcomes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.call import CallState
from acd.callbacks import BusinessHours, CallbackPolicy, Outcome
from acd.events import CallAbandoned, CallArrived
from acd.queue import QueueConfig
from asterisk.callback import CALLBACK_SOURCE, CANCELLED
from tests.asterisk.rig import Rig, make_rig

QUEUES = (
    QueueConfig("booking", skills={"booking": 1}, ring_timeout=30, wrap_up=0.0,
                callbacks=CallbackPolicy(BusinessHours(), merge_same_number=True)),
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec", queues=QUEUES)
    yield rig
    await rig.close()


async def test_a_slot_later_on_is_placed_at_its_start_and_reached_is_recorded(rig: Rig) -> None:
    callbacks = rig.control.callbacks
    arrived: asyncio.Future[CallArrived] = asyncio.get_running_loop().create_future()
    rig.acd.subscribe(lambda e: arrived.done() or arrived.set_result(e), (CallArrived,))  # type: ignore[arg-type]
    start = time.time() + 0.3
    callbacks.arrive("cb1", "booking", "+821012345678", arrived_at=time.time() - 30, slot=(start, start + 600))
    assert "cb1" not in rig.acd.calls  # kept until its slot begins
    event = await asyncio.wait_for(arrived, 5.0)
    assert event.call_id == "cb1" and event.source == CALLBACK_SOURCE and event.at >= start - 0.01
    assert rig.acd.calls["cb1"].arrived_at < start - 29  # its wait counts from the first arrival
    rig.acd.login("1001")
    originate = await rig.fake.wait_action("Originate")
    leg = originate["ChannelId"]
    rig.fake.answer_originate(leg)
    await rig.barrier()
    rig.fake.customer_answers(leg)
    await rig.barrier()
    rig.fake.hangup(leg)
    await rig.barrier()
    assert "cb1" not in rig.acd.calls
    assert [(r.call_id, r.outcome) for r in callbacks.book.done] == [("cb1", Outcome.REACHED)]
    assert callbacks.book.report()["booking"]["reached"] == 1


async def test_same_number_is_merged_and_a_cancel_takes_it_out_of_the_queue(rig: Rig) -> None:
    callbacks = rig.control.callbacks
    first = callbacks.arrive("cb1", "booking", "+821012345678")
    again = callbacks.arrive("cb2", "booking", "+821012345678")
    assert again is first and "cb2" not in rig.acd.calls and rig.acd.calls["cb1"].state is CallState.QUEUED
    assert callbacks.book.open["cb1"].merged == ["cb2"]
    assert callbacks.cancel("booking", "+821012345678")
    assert "cb1" not in rig.acd.calls
    assert [e.reason for e in rig.events if isinstance(e, CallAbandoned)] == [CANCELLED]
    assert callbacks.book.report()["booking"] == {"reached": 0, "no_answer": 0, "cancelled": 1, "merged": 1,
                                                  "waiting": 0}
    assert not callbacks.cancel("booking", "+821012345678")  # nothing left to cancel
