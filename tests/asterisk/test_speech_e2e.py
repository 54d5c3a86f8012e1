"""Speech over Asterisk: the caller's answer is recorded with RECORD FILE and the file is fed
to the real Korean Vosk model (the speech tests' session-wide recognizer)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.events import OutcomeKind
from speech.recognizer import VoskRecognizer
from tests.asterisk.fake_asterisk import CallerScript, silence
from tests.asterisk.world import make_world
from tests.speech.conftest import clip, ko_models, recognizer

__all__ = ["ko_models", "recognizer"]  # the session fixtures, shared with tests/speech

MENU_KO = Path(__file__).with_name("menu_ko.yaml")


async def test_spoken_keyword_over_record_file_routes_the_call(tmp_path: Path, recognizer: VoskRecognizer) -> None:
    async with make_world(tmp_path, menu=MENU_KO, menu_name="asterisk-speech", recognizer=recognizer) as world:
        speech = clip("kw_yeyak_ko_150.ulaw").pcm() + silence(1.0)
        caller = CallerScript(number="01012345678", speech=[speech])
        result = await world.fake.agi_call(world.service.agi.port, caller)
        run = world.service.runs[result.channel.uniqueid]
        await asyncio.wait_for(run.done.wait(), 10)
        assert run.outcome is not None and run.outcome.kind is OutcomeKind.TRANSFER, run.outcome
        record = next(c for c in result.commands if c.startswith("RECORD FILE"))
        assert record.split(" ")[3:5] == ["wav", '"0123456789*#"']  # keys still end the recording
        await world.until(lambda: result.channel.uniqueid in world.acd.calls)
        assert world.acd.calls[result.channel.uniqueid].queue == "booking"
        assert not list((tmp_path / "speech").glob("*.wav"))  # the recording of the answer is removed


async def test_spoken_refund_ends_at_the_refund_node(tmp_path: Path, recognizer: VoskRecognizer) -> None:
    async with make_world(tmp_path, menu=MENU_KO, menu_name="asterisk-speech", recognizer=recognizer) as world:
        caller = CallerScript(speech=[clip("kw_hwanbul_ko_150.ulaw").pcm() + silence(1.0)])
        result = await world.fake.agi_call(world.service.agi.port, caller)
        run = world.service.runs[result.channel.uniqueid]
        await asyncio.wait_for(run.done.wait(), 10)
        assert run.outcome is not None and run.outcome.kind is OutcomeKind.HANGUP
        assert run.outcome.node == "refund_info"
        assert "hotline/ko/refund-info" in caller.played


async def test_key_pressed_during_record_file_is_taken_as_dtmf(tmp_path: Path, recognizer: VoskRecognizer) -> None:
    async with make_world(tmp_path, menu=MENU_KO, menu_name="asterisk-speech", recognizer=recognizer) as world:
        caller = CallerScript(record_keys=["2"])
        result = await world.fake.agi_call(world.service.agi.port, caller)
        run = world.service.runs[result.channel.uniqueid]
        await asyncio.wait_for(run.done.wait(), 10)
        assert run.outcome is not None and run.outcome.node == "refund_info"
        assert any(c.startswith("RECORD FILE") for c in result.commands)
        assert not list((tmp_path / "speech").glob("*.wav"))
