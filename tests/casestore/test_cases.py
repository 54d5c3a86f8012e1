from __future__ import annotations

import asyncio
import re

import pytest

from casestore import IllegalCaseTransition, InvalidInput, NotFound, Store
from tests.casestore.traffic import START

HOUR = 3600.0


async def test_case_numbers_are_readable_and_unique_under_concurrency(store: Store) -> None:
    cases = await asyncio.gather(
        *(store.cases.open_case("consultation", "common", at=START + i) for i in range(40))
    )
    numbers = [c.number for c in cases]
    assert all(re.fullmatch(r"HL-2026-\d{6}", n) for n in numbers)
    assert sorted(numbers) == [f"HL-2026-{i:06d}" for i in range(1, 41)]
    next_year = await store.cases.open_case("complaint", "major", at=START + 60 * 24 * HOUR)
    assert next_year.number == "HL-2027-000001"


async def test_sla_due_time_comes_from_category_and_priority(store: Store) -> None:
    urgent = await store.cases.open_case("complaint", "urgent", at=START)
    major = await store.cases.open_case("complaint", "major", at=START)
    general = await store.cases.open_case("complaint", "general", at=START)
    common = await store.cases.open_case("consultation", "common", at=START)
    complex_ = await store.cases.open_case("consultation", "complex", at=START)
    assert urgent.due_at - START == 15 * 60
    assert major.due_at - START == HOUR
    assert general.due_at - START == 24 * HOUR
    assert common.due_at - START == 2 * HOUR
    assert complex_.due_at - START == 4 * HOUR
    upgraded = await store.cases.reclassify(common.number, priority="complex", at=START + 10)
    assert upgraded.due_at - START == 4 * HOUR
    with pytest.raises(InvalidInput):
        await store.cases.open_case("complaint", "whenever", at=START)


async def test_status_workflow_with_reopen_and_illegal_moves_rejected(store: Store) -> None:
    case = await store.cases.open_case("refund", "common", at=START)
    with pytest.raises(IllegalCaseTransition):
        await store.cases.set_status(case.number, "closed", at=START + 1)
    assert (await store.cases.set_status(case.number, "in_progress", at=START + 2)).status == "in_progress"
    resolved = await store.cases.set_status(case.number, "resolved", at=START + 3)
    assert resolved.resolved_at == START + 3
    closed = await store.cases.set_status(case.number, "closed", at=START + 4)
    assert closed.closed_at == START + 4
    with pytest.raises(IllegalCaseTransition, match="'closed' to 'in_progress'"):
        await store.cases.set_status(case.number, "in_progress", at=START + 5)
    reopened = await store.cases.set_status(case.number, "open", at=START + 6)
    assert (reopened.status, reopened.closed_at, reopened.resolved_at) == ("open", None, None)
    with pytest.raises(IllegalCaseTransition):
        await store.cases.set_status(case.number, "archived", at=START + 7)
    assert (await store.cases.get_case(case.number)).status == "open"
    with pytest.raises(NotFound):
        await store.cases.set_status("HL-2026-999999", "closed")


async def test_notes_keep_author_and_time_in_order(store: Store) -> None:
    case = await store.cases.open_case("baggage", "common", at=START)
    await store.cases.add_note(case.number, "1002", "bag tag 123 reported", at=START + 20)
    await store.cases.add_note(case.number, "1005", "bag found in ICN", at=START + 10)
    await store.cases.assign(case.number, "1002", at=START + 30)
    loaded = await store.cases.get_case(case.number)
    assert [(n.author, n.at, n.body) for n in loaded.notes] == [
        ("1005", START + 10, "bag found in ICN"),
        ("1002", START + 20, "bag tag 123 reported"),
    ]
    assert loaded.assigned_agent == "1002"
    with pytest.raises(InvalidInput):
        await store.cases.add_note(case.number, "1002", "   ")


async def test_screen_pop_returns_customer_and_recent_cases_newest_first(store: Store) -> None:
    phone = "+821055551234"
    await store.cases.upsert_customer(phone, name="Kim Minjun", tier="vip", language="ko", at=START)
    for i in range(7):
        await store.cases.open_case("consultation", "common", customer_phone=phone, at=START + i)
    await store.cases.open_case("consultation", "common", customer_phone="+821099990000", at=START)
    pop = await store.cases.screen_pop(phone, limit=5)
    assert pop is not None
    assert pop.customer.name == "Kim Minjun" and pop.customer.tier == "vip"
    assert [c.opened_at for c in pop.recent_cases] == [START + i for i in (6, 5, 4, 3, 2)]
    assert {c.customer_id for c in pop.recent_cases} == {pop.customer.id}
    assert await store.cases.screen_pop("+820000000000") is None
    lonely = await store.cases.upsert_customer("+821011112222", at=START)
    pop = await store.cases.screen_pop("+821011112222")
    assert pop is not None and pop.customer.id == lonely.id and pop.recent_cases == ()


async def test_customer_phone_and_name_are_masked_on_display(store: Store) -> None:
    customer = await store.cases.upsert_customer(
        "+821012345678", name="Kim Minjun", id_number="900101-1234567", at=START
    )
    assert customer.phone == "+821012345678"  # stored for lookup
    assert customer.display_phone == "+82******5678"
    text = repr(customer)
    assert "12345678" not in text and "Minjun" not in text and "1234567" not in text
    assert "+82******5678" in text


async def test_overdue_lists_active_cases_past_due_most_overdue_first(store: Store) -> None:
    urgent = await store.cases.open_case("complaint", "urgent", at=START)  # due +15 min
    major = await store.cases.open_case("complaint", "major", at=START)  # due +1 h
    done = await store.cases.open_case("complaint", "urgent", at=START)
    await store.cases.set_status(done.number, "resolved", at=START + 60)
    await store.cases.open_case("complaint", "general", at=START)  # due +24 h
    overdue = await store.cases.overdue(now=START + 2 * HOUR)
    assert [c.number for c in overdue] == [urgent.number, major.number]
    assert overdue[0].overdue_by(START + 2 * HOUR) == 2 * HOUR - 15 * 60
    assert await store.cases.overdue(now=START + 60) == []


async def test_survey_scores_are_1_to_5_per_call(store: Store) -> None:
    await store.cases.record_survey("call-1", "satisfaction", 4, at=START)
    await store.cases.record_survey("call-1", "resolved", 5, at=START)
    await store.cases.record_survey("call-1", "satisfaction", 2, at=START + 1)
    assert await store.cases.survey("call-1") == {"satisfaction": 2, "resolved": 5}
    for bad in (0, 6, True):
        with pytest.raises(InvalidInput):
            await store.cases.record_survey("call-1", "satisfaction", bad)


async def test_phone_numbers_are_matched_whatever_their_punctuation(store: Store) -> None:
    await store.cases.open_case("refund", "common", customer_phone="+82 10-5555-1234", at=START)
    pop = await store.cases.screen_pop("+821055551234")
    assert pop is not None and pop.customer.phone == "+821055551234" and len(pop.recent_cases) == 1
    same = await store.cases.screen_pop("+82 (10) 5555.1234")
    assert same is not None and same.customer.id == pop.customer.id
    national = await store.cases.screen_pop("010-5555-1234")  # read as the country's (KR), E.164
    assert national is not None and national.customer.id == pop.customer.id
    with pytest.raises(InvalidInput):
        await store.cases.upsert_customer("anonymous")
