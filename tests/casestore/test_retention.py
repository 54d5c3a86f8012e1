from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from casestore import Store
from casestore.models import CALLS, CUSTOMERS, RECORDINGS
from casestore.retention import REMOVED_NOTE, apply_retention
from recordings.store import YEAR, RecordingInfo
from tests.casestore.traffic import START, drive, make_acd

OLD = START - 4 * YEAR  # older than the default 3 years


async def _seed(store: Store) -> tuple[str, str]:
    """Old and recent calls, customers, IVR input, notes, recordings."""
    for start, prefix in ((OLD, "old"), (START, "new")):
        acd, clock = make_acd(start=start)
        writer = store.writer()
        await writer.start()
        acd.subscribe(writer.on_event)
        drive(acd, clock, 3, prefix=prefix)
        writer.record_ivr_step(f"{prefix}0", "menu", "speech", "my booking is 4471122", 0.9, at=start)
        await writer.stop()
    old_case = await store.cases.open_case("complaint", "general", customer_phone="+821077770000", at=OLD)
    new_case = await store.cases.open_case("complaint", "general", customer_phone="+821088880000", at=START)
    await store.cases.add_note(old_case.number, "1001", "passenger Kim, phone 01077770000", at=OLD)
    await store.cases.add_note(new_case.number, "1001", "call back tomorrow", at=START)
    return old_case.number, new_case.number


async def test_dry_run_counts_and_changes_nothing(store: Store) -> None:
    await _seed(store)
    report = await apply_retention(store.engine, store.recordings, retention_years=3, now=START, dry_run=True)
    assert report.counts["calls anonymised"] == 3
    assert report.counts["IVR inputs cleared"] == 1
    assert report.counts["case notes removed"] == 1
    old = await store.cases.get_call("old0")
    assert old.caller == "+821000000000"


async def test_apply_anonymises_old_data_keeps_recent_and_reports_progress(store: Store) -> None:
    old_number, new_number = await _seed(store)
    old_rec = store.recordings  # a recording whose retention ran out and a current one
    expired = await old_rec.save("old0", b"x" * 100, "wav")
    current = await old_rec.save("new0", b"y" * 50, "wav")
    writer = store.writer()
    await writer.start(close_orphans=False)
    writer.record_recording("old0", _with_retain(expired, START - 1))
    writer.record_recording("new0", current)
    await writer.stop()
    seen: list[tuple[str, int, int]] = []

    report = await apply_retention(
        store.engine, store.recordings, retention_years=3, now=START, chunk=2,
        progress=lambda step, done, total: seen.append((step, done, total)),
    )

    assert report.counts == {
        "calls anonymised": 3, "IVR inputs cleared": 1, "customers anonymised": 1,
        "case notes removed": 1, "recordings deleted": 1,
    }
    assert report.bytes_freed == 100
    assert ("calls anonymised", 3, 3) in seen and ("calls anonymised", 2, 3) in seen
    old = await store.cases.get_call("old0")
    assert old.caller == "+82******0000" and old.outcome == "answered"
    assert (await store.cases.get_call("new0")).caller == "+821000000000"
    assert [s.input for s in await store.cases.ivr_path("old0")] == [None]
    assert [s.input for s in await store.cases.ivr_path("new0")] == ["my booking is 4471122"]
    assert [n.body for n in (await store.cases.get_case(old_number)).notes] == [REMOVED_NOTE]
    assert [n.body for n in (await store.cases.get_case(new_number)).notes] == ["call back tomorrow"]
    async with store.engine.connect() as conn:
        phones = set((await conn.execute(select(CUSTOMERS.c.phone))).scalars())
        uris = list((await conn.execute(select(RECORDINGS.c.uri))).scalars())
        callers = set((await conn.execute(select(CALLS.c.caller))).scalars())
    assert phones == {None, "+821000000000", "+821000000001", "+821000000002", "+821088880000"}
    assert uris == [current.uri]
    assert not store.recordings.path(expired.uri).exists()
    assert store.recordings.path(current.uri).exists()
    assert "+821000000001" in callers
    again = await apply_retention(store.engine, store.recordings, retention_years=3, now=START)
    assert sum(again.counts.values()) == 0  # idempotent


def _with_retain(info: RecordingInfo, until: float) -> RecordingInfo:
    return replace(info, retain_until=until)
