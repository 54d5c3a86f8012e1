"""IVR callbacks on Asterisk over loopback: the caller accepts a callback and hangs up, the place
is kept; when an agent is free Hotline Originates the agent's phone, the callback context
dials the customer; case store on SQLite through the real CallWriter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.call import CallState
from acd.events import AgentStateChanged, CallAssigned, CallQueued
from asterisk.callback import CALLBACK_SOURCE, FAILED
from casestore.models import CALLS, RECORDINGS
from ivr.events import OutcomeKind
from tests.asterisk.fake_asterisk import CallerScript
from tests.asterisk.world import World, make_world

MENU = Path(__file__).with_name("menu_callback.yaml")
NUMBER = "+821012345678"


@pytest.fixture
async def world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    async with make_world(tmp_path, menu=MENU, menu_name="asterisk-callback", overrides=overrides) as world:
        yield world


async def accept_callback(world: World) -> str:
    """The caller presses 1 for a callback; returns the call id once the caller's channel is gone."""
    caller = CallerScript(number=NUMBER, keys=["1"])
    result = await world.fake.agi_call(world.service.agi.port, caller)
    call_id = result.channel.uniqueid
    assert caller.played == ["hotline/en/callback-offer", "hotline/en/callback-confirm"]
    assert "HOTLINE_QUEUE" not in result.channel.variables  # the dialplan hangs up instead of hold
    assert call_id not in world.fake.channels
    await world.barrier()  # the caller's Hangup event has been handled
    outcome = world.service.runs[call_id].outcome
    assert outcome is not None and outcome.kind is OutcomeKind.CALLBACK
    return call_id


async def stored_call(world: World, call_id: str) -> dict[str, Any]:
    await world.writer.drain()
    async with world.store.engine.connect() as conn:
        rows = (await conn.execute(select(CALLS).where(CALLS.c.id == call_id))).mappings().all()
    assert await world.store.cases.count("calls") == 1
    assert len(rows) == 1
    return dict(rows[0])


