from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from acd.agent import AgentConfig
from casestore import Store, StoreSettings, StoreUnavailable, attached_store, open_store
from casestore.models import AGENT_PAUSES, AGENT_SESSIONS, CALLS, CASES, RECORDINGS
from ivr.channel import InputKind
from ivr.events import InputReceived, InputResult, IvrOutcome, NodeEntered, OutcomeKind
from tests.casestore.traffic import (
    OVERLAP,
    START,
    caller,
    drive,
    finish_overlapping,
    make_acd,
    overlapping_step,
    recorder,
)

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


async def test_replayed_and_duplicated_events_leave_one_row_per_call(store: Store) -> None:
    acd, clock = make_acd()
    events, record = recorder()
    acd.subscribe(record)
    drive(acd, clock, 30)
    first, second = store.writer(batch_size=11), store.writer(batch_size=13)
    await first.start()
    await second.start()
    for ev in events:  # two writers receive the same stream concurrently (failover overlap)
        first.on_event(ev)
        second.on_event(ev)
    await asyncio.gather(first.stop(), second.stop())
    for ev in events[:40]:  # and a replay of the beginning after everything was written
        first.on_event(ev)
    await first.flush()
    assert await store.cases.count("calls") == 30
    assert await store.cases.count("cases") == 30
    call = await store.cases.get_call("c0")
    assert call.outcome == "answered" and call.talk_seconds == 30
    case = await store.cases.get_case(await _case_number(store, "c0"))
    assert case.call_ids == ("c0",)
    assert case.category == "complaint" and case.priority == "general"
    assert case.due_at == call.started_at + 24 * 3600


async def _case_number(store: Store, call_id: str) -> str:
    call = await store.cases.get_call(call_id)
    async with store.engine.connect() as conn:
        number = (await conn.execute(select(CASES.c.number).where(CASES.c.id == call.case_id))).scalar_one()
    return str(number)


async def test_concurrent_calls_each_get_exactly_one_record(store: Store) -> None:
    acd, clock = make_acd(agents=OVERLAP + 1)
    writer = store.writer(batch_size=9, flush_interval=0.01)
    await writer.start()
    acd.subscribe(writer.on_event)
    for i in range(200):
        overlapping_step(acd, clock, i)
        if i % 10 == 0:
            await asyncio.sleep(0)  # let the flusher interleave with the stream
    finish_overlapping(acd, clock, 200)
    await writer.stop()
    assert await store.cases.count("calls") == 200
    assert await store.cases.count("cases") == 200
    assert await store.cases.count("customers") == 200
    assert writer.stats.calls_completed == 200
    views = [await store.cases.get_call(f"k{i}") for i in (0, 77, 199)]
    assert all(v.outcome == "answered" and v.ended_at is not None for v in views)


async def test_crash_mid_stream_then_restart_closes_orphans_as_interrupted(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.casestore.crash_child", db_url, str(tmp_path / "child"),
        stdout=asyncio.subprocess.PIPE, cwd=str(ROOT),
    )
    assert child.stdout is not None
    reported = 0
    try:
        async with asyncio.timeout(90):  # the child imports the whole store first: slow on a loaded machine
            while reported < 60:
                line = await child.stdout.readline()
                assert line, "the child exited early"
                reported = int(line.split()[1])
    finally:
        child.kill()  # SIGKILL: no final flush, no cleanup
        await child.wait()

    persisted = await store.cases.count("calls")
    open_before = await _open_calls(store)
    assert persisted >= reported + OVERLAP  # everything reported flushed is there
    assert open_before >= 1

    writer = store.writer()
    closed = await writer.start()
    await writer.stop()
    assert closed == open_before
    assert await _open_calls(store) == 0
    assert await store.cases.count("cases") == persisted  # one case per call, none lost

    # the source replays the stream (e.g. an event log): still one row per call, real outcomes win
    acd, clock = make_acd(agents=OVERLAP + 1)
    writer = store.writer(batch_size=50)
    await writer.start(close_orphans=False)
    acd.subscribe(writer.on_event)
    for i in range(persisted):
        overlapping_step(acd, clock, i)
    finish_overlapping(acd, clock, persisted)
    await writer.stop()
    assert await store.cases.count("calls") == persisted
    assert await store.cases.count("cases") == persisted
    last = await store.cases.get_call(f"k{persisted - 1}")
    assert last.outcome == "answered"


