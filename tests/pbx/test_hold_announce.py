"""Position announcement on hold through a real Asterisk 22 (asterisk/hold_announce.py): a SIPp
caller waits in the general queue with no agent; Hotline synthesizes the sentence with
espeak-ng into the PBX's sounds folder and Asterisk plays it from the hold context."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from prompts.catalog import tts_name
from prompts.hold import hold_text
from tests.pbx.asterisk_proc import CALLER_INFO
from tests.pbx.peers import Bye, Info, Pause
from tests.pbx.world import World, until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(asterisk_prefix: Path) -> AsyncIterator[World]:
    run = Path(tempfile.mkdtemp(prefix="hlpbx-", dir="/tmp"))
    w = World(asterisk_prefix, run)
    w.hotline.prompts_dir = w.pbx.data / "sounds" / "hotline"  # the folder Asterisk plays hotline/... from
    w.hotline.announce = 3.0
    try:
        await w.start()
        yield w
    finally:
        await w.stop()
        if not os.environ.get("HOTLINE_PBX_KEEP"):
            shutil.rmtree(run, ignore_errors=True)


async def test_a_waiting_caller_hears_the_position_from_the_hold_context(world: World) -> None:
    await world.ready(())  # nobody takes calls: the caller waits
    name = tts_name(*hold_text("en", 1, None))  # no handle time proven yet: the position only
    caller = world.caller(CALLER_INFO, [Pause(1200), Info("2"), Pause(9000), Bye()])
    await caller.start()
    await until(lambda: f"hotline/{name}" in world.pbx.full_log(), within=30,
                what="Asterisk playing the synthesized position announcement")
    assert (world.hotline.prompts_dir / f"{name}.wav").stat().st_size > 1000  # type: ignore[operator]
    played = [line for line in world.pbx.full_log().splitlines() if f"hotline/{name}" in line]
    assert any("announce@hotline-hold" in line and "Playback" in line for line in played), played
    assert await caller.wait(40) == 0, caller.errors()
