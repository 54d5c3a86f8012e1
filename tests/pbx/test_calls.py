"""Calls through a real Asterisk 22: SIPp callers, baresip agents, Hotline's generated config.

Each scenario checks the case store (Hotline's record) and Asterisk's own view (its AMI events,
channels and log). Each is bounded in time (the waits below, the suite's timeout).
"""

from __future__ import annotations

import array
import math
import sqlite3
import wave

import pytest

from hotline.phone import normalize_number
from tests.pbx.asterisk_proc import CALLER_INFO, CALLER_RFC
from tests.pbx.peers import Bye, Info, Pause, Rtp, WaitBye
from tests.pbx.world import World, until

pytestmark = pytest.mark.asyncio(loop_scope="module")


def call_of(world: World, number: str, before: set[str]) -> sqlite3.Row | None:
    rows = world.hotline.rows("select * from calls where caller like ? order by started_at", f"%{number[-4:]}")
    fresh = [r for r in rows if r["id"] not in before]
    return fresh[-1] if fresh else None


def known_calls(world: World) -> set[str]:
    return {r["id"] for r in world.hotline.rows("select id from calls")}


def _closed(row: sqlite3.Row | None) -> bool:
    """Ended, with the ACD's outcome written (an answered call names its agent)."""
    return row is not None and row["ended_at"] is not None and row["outcome"] is not None and (
        row["outcome"] != "answered" or row["agent_id"] is not None)


async def finished_call(world: World, number: str, before: set[str], within: float = 30.0) -> sqlite3.Row:
    await until(lambda: _closed(call_of(world, number, before)),
                within=within, what=f"the call from {number} closed in the case store")
    row = call_of(world, number, before)
    assert row is not None
    return row


def steps_of(world: World, call_id: str) -> dict[str, str | None]:
    return {r["node"]: r["input"] for r in world.hotline.rows("select * from ivr_steps where call_id = ?", call_id)}


def caller_channel(number: str) -> object:
    return lambda m: m.get("Channel").startswith(f"PJSIP/{number}-")


def recording_rms(world: World, call_id: str) -> float:
    files = list((world.hotline.folder / "data").rglob(f"{call_id}-*.wav"))
    assert files, f"no recording stored for {call_id}"
    with wave.open(str(files[0]), "rb") as w:
        assert w.getsampwidth() == 2
        samples = array.array("h", w.readframes(w.getnframes()))
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


async def test_dtmf_by_sip_info_to_a_queue_an_agent_and_a_recording_with_audio(world: World) -> None:
    await world.ready(("1001",))
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("1"), Pause(700), Info("2468"), Pause(4000), Bye()])
    await caller.start()
    bridged = await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
    dial = await world.pbx.event("DialBegin", 5, since=mark, where=caller_channel(CALLER_INFO))
    assert dial.get("DestChannel").startswith("PJSIP/1001-")
    assert bridged.get("BridgeUniqueid")
    assert await caller.wait(60) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert (row["queue"], row["agent_id"], row["outcome"]) == ("booking", "1001", "answered")
    assert row["answered_at"] is not None and row["talk_seconds"] > 2
    assert steps_of(world, row["id"]).get("booking_ref") == "2468"
    await until(lambda: list((world.hotline.folder / "data").rglob(f"{row['id']}-*.wav")), within=15,
                what="the recording moved into Hotline's store")
    assert recording_rms(world, row["id"]) > 100  # the agent's sine, not silence


async def test_dtmf_by_rfc2833_with_a_repeated_key(world: World) -> None:
    await world.ready(("1001",))
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_RFC, [Pause(1200), Rtp("13553"), Pause(3000), Bye()])
    await caller.start()
    await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_RFC))
    assert await caller.wait(60) == 0, caller.errors()
    row = await finished_call(world, CALLER_RFC, before)
    assert steps_of(world, row["id"]).get("booking_ref") == "3553"
    assert row["agent_id"] == "1001"


async def test_abandon_while_waiting(world: World) -> None:
    await world.ready(())
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("2"), Pause(3000), Bye()])
    await caller.start()
    assert await caller.wait(40) == 0, caller.errors()
    await world.pbx.event("Hangup", 10, since=mark, where=caller_channel(CALLER_INFO))
    row = await finished_call(world, CALLER_INFO, before)
    assert row["outcome"] == "abandoned" and row["queue"] == "general" and row["agent_id"] is None
    assert row["wait_seconds"] > 1.5


async def test_ring_no_answer_goes_back_to_its_place(world: World) -> None:
    await world.ready(("1002",))  # 1002 only answers when told: it rings out
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("2"), Pause(16000), Bye()])
    await caller.start()
    rang_out = await world.pbx.event("DialEnd", 30, since=mark, where=caller_channel(CALLER_INFO))
    assert rang_out.get("DestChannel").startswith("PJSIP/1002-") and rang_out.get("DialStatus") == "NOANSWER"
    await world.set_agent("1001", available=True)
    await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
    assert await caller.wait(40) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert row["agent_id"] == "1001" and row["answered_at"] is not None


async def test_agent_hangs_up_first_then_the_survey(world: World) -> None:
    """Defect 2: with Dial's `g` the caller stays and the survey entry runs."""
    await world.ready(("1001",))
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("2"), Pause(4500), Info("4"), WaitBye(20000)])
    await caller.start()
    await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
    await world.agents["1001"].hangup()
    assert await caller.wait(40) == 0, caller.errors()  # Asterisk hung up after the survey
    row = await finished_call(world, CALLER_INFO, before)
    assert row["agent_id"] == "1001" and row["answered_at"] is not None
    survey = world.hotline.rows("select * from ivr_steps where call_id = ? and node = 'survey' and kind = 'dtmf'",
                                row["id"])
    assert [r["input"] for r in survey] == ["4"]  # the caller rated the call after the agent left