async def _open_calls(store: Store) -> int:
    async with store.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).where(CALLS.c.ended_at.is_(None)))).scalar_one()
        )


async def test_agent_sessions_and_pauses_follow_state_changes(store: Store) -> None:
    acd, clock = make_acd(agents=0)
    acd.add_agent(AgentConfig("a1"))
    writer = store.writer()
    await writer.start()
    acd.subscribe(writer.on_event)
    acd.login("a1")
    clock.advance(60)
    acd.pause("a1", "lunch")
    clock.advance(600)
    acd.unpause("a1")
    clock.advance(60)
    acd.logout("a1")
    acd.login("a1")
    await writer.stop()
    async with store.engine.connect() as conn:
        sessions = (await conn.execute(select(AGENT_SESSIONS).order_by(AGENT_SESSIONS.c.login_at))).all()
        pauses = (await conn.execute(select(AGENT_PAUSES))).all()
    assert [(s.login_at - START, None if s.logout_at is None else s.logout_at - START) for s in sessions] == [
        (0, 720), (720, None)
    ]
    assert [(p.reason, p.started_at - START, p.ended_at - START) for p in pauses] == [("lunch", 60, 660)]


async def test_ivr_steps_and_recordings_are_linked_to_the_call(store: Store) -> None:
    writer = store.writer()
    await writer.start()
    writer.record_ivr_step("c9", "welcome", "entered", at=START)
    writer.record_ivr_step("c9", "main_menu", "dtmf", "2", at=START + 3)
    writer.record_ivr_step("c9", "main_menu", "speech", "환불 문의", 0.87, at=START + 5)
    writer.record_ivr_step("c9", "main_menu", "dtmf", "2", at=START + 3)  # duplicate delivery
    info = await store.recordings.save("c9", b"RIFF....fake", "wav")
    writer.record_recording("c9", info)
    writer.record_recording("c9", info)
    await writer.stop()
    path = await store.cases.ivr_path("c9")
    assert [(s.node, s.kind, s.input, s.confidence) for s in path] == [
        ("welcome", "entered", None, None),
        ("main_menu", "dtmf", "2", None),
        ("main_menu", "speech", "환불 문의", 0.87),
    ]
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(RECORDINGS))).all()
    assert [(r.call_id, r.uri, r.sha256, r.size) for r in rows] == [("c9", info.uri, info.sha256, 12)]


