"""Case work on SQLite and PostgreSQL: filters, timeline, changes with history and audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casestore import Store
from casestore.accounts import Actor
from casestore.casework_views import CallFilter, CaseFilter
from casestore.errors import IllegalCaseTransition, InvalidInput, NotFound
from casestore.models import AUDIT_LOG, CALLS, IVR_STEPS, RECORDINGS

KIM = Actor("kim", 7)


async def _call(store: Store, call_id: str, caller: str, *, at: float, queue: str = "booking",
                agent: str | None = "1001", outcome: str = "answered") -> None:
    async with store.engine.begin() as conn:
        await conn.execute(CALLS.insert().values(
            id=call_id, source="asterisk", caller=caller, queue=queue, agent_id=agent, started_at=at,
            ended_at=at + 60, outcome=outcome,
        ))
        await conn.execute(IVR_STEPS.insert(), [
            {"call_id": call_id, "at": at + 1, "node": "main", "kind": "dtmf", "input": "1", "seq": 1},
            {"call_id": call_id, "at": at + 2, "node": "booking_ref", "kind": "dtmf", "input": "424242", "seq": 1},
        ])
        await conn.execute(RECORDINGS.insert().values(
            call_id=call_id, uri=f"rec:{call_id}.wav", format="wav", size=100, sha256="0" * 64,
            created_at=at + 60, retain_until=at + 1e6,
        ))


async def test_open_for_a_call_then_timeline_with_ivr_path_recordings_notes_and_history(store: Store) -> None:
    now = store.clock()
    await _call(store, "c-1", "+821012345678", at=now - 100)
    case = await store.casework.open_case(KIM, category="refund", priority="major", call_id="c-1", subject="late refund")
    await store.casework.add_note(KIM, case.number, "called back")
    await store.casework.change_status(KIM, case.number, "in_progress")
    await store.casework.change_status(KIM, case.number, "resolved", resolution_code="refunded")
    line = await store.casework.timeline(case.number)
    assert line.case.status == "resolved" and line.case.resolution_code == "refunded"
    assert line.customer is not None and line.customer.phone == "+821012345678"
    assert [c.call.id for c in line.calls] == ["c-1"]
    assert line.calls[0].collected() == {"main": "1", "booking_ref": "424242"}
    assert [r.uri for r in line.calls[0].recordings] == ["rec:c-1.wav"]
    assert [n.body for n in line.case.notes] == ["called back"]
    assert [(h.from_status, h.to_status, h.resolution_code) for h in line.changes] == [
        ("open", "in_progress", None), ("in_progress", "resolved", "refunded"),
    ]
    reopened = await store.casework.change_status(KIM, case.number, "open")
    assert reopened.resolution_code is None and reopened.resolved_at is None
    async with store.engine.connect() as conn:
        actions = (await conn.execute(select(AUDIT_LOG.c.action, AUDIT_LOG.c.actor))).all()
    assert [a for a, _ in actions] == ["case.open", "case.note", "case.status", "case.status", "case.status"]
    assert {who for _, who in actions} == {"kim"}


async def test_refused_changes_leave_nothing(store: Store) -> None:
    case = await store.casework.open_case(KIM, category="refund", priority="common")
    with pytest.raises(InvalidInput):
        await store.casework.change_status(KIM, case.number, "resolved")  # no code
    with pytest.raises(IllegalCaseTransition):
        await store.casework.change_status(KIM, case.number, "closed")
    with pytest.raises(NotFound):
        await store.casework.assign(KIM, "HL-1999-000001", "1001")
    with pytest.raises(InvalidInput):
        await store.casework.update_case(KIM, case.number, priority="whenever")
    line = await store.casework.timeline(case.number)
    assert line.case.status == "open" and line.changes == ()
    async with store.engine.connect() as conn:
        assert [a for (a,) in (await conn.execute(select(AUDIT_LOG.c.action))).all()] == ["case.open"]


async def test_case_filters_and_attention(store: Store) -> None:
    now = store.clock()
    await _call(store, "c-1", "+821011110000", at=now - 100)
    late = await store.casework.open_case(KIM, category="complaint", priority="urgent", call_id="c-1")
    other = await store.casework.open_case(KIM, category="refund", priority="common", subject="Seat refund")
    await store.casework.assign(KIM, other.number, "1002")
    await store.casework.add_note(KIM, late.number, "wants a callback tomorrow")
    # make the first one overdue
    async with store.engine.begin() as conn:
        from casestore.models import CASES

        await conn.execute(CASES.update().where(CASES.c.number == late.number).values(due_at=now - 10))

    async def numbers(**kw: object) -> list[str]:
        return [s.case.number for s in await store.casework.cases(CaseFilter(**kw))]  # type: ignore[arg-type]

    assert await numbers(overdue=True) == [late.number]
    assert await numbers(assignee="1002") == [other.number]
    assert await numbers(unassigned=True) == [late.number]
    assert await numbers(category="refund") == [other.number]
    assert await numbers(priority="urgent") == [late.number]
    assert await numbers(phone="1111") == [late.number]
    assert await numbers(number=other.number[-6:]) == [other.number]
    assert await numbers(text="seat") == [other.number]
    assert await numbers(text="callback") == [late.number]
    assert await numbers(status=("resolved",)) == []
    overdue, unassigned = await store.casework.attention()
    assert [s.case.number for s in overdue] == [late.number] and overdue[0].overdue
    assert [s.case.number for s in unassigned] == [late.number]


async def test_call_filters_and_drill_down(store: Store) -> None:
    now = store.clock()
    await _call(store, "c-1", "+821011110000", at=now - 500, queue="booking", agent="1001")
    await _call(store, "c-2", "+821022220000", at=now - 100, queue="refund", agent="1002", outcome="abandoned")
    case = await store.casework.open_case(KIM, category="refund", priority="common", call_id="c-2")

    async def ids(**kw: object) -> list[str]:
        return [s.call.id for s in await store.casework.calls(CallFilter(**kw))]  # type: ignore[arg-type]

    assert await ids() == ["c-2", "c-1"]
    assert await ids(phone="2222") == ["c-2"]
    assert await ids(queue="booking") == ["c-1"]
    assert await ids(agent="1002") == ["c-2"]
    assert await ids(outcome="abandoned") == ["c-2"]
    assert await ids(since=now - 200) == ["c-2"]
    assert await ids(until=now - 200) == ["c-1"]
    detail, number = await store.casework.call("c-2")
    assert number == case.number and detail.collected()["booking_ref"] == "424242"
    assert (await store.casework.case_of_call("c-2")) is not None
    with pytest.raises(NotFound):
        await store.casework.call("nope")
