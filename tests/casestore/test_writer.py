from __future__ import annotations

import asyncio

from casestore import Store
from tests.casestore.traffic import caller, drive, make_acd


async def test_every_call_is_written_once_with_its_outcome(store: Store) -> None:
    acd, clock = make_acd()
    writer = store.writer(batch_size=7, flush_interval=0.05)
    await writer.start()
    acd.subscribe(writer.on_event)
    drive(acd, clock, 20)
    async with asyncio.timeout(10):
        await writer.drain()
    await writer.stop()

    assert await store.cases.count("calls") == 20
    assert await store.cases.count("cases") == 20
    answered = await store.cases.get_call("c0")
    assert answered.outcome == "answered"
    assert answered.caller == caller(0)
    assert answered.source == "simulation"
    assert answered.agent_id == "a0"
    assert answered.wait_seconds == 2
    assert answered.talk_seconds == 30
    assert answered.disposition == "resolved"
    assert answered.queue == "complaint"
    assert answered.case_id is not None
    abandoned = await store.cases.get_call("c4")
    assert abandoned.outcome == "abandoned"
    assert abandoned.talk_seconds is None
    assert abandoned.wait_seconds == 2
