"""Live speech over AudioSocket against the fake Asterisk: the IVR runs `EXEC AudioSocket`,
plays the (espeak-ng rendered) prompt itself over the stream, and the caller's synthesized
speech (telephone band, mu-law fixtures) goes to the real Korean Vosk model as it arrives.
The caller talks over the prompt (barge-in), after it, or presses a key on the stream."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from asterisk.settings import AudioSocketSettings
from ivr.checker import check_menu
from ivr.events import OutcomeKind
from ivr.menu import Menu
from ivr.speech import SpeechError
from prompts.catalog import tts_name
from prompts.render import build_prompts
from speech.recognizer import VoskRecognizer
from speech.wavfile import read_wav_bytes
from tests.asterisk.fake_asterisk import CallerScript, silence
from tests.asterisk.fake_audiosocket import LiveCaller, loud_frames
from tests.asterisk.world import World, make_world
from tests.speech.conftest import clip, ko_models, recognizer

__all__ = ["ko_models", "recognizer"]  # the session fixtures, shared with tests/speech

MENU_KO = Path(__file__).with_name("menu_ko.yaml")


def load_menu_file(path: Path) -> Menu:
    result = check_menu(path.read_text(encoding="utf-8"), str(path))
    assert result.menu is not None, result.errors
    return result.menu


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every prompt of the test menu rendered by `hotline prompts build`'s code (espeak-ng)."""
    folder = tmp_path_factory.mktemp("prompts")
    build_prompts([load_menu_file(MENU_KO)], folder)
    return folder


def main_prompt(prompts: Path) -> bytes:
    menu = load_menu_file(MENU_KO)
    text = menu.nodes["main"].prompt["ko"].text  # type: ignore[index]
    return read_wav_bytes((prompts / f"{tts_name('ko', text)}.wav").read_bytes())


def live_world(tmp_path: Path, prompts: Path, recognizer: VoskRecognizer, **audiosocket: str) -> object:
    settings = AudioSocketSettings(port=0, **audiosocket)  # type: ignore[arg-type]
    return make_world(tmp_path, menu=MENU_KO, menu_name="asterisk-speech", recognizer=recognizer,
                      overrides={"audiosocket": settings, "prompts_dir": prompts})


async def call(world: World, caller: CallerScript) -> tuple[OutcomeKind, str, list[str]]:
    result = await world.fake.agi_call(world.service.agi.port, caller)
    run = world.service.runs[result.channel.uniqueid]
    await asyncio.wait_for(run.done.wait(), 30)
    assert run.outcome is not None, run.error
    return run.outcome.kind, run.outcome.node, result.commands


async def test_caller_talks_over_the_prompt_and_reaches_booking(
    tmp_path: Path, prompts: Path, recognizer: VoskRecognizer
) -> None:
    speech = silence(0.4) + clip("kw_yeyak_ko_150.ulaw").pcm() + silence(1.5)
    caller = CallerScript(number="01012345678", live=[LiveCaller(pcm=speech)])
    async with live_world(tmp_path, prompts, recognizer) as world:  # type: ignore[attr-defined]
        kind, _node, commands = await call(world, caller)
        assert kind is OutcomeKind.TRANSFER
        await world.until(lambda: any(c.queue == "booking" for c in world.acd.calls.values()))
        assert world.service.live.live == 1 and world.service.live.last_barge_in
    assert any(c.startswith("EXEC AudioSocket ") for c in commands)
    assert not any(c.startswith("RECORD FILE") for c in commands)  # no 5 s of silence to wait for
    stream = caller.streams[0]
    assert stream.hung_up_by == "hotline"  # Hotline ended AudioSocket(): the AGI went on
    # The prompt was cut: the caller heard only part of it, then silence.
    said = loud_frames(main_prompt(prompts))
    assert 0 < stream.loud_frames() < said * 0.6, (stream.loud_frames(), said)
    assert "hotline/ko/main" not in caller.played  # the prompt went over the stream, not STREAM FILE