async def test_unreachable_database_keeps_every_event_and_never_blocks(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/none"
    store = Store(StoreSettings(url=url, data_dir=tmp_path))
    errors: list[Exception] = []
    failed_twice = asyncio.Event()

    def on_error(exc: Exception) -> None:
        errors.append(exc)
        if len(errors) >= 2:
            failed_twice.set()

    writer = store.writer(batch_size=5, flush_interval=0.01, on_error=on_error)
    await writer.start(close_orphans=False)
    acd, clock = make_acd()
    acd.subscribe(writer.on_event)
    drive(acd, clock, 10)  # on_event returns at once although nothing can be written
    async with asyncio.timeout(15):
        await failed_twice.wait()
    assert writer.backlog == writer.stats.events  # nothing dropped while retrying
    assert writer.stats.retries >= 2
    with pytest.raises(StoreUnavailable, match=f"{writer.stats.events} items not written"):
        await writer.stop(give_up_after=0.2)  # a shutdown does not hang on a dead database
    assert writer.backlog == 0
    with pytest.raises(StoreUnavailable):
        await store.writer().start()  # closing orphans needs the database: a clear error
    await store.close()


async def test_attached_store_is_the_server_entry_point(db_url: str, tmp_path: Path) -> None:
    acd, clock = make_acd()
    settings = StoreSettings(url=db_url, data_dir=tmp_path / "data")
    async with attached_store(settings, acd) as store:
        assert store.writer_instance is not None
        store.writer_instance.record_ivr_step("c0", "welcome", "entered", at=START - 5)
        drive(acd, clock, 6)
    acd.arrive("late", "general")  # after exit: unsubscribed, not written
    async with open_store(settings) as store:
        assert await store.cases.count("calls") == 6
        assert [s.node for s in await store.cases.ivr_path("c0")] == ["welcome"]


async def test_refused_items_are_set_aside_the_rest_written_and_logs_masked(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    writer = store.writer(batch_size=100)
    await writer.start()
    writer.record_ivr_step("c1", "menu", "dtmf", "1", at=START)
    writer.record_ivr_step("c1", "menu", None, "my phone is 01012345678", at=START + 1)  # type: ignore[arg-type]
    writer.record_ivr_step("c1", "booking", "speech", "refund", 0.8, at=START + 2)
    with caplog.at_level(logging.INFO):  # drivers log raw SQL at DEBUG; the MaskingFilter covers that
        await writer.stop()
    assert [s.node for s in await store.cases.ivr_path("c1")] == ["menu", "booking"]
    assert writer.stats.rejected == 1
    assert [r.input for r in writer.rejected] == ["my phone is 01012345678"]
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert not any("12345678" in r.getMessage() for r in caplog.records)


async def test_a_call_arriving_again_after_a_restart_is_resumed_then_ends_normally(store: Store) -> None:
    acd, clock = make_acd()
    events, record = recorder()
    acd.subscribe(record)
    acd.arrive("r1", "general", caller=caller(1), source="asterisk")
    clock.advance(5)
    acd.answer("r1")
    writer = store.writer()
    await writer.start()
    for ev in events:
        writer.on_event(ev)
    await writer.stop()  # the process dies here with r1 up

    writer = store.writer()
    assert await writer.start() == 1
    assert (await store.cases.get_call("r1")).outcome == "interrupted"
    # after the restart the adapter finds the channel and re-announces the call
    acd2, clock2 = make_acd(start=clock.now() + 30)
    acd2.subscribe(writer.on_event)
    acd2.arrive("r1", "general", caller=caller(1), source="asterisk")
    await writer.flush()
    resumed = await store.cases.get_call("r1")
    assert (resumed.outcome, resumed.ended_at, resumed.started_at) == (None, None, START)
    clock2.advance(1)
    acd2.answer("r1")
    clock2.advance(60)
    acd2.end("r1")
    await writer.stop()
    ended = await store.cases.get_call("r1")
    assert ended.outcome == "answered" and ended.talk_seconds == 60
    assert await store.cases.count("cases") == 1


async def test_calls_ending_in_the_ivr_leave_a_record_with_their_path(store: Store) -> None:
    writer = store.writer()
    await writer.start()
    writer.record_call_start("v1", source="asterisk", caller="+821012345678", dialed="1588", at=START)
    writer.record_call_start("v2", source="twilio", caller="+821099990000", dialed="1588", at=START)
    for ev in (
        NodeEntered(START + 1, "v1", "main", 1, "welcome", "menu", 1, "ko"),
        InputReceived(START + 3, "v1", "welcome", InputKind.SPEECH, "항공편 상태", 0.91, InputResult.MATCH),
        InputReceived(START + 6, "v1", "status", InputKind.NONE, "", None, InputResult.NO_INPUT),
        IvrOutcome(START + 9, "v1", "main", 1, OutcomeKind.HANGUP, "status", "info_given"),
        NodeEntered(START + 1, "v2", "main", 1, "welcome", "menu", 1, "ko"),
        IvrOutcome(START + 4, "v2", "main", 1, OutcomeKind.TRANSFER, "welcome"),
    ):
        writer.on_ivr_event(ev)
    acd, clock = make_acd(start=START + 5)
    acd.subscribe(writer.on_event)
    acd.arrive("v2", "general", caller="+821099990000", source="twilio")
    clock.advance(3)
    acd.answer("v2")
    clock.advance(10)
    acd.end("v2")
    await writer.stop()

    ivr_only = await store.cases.get_call("v1")
    assert (ivr_only.outcome, ivr_only.started_at, ivr_only.ended_at) == ("self_service", START, START + 9)
    assert (ivr_only.source, ivr_only.caller, ivr_only.queue, ivr_only.case_id) == (
        "asterisk", "+821012345678", None, None
    )
    path = await store.cases.ivr_path("v1")
    assert [(s.kind, s.input) for s in path] == [
        ("entered", None), ("speech", "항공편 상태"), ("timeout", None), ("outcome", "hangup:info_given")
    ]
    transferred = await store.cases.get_call("v2")
    assert (transferred.outcome, transferred.started_at, transferred.queued_at) == ("answered", START, START + 5)
    assert transferred.case_id is not None
    assert [s.kind for s in await store.cases.ivr_path("v2")] == ["entered", "outcome"]


async def test_a_menu_run_after_the_agent_or_during_the_wait_leaves_the_acd_outcome(store: Store) -> None:
    """A survey after the conversation ends in the IVR (hangup), and so does an accepted
    callback offer while the call waits: neither ends the call record, the ACD does."""
    writer = store.writer()
    await writer.start()
    acd, clock = make_acd(start=START)  # one agent, a0
    acd.subscribe(writer.on_event)
    for cid in ("s1", "o1"):
        writer.record_call_start(cid, source="twilio", caller="+821012345678", at=START)
    acd.arrive("s1", "general", caller="+821012345678", source="twilio")
    acd.answer("s1")
    clock.advance(1)
    acd.arrive("o1", "general", caller="+821012345679", source="twilio")  # a0 is busy: waits
    clock.advance(30)
    writer.on_ivr_event(IvrOutcome(clock.now(), "o1", "main", 1, OutcomeKind.CALLBACK, "offer", "accepted"))
    await writer.drain()
    offered = await store.cases.get_call("o1")
    assert (offered.outcome, offered.ended_at, offered.queued_at) == (None, None, START + 1)

    acd.end("s1")
    clock.advance(5)
    writer.on_ivr_event(IvrOutcome(clock.now(), "s1", "main", 1, OutcomeKind.HANGUP, "goodbye", "survey_done"))
    await writer.stop()
    survey = await store.cases.get_call("s1")
    assert (survey.outcome, survey.ended_at, survey.talk_seconds) == ("answered", START + 31, 31)
    assert [s.input for s in await store.cases.ivr_path("s1")] == ["hangup:survey_done"]


async def test_retries_and_revisits_at_the_same_instant_are_kept_apart(store: Store) -> None:
    """On a virtual clock a node's retries and a revisit can share a timestamp: the
    interpreter's attempt / step number keeps them apart; a replay still adds nothing."""
    writer = store.writer()
    await writer.start()
    events = [
        NodeEntered(START, "r1", "main", 1, "menu", "menu", 1, "ko"),
        InputReceived(START, "r1", "menu", InputKind.DTMF, "", None, InputResult.NO_INPUT, attempt=1),
        InputReceived(START, "r1", "menu", InputKind.DTMF, "", None, InputResult.NO_INPUT, attempt=2),
        InputReceived(START, "r1", "menu", InputKind.DTMF, "7", None, InputResult.NO_MATCH, None, 3),
        NodeEntered(START, "r1", "main", 1, "menu", "menu", 2, "ko"),  # on_failure: back to menu
        InputReceived(START, "r1", "menu", InputKind.DTMF, "1", None, InputResult.MATCH, "1", 1),
        IvrOutcome(START, "r1", "main", 1, OutcomeKind.ABANDONED, "menu", "caller_hangup", steps=2),
    ]
    for ev in [*events, *events]:  # delivered twice
        writer.on_ivr_event(ev)
    await writer.stop()
    path = [(s.kind, s.input) for s in await store.cases.ivr_path("r1")]
    assert path == [
        ("entered", None), ("timeout", None), ("timeout", None), ("no_match", "7"),
        ("entered", None), ("dtmf", "1"), ("outcome", "abandoned:caller_hangup"),
    ]
    assert await store.cases.count("ivr_steps") == 7


async def test_an_over_long_call_id_is_refused_not_cut_and_the_rest_of_its_batch_is_written(store: Store) -> None:
    """PostgreSQL writes a batch's calls as one statement over column arrays: a value too long
    for its column is still refused (not cut by a cast), and only its item is set aside."""
    from acd.events import CallArrived

    writer = store.writer(batch_size=100)
    await writer.start()
    long_id = "x" * 65  # calls.id is VARCHAR(64)
    for call_id in ("ok1", long_id, "ok2"):
        writer.on_event(CallArrived(START, call_id, "general", "", "", 0, "regular", (), "simulation", ""))
    await writer.stop()
    assert (await store.cases.get_call("ok1")).case_id is not None
    assert (await store.cases.get_call("ok2")).queue == "general"
    if store.engine.dialect.name == "postgresql":
        assert [r.call_id for r in writer.rejected] == [long_id]
        assert await store.cases.count("calls") == 2
    else:  # SQLite does not enforce VARCHAR lengths: the id is kept whole
        assert writer.rejected == []
        assert (await store.cases.get_call(long_id)).id == long_id
