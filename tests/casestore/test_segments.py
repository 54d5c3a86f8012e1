"""A transferred, consulted and conferenced call is one `calls` row with its segments: the
report counts it once and splits its handle time per agent (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from casestore import Store
from casestore.models import CALL_SEGMENTS
from casestore.reports import handle_time_by_agent
from tests.casestore.traffic import START, make_acd


async def test_one_record_and_a_segment_per_part(store: Store) -> None:
    acd, clock = make_acd(agents=3)
    writer = store.writer(batch_size=3, flush_interval=0.05)  # the call's events span batches
    await writer.start()
    acd.subscribe(writer.on_event)
    acd.arrive("t1", "general", caller="+821012345678", source="simulation")  # a0 answers at once
    clock.advance(2)
    acd.answer("t1")
    clock.advance(30)
    acd.add_party("t1", agent="a1")  # consult a1 (rings 5 s, talks 10 s), then hand over
    clock.advance(5)
    acd.party_answered("t1", "a1")
    clock.advance(10)
    acd.complete_transfer("t1")
    clock.advance(20)
    acd.transfer("t1", agent="a2")  # blind to a2
    clock.advance(3)
    acd.answer("t1")
    clock.advance(40)
    acd.end("t1", disposition="resolved")
    acd.arrive("t2", "general", caller="+821012345679", source="simulation")
    acd.answer("t2")
    second = acd.call("t2").agent_id
    clock.advance(10)
    acd.add_party("t2", number="+82212345678", role="conference")
    acd.party_answered("t2", "tel:+82212345678")
    clock.advance(5)
    acd.leave("t2", second)  # the agent leaves the caller with the number
    async with asyncio.timeout(10):
        await writer.drain()
    await writer.stop()

    assert await store.cases.count("calls") == 2
    row = await store.cases.get_call("t1")
    assert (row.outcome, row.agent_id, row.wait_seconds, row.answered_at) == ("answered", "a2", 2, START + 2)
    assert row.talk_seconds == 40
    out = await store.cases.get_call("t2")
    assert (out.outcome, out.ended_at) == ("transferred", START + 125)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(CALL_SEGMENTS).order_by(CALL_SEGMENTS.c.ended_at,
                                                                  CALL_SEGMENTS.c.party))).all()
    parts = [(r.call_id, r.party, r.role, r.talk_seconds) for r in rows]
    assert parts == [
        ("t1", "a0", "agent", 45.0),  # from its answer to the completed transfer
        ("t1", "a1", "consult", 10.0),
        ("t1", "a1", "agent", 20.0),  # held it until the blind transfer
        ("t1", "a2", "agent", 40.0),
        ("t2", second, "agent", 15.0),
        ("t2", "tel:+82212345678", "conference", 5.0),
    ]
    expected = {"a0": 45.0, "a1": 30.0, "a2": 40.0}
    expected[second] += 15.0
    assert await handle_time_by_agent(store.engine, START, START + 1000) == expected