async def test_callback_rings_the_agent_then_the_customer_and_is_one_answered_record(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    call_id = await accept_callback(world)
    call = acd.calls[call_id]  # the caller hung up but keeps their place
    assert (call.state, call.queue, call.caller, call.source) == (CallState.QUEUED, "booking", NUMBER, CALLBACK_SOURCE)
    assert call_id in service.control.callbacks.calls and call_id not in service.control.calls
    assert not fake.received("Originate")

    acd.login("1001")  # an agent becomes free
    originate = await fake.wait_action("Originate")
    assert (originate["Channel"], originate["Context"], originate["Exten"]) == ("PJSIP/1001", "hotline-callback", "s")
    assert originate["Async"] == "true" and originate["CallerID"] == f'"Callback" <{NUMBER}>'
    assert originate["Timeout"] == "20000"
    leg = originate["ChannelId"]
    variables = fake.channels[leg].variables  # every Variable header, not just the last
    assert variables["HOTLINE_CALL"] == call_id
    assert variables["HOTLINE_CB_DIAL"] == f"PJSIP/{NUMBER}@trunk"
    assert (variables["HOTLINE_CB_ATTEMPTS"], variables["HOTLINE_CB_CID"]) == ("3", "1588")
    assert acd.calls[call_id].state is CallState.RINGING

    fake.answer_originate(leg)  # the agent answers; the callback context dials the customer
    await world.barrier()
    assert acd.calls[call_id].state is CallState.ON_CALL
    assert fake.channels[leg].dialing is not None
    fake.customer_answers(leg)
    await world.barrier()
    assert service.control.callbacks.calls[call_id].customer_up
    fake.hangup(leg)  # they talk; the agent hangs up
    await world.until(lambda: call_id not in acd.calls)
    await service.drain()
    assert acd.agents["1001"].state.value in ("available", "wrap_up")
    assert call_id not in service.control.callbacks.calls

    row = await stored_call(world, call_id)
    assert (row["source"], row["caller"], row["queue"], row["agent_id"]) == ("asterisk", NUMBER, "booking", "1001")
    assert row["outcome"] == "answered" and row["disposition"] is None
    assert row["started_at"] <= row["queued_at"] <= row["answered_at"] <= row["ended_at"]
    assert call_id in service.stored  # MixMonitor's file, named after the original call
    async with world.store.engine.connect() as conn:
        rec = (await conn.execute(select(RECORDINGS).where(RECORDINGS.c.call_id == call_id))).mappings().one()
    assert rec["uri"] == service.stored[call_id].uri and rec["size"] > 44
    path = [(s.node, s.kind, s.input) for s in await world.store.cases.ivr_path(call_id)]
    assert path[-1] == ("offer", "outcome", "callback:callback_accepted")


async def test_agent_not_answering_keeps_the_callbacks_place_for_the_next_agent(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    call_id = await accept_callback(world)
    acd.login("1001")
    first = await fake.wait_action("Originate")
    fake.originate_fails(first["ChannelId"], "3")  # rang out: OriginateResponse Failure
    await world.barrier()
    assert acd.calls[call_id].state is CallState.QUEUED  # back at its place
    assert acd.agents["1001"].state.value == "paused"
    assert acd.agents["1001"].pause_reason == "ring_no_answer"

    acd.login("1002")
    second = await fake.wait_action("Originate", 2)
    assert second["Channel"] == "PJSIP/1002" and second["ChannelId"] != first["ChannelId"]
    fake.answer_originate(second["ChannelId"])
    await world.barrier()
    fake.customer_answers(second["ChannelId"])
    await world.barrier()
    fake.hangup(second["ChannelId"])
    await world.until(lambda: call_id not in acd.calls)
    await service.drain()
    row = await stored_call(world, call_id)
    assert (row["agent_id"], row["outcome"]) == ("1002", "answered")


async def test_core_ring_timer_hangs_up_the_ringing_agent_leg(world: World) -> None:
    fake, acd = world.fake, world.acd
    call_id = await accept_callback(world)
    acd.login("1001")
    originate = await fake.wait_action("Originate")
    leg = originate["ChannelId"]
    acd.ring_no_answer(call_id)  # as the core's own ring timer does
    hangup = await fake.wait_action("Hangup")
    assert hangup["Channel"] == leg  # by Uniqueid: the leg has no name Hotline knows yet
    await world.barrier()
    assert leg not in fake.channels
    assert acd.calls[call_id].state is CallState.QUEUED  # the late OriginateResponse changed nothing


@pytest.mark.parametrize("world", [{"callback_attempts": 2}], indirect=True)
async def test_customer_busy_then_no_answer_ends_as_callback_failed(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    call_id = await accept_callback(world)
    acd.login("1001")
    leg = (await fake.wait_action("Originate"))["ChannelId"]
    assert fake.channels[leg].variables["HOTLINE_CB_ATTEMPTS"] == "2"
    fake.answer_originate(leg)
    await world.barrier()
    fake.customer_fails(leg, "BUSY")  # the dialplan waits and dials again
    await world.barrier()
    assert acd.calls[call_id].state is CallState.ON_CALL and fake.channels[leg].dialing is not None
    fake.customer_fails(leg, "NOANSWER")  # attempts used up: the callback context hangs up
    await world.until(lambda: call_id not in acd.calls)
    await service.drain()
    row = await stored_call(world, call_id)
    assert (row["outcome"], row["disposition"], row["agent_id"]) == (FAILED, FAILED, "1001")
    assert row["ended_at"] is not None
    assert acd.agents["1001"].state.value in ("available", "wrap_up")  # the agent is not penalised


async def test_agent_hanging_up_before_the_customer_answers_ends_the_callback_as_failed(world: World) -> None:
    fake, acd = world.fake, world.acd
    call_id = await accept_callback(world)
    acd.login("1001")
    leg = (await fake.wait_action("Originate"))["ChannelId"]
    fake.answer_originate(leg)
    await world.barrier()
    fake.hangup(leg)  # the agent gives up while the customer's phone rings (DialEnd CANCEL)
    await world.until(lambda: call_id not in acd.calls)
    row = await stored_call(world, call_id)
    assert (row["outcome"], row["agent_id"]) == (FAILED, "1001")


async def test_an_undialable_callback_number_fails_the_ivr_and_queues_nothing(world: World) -> None:
    caller = CallerScript(number="1234&PJSIP/9999", keys=["1"])
    result = await world.fake.agi_call(world.service.agi.port, caller)
    call_id = result.channel.uniqueid
    outcome = world.service.runs[call_id].outcome
    assert outcome is not None and outcome.kind is OutcomeKind.FAILED
    assert call_id not in world.acd.calls and not world.service.control.callbacks.calls
    assert call_id not in world.fake.channels  # hung up, not parked
    row = await stored_call(world, call_id)
    assert row["outcome"] == "failed" and row["queued_at"] is None


async def test_agent_leg_ended_during_an_ami_outage_is_settled_by_the_resync(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    call_id = await accept_callback(world)
    acd.login("1001")
    leg = (await fake.wait_action("Originate"))["ChannelId"]
    fake.answer_originate(leg)
    await world.barrier()
    fake.customer_answers(leg)
    await world.barrier()
    logins = fake.logins
    fake.drop()
    await fake.wait_for(lambda: not fake.sessions)
    fake.hangup(leg)  # nobody hears the Hangup
    assert call_id in acd.calls
    await fake.wait_for(lambda: fake.logins > logins)
    await service.ami.wait_ready(5)
    await world.until(lambda: call_id not in acd.calls)
    row = await stored_call(world, call_id)
    assert (row["outcome"], row["agent_id"]) == ("answered", "1001")


async def test_agent_events_naming_a_callback_stay_with_call_control(world: World) -> None:
    call_id = await accept_callback(world)
    callbacks = world.service.control.callbacks
    event = AgentStateChanged(0.0, "1001", "wrap_up", "available", call_id=call_id)
    assert callbacks.on_acd_event(event) is False  # presence re-checks still run for the agent
    assert callbacks.on_acd_event(CallQueued(0.0, call_id, "booking", 0, 1)) is False
    assert callbacks.on_acd_event(CallAssigned(0.0, "other-call", "1001", "booking", 0, 0.0)) is False


async def test_agent_and_customer_answering_during_an_ami_outage_are_seen_by_the_resync(world: World) -> None:
    fake, acd, service = world.fake, world.acd, world.service
    call_id = await accept_callback(world)
    acd.login("1001")
    leg = (await fake.wait_action("Originate"))["ChannelId"]
    await world.barrier()
    logins = fake.logins
    fake.drop()
    await fake.wait_for(lambda: not fake.sessions)
    fake.answer_originate(leg)  # OriginateResponse, DialBegin, DialEnd, BridgeEnter: all lost
    fake.customer_answers(leg)
    assert acd.calls[call_id].state is CallState.RINGING
    await fake.wait_for(lambda: fake.logins > logins)
    await world.until(lambda: acd.calls[call_id].state is CallState.ON_CALL)
    await world.barrier()
    assert service.control.callbacks.calls[call_id].customer_up
    fake.hangup(leg)
    await world.until(lambda: call_id not in acd.calls)
    row = await stored_call(world, call_id)
    assert (row["outcome"], row["agent_id"]) == ("answered", "1001")
