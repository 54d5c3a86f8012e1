"""Position and expected wait on Asterisk (asterisk/hold_announce.py) against the fake
Asterisk: the sentence is synthesized with espeak-ng into the prompts folder, set on the
caller's channel and played through the hold context's `announce` extension."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.call import CallState
from acd.queue import QueueConfig
from acd.wait_estimate import Announcements
from asterisk.confgen import extensions_conf
from prompts.catalog import tts_name
from prompts.hold import hold_text
from tests.asterisk.rig import AGENTS, Rig, make_rig

QUEUES = (
    QueueConfig("booking", skills={"booking": 1}, ring_timeout=30, wrap_up=0.0,
                announce=Announcements(interval=0.05, margin=3600.0, min_samples=1, window=5,
                                       default_handle=120.0)),
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec", queues=QUEUES, prompts_dir=tmp_path / "sounds")
    yield rig
    await rig.close()


def park(rig: Rig, language: str = "ko") -> str:
    chan = rig.fake.new_channel()
    rig.fake.to_hold(chan)
    chan.variables["HOTLINE_QUEUE"] = "booking"
    rig.control.enqueue(chan.uniqueid, chan.name, "booking", caller="+821012345678", dialed="1588",
                        language=language)
    return chan.uniqueid


async def test_a_waiting_caller_hears_the_position_then_the_wait_once_estimates_proved_close(
    rig: Rig, tmp_path: Path
) -> None:
    first = park(rig)
    setvar = await rig.fake.wait_action("Setvar")
    redirect = await rig.fake.wait_action("Redirect")
    chan = rig.fake.channels[first]
    assert setvar["Channel"] == chan.name and setvar["Variable"] == "HOTLINE_ANNOUNCE"
    # no handle time proven yet: the position only, in the caller's language
    name = tts_name(*hold_text("ko", 1, None))
    assert setvar["Value"] == f"hotline/{name}"
    assert (tmp_path / "sounds" / f"{name}.wav").stat().st_size > 1000  # really synthesized
    assert (redirect["Channel"], redirect["Context"], redirect["Exten"], redirect["Priority"]) == (
        chan.name, "hotline-hold", "announce", "1"
    )
    assert chan.variables["HOTLINE_ANNOUNCE"] == setvar["Value"]
    # announced again at the interval while it waits
    await rig.fake.wait_action("Setvar", 2)

    # an agent comes, talks with another caller first: `first` waits with an estimate told
    rig.acd.login("1001")
    await rig.fake.wait_for(lambda: any(a["Context"] == "hotline-connect" for a in rig.fake.received("Redirect")))
    await rig.barrier()
    assert rig.acd.calls[first].state is CallState.RINGING
    rig.fake.answer(first)
    await rig.barrier()
    busy = park(rig)
    await rig.fake.wait_action("Setvar", len(rig.fake.received("Setvar")) + 1)
    rig.fake.hangup(first)  # 1001 is free again (no wrap-up): `busy` is offered and answered
    await rig.fake.wait_for(lambda: rig.acd.calls.get(busy) is not None
                            and rig.acd.calls[busy].state is CallState.RINGING)
    await rig.barrier()
    rig.fake.answer(busy)
    await rig.barrier()
    assert rig.acd.calls[busy].state is CallState.ON_CALL
    assert len(rig.control.estimator.errors("booking")) >= 1
    told_before = len(rig.fake.received("Setvar"))

    second = park(rig, "en")  # the only agent talks: the second caller waits
    await rig.fake.wait_action("Setvar", told_before + 1)
    value = rig.fake.received("Setvar")[-1]["Value"]
    told = rig.control.estimator.announce(second, record=False)
    assert told is not None and told.expected_wait is not None  # the first estimate was within the margin
    assert value == f"hotline/{tts_name(*hold_text('en', 1, told.minutes()))}"
    name2 = rig.fake.channels[second].name
    await rig.fake.wait_for(lambda: any(a["Channel"] == name2 and a["Exten"] == "announce"
                                        for a in rig.fake.received("Redirect")))
    await rig.control.drain()
    assert (second, value) in rig.control.announcer.played


async def test_no_announcement_once_the_call_rings_and_none_without_a_prompts_folder(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "rec", queues=QUEUES, prompts_dir=None)
    try:
        told: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        rig.control.announcer.on_told = lambda c: told.done() or told.set_result(c)
        call_id = park(rig)
        assert await asyncio.wait_for(told, 5.0) == call_id
        await rig.control.drain()
        await rig.barrier()
        assert rig.fake.received("Setvar") == [] and rig.fake.received("Redirect") == []
        rig.acd.login(AGENTS[0].id)
        await rig.fake.wait_action("Redirect")
        await rig.barrier()
        assert rig.acd.calls[call_id].state is CallState.RINGING
        assert call_id not in rig.control.announcer._timers
    finally:
        await rig.close()


def test_the_hold_context_has_the_announce_extension() -> None:
    from asterisk.settings import AsteriskSettings

    conf = extensions_conf(AsteriskSettings(), AGENTS)
    hold = conf[conf.index("[hotline-hold]"):conf.index("[hotline-connect]")]
    assert "exten => announce,1," in hold
    assert ' same => n,ExecIf($["${HOTLINE_ANNOUNCE}" != ""]?Playback(${HOTLINE_ANNOUNCE}))' in hold
    assert hold.count("MusicOnHold(default)") == 2