async def test_caller_answers_after_the_prompt(tmp_path: Path, prompts: Path, recognizer: VoskRecognizer) -> None:
    prompt = main_prompt(prompts)
    speech = silence(len(prompt) / 16000 + 0.3) + clip("kw_hwanbul_ko_150.ulaw").pcm() + silence(1.5)
    caller = CallerScript(live=[LiveCaller(pcm=speech)])
    async with live_world(tmp_path, prompts, recognizer) as world:  # type: ignore[attr-defined]
        kind, node, _ = await call(world, caller)
        assert (kind, node) == (OutcomeKind.HANGUP, "refund_info")
        assert world.service.live.live == 1 and not world.service.live.last_barge_in
    assert caller.streams[0].loud_frames() == loud_frames(prompt)  # the whole prompt was said


async def test_key_pressed_on_the_stream_is_taken_as_dtmf(
    tmp_path: Path, prompts: Path, recognizer: VoskRecognizer
) -> None:
    caller = CallerScript(live=[LiveCaller(keys={25: "2"})])  # 0.5 s into the prompt
    async with live_world(tmp_path, prompts, recognizer) as world:  # type: ignore[attr-defined]
        kind, node, _ = await call(world, caller)
        assert (kind, node) == (OutcomeKind.HANGUP, "refund_info")
        assert world.service.live.last_barge_in
    assert caller.streams[0].loud_frames() < loud_frames(main_prompt(prompts)) * 0.5


async def test_silence_after_the_prompt_is_no_input_then_the_failure_branch(
    tmp_path: Path, prompts: Path, recognizer: VoskRecognizer
) -> None:
    caller = CallerScript(live=[LiveCaller(), LiveCaller()])  # says nothing, twice (retries: 1)
    async with live_world(tmp_path, prompts, recognizer) as world:  # type: ignore[attr-defined]
        kind, node, commands = await call(world, caller)
    assert (kind, node) == (OutcomeKind.HANGUP, "goodbye")
    assert sum(c.startswith("EXEC AudioSocket") for c in commands) == 2


async def test_caller_hanging_up_on_the_stream_abandons_the_ivr(
    tmp_path: Path, prompts: Path, recognizer: VoskRecognizer
) -> None:
    caller = CallerScript(live=[LiveCaller(hang_up_at=10)])
    async with live_world(tmp_path, prompts, recognizer) as world:  # type: ignore[attr-defined]
        kind, _, _ = await call(world, caller)
    assert kind is OutcomeKind.ABANDONED


async def test_audiosocket_unreachable_falls_back_to_record_file(
    tmp_path: Path, prompts: Path, recognizer: VoskRecognizer
) -> None:
    caller = CallerScript(speech=[clip("kw_yeyak_ko_150.ulaw").pcm() + silence(1.0)])
    # Asterisk is told an address where nothing listens: AudioSocket() fails, the channel is up.
    async with live_world(tmp_path, prompts, recognizer, advertise="127.0.0.2") as world:  # type: ignore[attr-defined]
        kind, _, commands = await call(world, caller)
        assert world.service.live.fallbacks == 1
    assert kind is OutcomeKind.TRANSFER
    assert any(c.startswith("RECORD FILE") for c in commands)



class BrokenSession:
    """A recognizer session whose engine fails on the first audio (a worker that died)."""

    async def feed(self, pcm: bytes) -> None:
        raise SpeechError("the speech worker is gone")

    def speech_started(self) -> bool:
        return False

    async def finish(self) -> None:
        raise SpeechError("the speech worker is gone")

    async def close(self) -> None:
        return None


class BrokenRecognizer:
    def languages(self) -> list[str]:
        return ["ko"]

    def session(self, language: str, grammar: object) -> BrokenSession:
        return BrokenSession()


async def test_a_failing_recognizer_ends_the_stream_and_the_ivr_asks_by_keys(tmp_path: Path, prompts: Path) -> None:
    caller = CallerScript(keys=["2"])
    async with live_world(tmp_path, prompts, BrokenRecognizer()) as world:  # type: ignore[arg-type, attr-defined]
        kind, node, commands = await call(world, caller)
    assert (kind, node) == (OutcomeKind.HANGUP, "refund_info")
    live = commands.index(next(c for c in commands if c.startswith("EXEC AudioSocket")))
    assert any(c.startswith("WAIT FOR DIGIT") or c.startswith("STREAM FILE") for c in commands[live + 1 :])
    assert caller.streams[0].hung_up_by == "hotline"