async def test_missing_prompt_is_skipped_not_a_hangup(world: World) -> None:
    """Defect 1: `200 result=-1 endpos=0` of a missing file is skipped and logged."""
    await world.ready(("1001",))
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("3"), Pause(3500), Bye()])
    await caller.start()
    await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
    assert await caller.wait(40) == 0, caller.errors()
    row = await finished_call(world, CALLER_INFO, before)
    assert row["agent_id"] == "1001" and row["queue"] == "general"
    assert "hotline/en/not-installed" in world.pbx.full_log()  # Asterisk: does not exist
    assert "prompt file hotline/en/not-installed missing on the PBX; skipped" in world.hotline.log()


async def test_emergency_announcement_sends_callers_to_the_emergency_queue(world: World) -> None:
    await world.ready(("1001",))
    await world.hotline.api("POST", "/api/emergency", {"active": True, "scope": ["disruption"]})
    try:
        before, mark = known_calls(world), world.pbx.mark()
        caller = world.caller(CALLER_INFO, [Pause(3000), Bye()])
        await caller.start()
        await world.pbx.event("BridgeEnter", 30, since=mark, where=caller_channel(CALLER_INFO))
        assert await caller.wait(40) == 0, caller.errors()
        row = await finished_call(world, CALLER_INFO, before)
        assert row["queue"] == "emergency" and row["agent_id"] == "1001"
        assert "disruption" in steps_of(world, row["id"])
        assert "hotline/en/disruption" in world.pbx.full_log()  # the announcement was played
    finally:
        await world.hotline.api("POST", "/api/emergency", {"active": False})


async def test_callback_rings_the_agent_then_the_customer(world: World) -> None:
    await world.ready(("1001",))
    before, mark = known_calls(world), world.pbx.mark()
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("9"), Pause(600), Info("1", gap_ms=0), WaitBye(15000)])
    await caller.start()
    assert await caller.wait(30) == 0, caller.errors()  # confirmed, then hung up by the dialplan
    originated = await world.pbx.event("OriginateResponse", 30, since=mark)
    assert originated.get("Response") == "Success"
    # the customer is dialled in E.164, as Hotline keeps numbers (01011110000 -> +821011110000)
    await world.pbx.event("DialBegin", 15, since=mark, where=lambda m: "Local/" in m.get("DestChannel")
                          and normalize_number(CALLER_INFO) in m.get("DestChannel"))
    row = await finished_call(world, CALLER_INFO, before, within=40)
    assert row["agent_id"] == "1001" and row["outcome"] != "callback_failed"


def _follow_up_task(world: World, phone: str) -> int:
    """A due follow-up task on a case of the customer `phone`, written as the service rules would."""
    db = sqlite3.connect(world.hotline.folder / "data" / "hotline.db", timeout=10)
    try:
        with db:
            now = 1_800_000_000.0
            customer = db.execute("insert into customers (phone, created_at, last_seen_at) values (?, ?, ?)",
                                  (phone, now, now)).lastrowid
            case = db.execute(
                "insert into cases (number, category, priority, status, opened_at, due_at, updated_at, customer_id)"
                " values ('HL-2026-FU0001', 'complaint', 'general', 'resolved', ?, ?, ?, ?)",
                (now, now, now, customer)).lastrowid
            task = db.execute("insert into follow_up_tasks (case_id, due_at, status, created_at)"
                              " values (?, 0, 'open', ?)", (case, now)).lastrowid
        assert task is not None
        return int(task)
    finally:
        db.close()


async def test_follow_up_rings_the_agent_who_took_it_then_the_customer(world: World) -> None:
    await world.ready(("1001",))
    phone = "+821033334444"
    task = _follow_up_task(world, phone)
    added = world.hotline._cli("users", "add", "fu-kim", "--role", "agent", "--agent", "1001", "--config",
                               str(world.hotline.config), stdin="a long agent secret here\n")
    assert added.returncode == 0, added.stderr
    token = world.hotline._cli("users", "token", "fu-kim", "--config", str(world.hotline.config)).stdout.strip()
    mark = world.pbx.mark()
    taken = await world.hotline.api("POST", f"/api/follow-ups/{task}/take", token=token)
    assert taken["status"] == "taken"
    originated = await world.pbx.event("OriginateResponse", 30, since=mark)
    assert originated.get("Response") == "Success" and originated.get("Channel").startswith("PJSIP/1001-")
    await world.pbx.event("DialBegin", 15, since=mark, where=lambda m: phone in m.get("DestChannel"))

    def done() -> bool:
        rows = world.hotline.rows("select status, outcome from follow_up_tasks where id = ?", task)
        return bool(rows) and rows[0]["status"] == "done"

    await until(done, within=40, what="the follow-up's outcome on its task")
    [row] = world.hotline.rows("select status, outcome from follow_up_tasks where id = ?", task)
    assert row["outcome"] == "reached"
    [call] = world.hotline.rows("select * from calls where id like ?", f"followup-{task}-%")
    assert (call["direction"], call["agent_id"], call["caller"]) == ("outbound", "1001", phone)
    await until(lambda: _closed(world.hotline.call(call["id"])), within=20, what="the follow-up's call record")
    notes = world.hotline.rows("select body from case_notes where case_id = ?", call["case_id"])
    assert [n["body"] for n in notes] == [f"Follow-up call {call['id']}: the customer was reached."]
