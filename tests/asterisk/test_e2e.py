"""End to end over loopback: fake Asterisk (AMI + FastAGI) -> Hotline's Asterisk service ->
IVR interpreter -> ACD -> case store on SQLite and the recording store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from acd.call import CallState
from acd.clock import AsyncioClock
from acd.engine import Acd
from asterisk.service import ASTERISK_KEY, AsteriskService, cleanup_ctx
from asterisk.settings import AmiSettings, AsteriskSettings, FastAgiSettings
from casestore.models import CALLS, IVR_STEPS, RECORDINGS
from ivr.events import OutcomeKind
from ivr.registry import MenuRegistry
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk
from tests.asterisk.rig import QUEUES
from tests.asterisk.world import World, make_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path) as world:
        yield world


async def test_call_walks_the_menu_waits_is_bridged_recorded_and_stored(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    caller = CallerScript(number="+821012345678", keys=["1", "4", "2", "4", "2"])
    result = await fake.agi_call(service.agi.port, caller)
    call_id = result.channel.uniqueid
    await world.until(lambda: call_id in acd.calls)
    assert acd.calls[call_id].state is CallState.QUEUED  # nobody logged in: the caller waits
    assert fake.channels[call_id].application == "MusicOnHold"
    assert result.channel.variables["HOTLINE_QUEUE"] == "booking"
    assert result.channel.variables["HOTLINE_DATA_BOOKING_REF"] == "4242"
    assert caller.played[:3] == ["hotline/en/welcome", "hotline/en/main", "hotline/en/booking-ref"]
    assert service.runs[call_id].outcome is not None
    assert service.runs[call_id].outcome.kind is OutcomeKind.TRANSFER  # type: ignore[union-attr]

    acd.login("1001")  # an agent becomes free: the event, not a poll, routes the call
    redirect = await fake.wait_action("Redirect")
    assert (redirect["Channel"], redirect["Exten"]) == (result.channel.name, "1001")
    await world.barrier()
    fake.answer(call_id)
    await world.barrier()
    assert acd.calls[call_id].state is CallState.ON_CALL
    fake.hangup(call_id)
    await world.barrier()
    await service.drain()
    assert call_id in service.stored
    assert acd.agents["1001"].state.value == "wrap_up"
    await world.writer.drain()

    async with world.store.engine.connect() as conn:
        call = (await conn.execute(select(CALLS).where(CALLS.c.id == call_id))).mappings().one()
        recording = (await conn.execute(select(RECORDINGS).where(RECORDINGS.c.call_id == call_id))).mappings().one()
        steps = (await conn.execute(select(IVR_STEPS).where(IVR_STEPS.c.call_id == call_id))).mappings().all()
    assert (call["source"], call["queue"], call["agent_id"], call["dialed"]) == ("asterisk", "booking", "1001", "1588")
    assert call["answered_at"] is not None and call["ended_at"] is not None
    assert recording["uri"] == service.stored[call_id].uri and recording["size"] > 44
    assert world.store.recordings.path(recording["uri"]).exists()
    assert not (service.settings.recordings_dir / f"{call_id}.wav").exists()  # moved, not copied
    kinds = [(s["node"], s["kind"]) for s in steps]
    assert ("main", "dtmf") in kinds and ("booking_ref", "dtmf") in kinds
    # one record, opened when the call reached the hotline (before the IVR), then queued
    assert await world.store.cases.count("calls") == 1
    assert call["caller"] == "+821012345678" and call["outcome"] == "answered"
    assert call["started_at"] is not None and call["queued_at"] is not None
    assert call["started_at"] < call["queued_at"]


async def test_caller_hanging_up_mid_menu_is_an_abandoned_ivr_call(world: World) -> None:
    caller = CallerScript(keys=[], hangup_at=2)  # hangs up while the menu waits for a key
    result = await world.fake.agi_call(world.service.agi.port, caller)
    run = world.service.runs[result.channel.uniqueid]
    await asyncio.wait_for(run.done.wait(), 5)
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.ABANDONED
    assert result.commands == [  # nothing sent after Asterisk said HANGUP
        'STREAM FILE hotline/en/welcome ""',
        'STREAM FILE hotline/en/main "0123456789*#"',
        "WAIT FOR DIGIT 2000",
    ]
    assert result.channel.uniqueid not in world.acd.calls
    await world.writer.drain()
    call_id = result.channel.uniqueid
    assert await world.store.cases.count("calls") == 1
    call = await world.store.cases.get_call(call_id)
    assert (call.source, call.caller, call.dialed) == ("asterisk", caller.number, "1588")
    assert call.outcome == "abandoned" and call.queue is None and call.case_id is None
    assert call.started_at is not None and call.ended_at is not None
    assert call.started_at <= call.ended_at
    path = [(s.node, s.kind, s.input) for s in await world.store.cases.ivr_path(call_id)]
    assert path == [
        ("welcome", "entered", None), ("main", "entered", None),
        ("main", "outcome", "abandoned:caller_hangup"),
    ]


async def test_fastagi_client_disconnecting_mid_menu_is_closed_as_abandoned(world: World) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", world.service.agi.port)
    writer.write(b"agi_network: yes\nagi_channel: PJSIP/2001-000000aa\nagi_uniqueid: gone-1\n"
                 b"agi_callerid: 2001\nagi_dnid: 1588\n\n")
    first = await asyncio.wait_for(reader.readline(), 5)
    assert first.startswith(b"STREAM FILE hotline/en/welcome")
    writer.close()
    run = world.service.runs["gone-1"]  # created before the first command was sent
    await asyncio.wait_for(run.done.wait(), 5)
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.ABANDONED


async def test_caller_abandoning_in_the_queue(world: World) -> None:
    result = await world.fake.agi_call(world.service.agi.port, CallerScript(keys=["1", "1", "2", "3", "4"]))
    call_id = result.channel.uniqueid
    await world.until(lambda: call_id in world.acd.calls)
    world.fake.hangup(call_id)
    await world.until(lambda: call_id not in world.acd.calls)
    await world.writer.drain()
    async with world.store.engine.connect() as conn:
        call = (await conn.execute(select(CALLS).where(CALLS.c.id == call_id))).mappings().one()
    assert call["outcome"] == "abandoned"


async def test_cleanup_ctx_runs_the_service_with_the_app(tmp_path: Path) -> None:
    fake = FakeAsterisk()
    await fake.start()
    settings = AsteriskSettings(ami=AmiSettings(port=fake.port, secret="secret", backoff_initial=0.01),
                                fastagi=FastAgiSettings(port=0))
    app = web.Application()
    clock = AsyncioClock()
    app.cleanup_ctx.append(cleanup_ctx(lambda a: AsteriskService(settings, Acd(clock, QUEUES), MenuRegistry(),
                                                                   clock=clock)))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        service = app[ASTERISK_KEY]
        await service.ami.wait_ready(5)
        assert fake.logins == 1 and service.agi.port > 0
    finally:
        await runner.cleanup()
        await fake.close()
    assert fake.received("Logoff")


async def test_a_call_that_cannot_be_queued_is_hung_up_not_left_on_hold(world: World) -> None:
    world.acd.queues.pop("booking")  # e.g. a queue removed from the configuration meanwhile
    result = await world.fake.agi_call(world.service.agi.port, CallerScript(keys=["1", "1", "2", "3", "4"]))
    run = world.service.runs[result.channel.uniqueid]
    await asyncio.wait_for(run.done.wait(), 5)
    assert "booking" in run.error
    hangup = await world.fake.wait_action("Hangup")
    assert hangup["Channel"] == result.channel.name
    assert result.channel.uniqueid not in world.fake.channels


async def test_a_call_without_an_active_menu_is_hung_up_and_its_record_closed_as_failed(world: World) -> None:
    world.service.menus = MenuRegistry()  # nothing loaded (or the number's menu was removed)
    result = await world.fake.agi_call(world.service.agi.port, CallerScript())
    run = world.service.runs[result.channel.uniqueid]
    await asyncio.wait_for(run.done.wait(), 5)
    assert "no active menu" in run.error
    await world.writer.drain()
    call = await world.store.cases.get_call(result.channel.uniqueid)
    assert (call.source, call.outcome) == ("asterisk", "failed") and call.ended_at is not None
    assert [(s.kind, s.input) for s in await world.store.cases.ivr_path(call.id)] == [
        ("outcome", "failed:no_active_menu")
    ]
