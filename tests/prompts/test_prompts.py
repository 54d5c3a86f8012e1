"""Prompt audio: `hotline prompts build` (real espeak-ng + sox), the checker's audio checks,
and the Asterisk channel playing recorded, built and just-rendered prompts."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from asterisk.agi_channel import AgiChannel
from asterisk.fastagi import AgiSession, FastAgiServer
from asterisk.settings import AsteriskSettings
from hotline.cli import main as hotline
from ivr.channel import Prompt
from ivr.checker import check_menu
from prompts.catalog import menu_prompts, tts_name
from prompts.render import build_prompts
from tests.asterisk.fake_asterisk import CallerScript, FakeAsterisk

MENU = """
menu: tiny
languages: [ko, en]
default_language: ko
start: hello
nodes:
  hello:
    kind: prompt
    prompt:
      ko: {text: "안녕하세요.", audio: ko/hello}
      en: "Hello."
    next: bye
  bye:
    kind: hangup
    prompt: {ko: "안녕히 계세요.", en: "Goodbye."}
"""


def menu(text: str = MENU):  # type: ignore[no-untyped-def]
    result = check_menu(text, "tiny.yaml")
    assert result.menu is not None, result.issues
    return result.menu


def test_build_renders_each_prompt_once_and_follows_text_changes(tmp_path: Path) -> None:
    first = build_prompts([menu()], tmp_path)
    assert len(first.rendered) == 4 and first.unchanged == 0
    target = tmp_path / f"{tts_name('en', 'Goodbye.')}.wav"
    with wave.open(str(target)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 2000  # some speech, not an empty file
    again = build_prompts([menu()], tmp_path)
    assert again.rendered == [] and again.unchanged == 4
    changed = build_prompts([menu(MENU.replace("Goodbye.", "Bye now."))], tmp_path)
    assert changed.rendered == ["tiny: nodes.bye.prompt [en]"]
    assert changed.removed == [str(target.relative_to(tmp_path))] and not target.exists()


def test_a_recorded_prompt_takes_precedence(tmp_path: Path) -> None:
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "hello.wav").write_bytes(b"RIFF")
    report = build_prompts([menu()], tmp_path)
    assert report.recorded == 1 and len(report.rendered) == 3
    assert not (tmp_path / f"{tts_name('ko', '안녕하세요.')}.wav").exists()


def test_the_checker_refuses_audio_paths_leaving_the_folder() -> None:
    for bad in ("../etc/passwd", "/var/sounds/x", "ko/../../x", "~/x"):
        result = check_menu(MENU.replace("audio: ko/hello", f"audio: {bad}"), "tiny.yaml")
        assert any("leaves the prompts folder" in i.message and i.line == 10 for i in result.errors), bad


def test_ivr_check_warns_about_prompts_without_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MENU, encoding="utf-8")
    folder = tmp_path / "sounds"
    assert hotline(["ivr", "check", str(path), "--prompts", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("no audio for Asterisk") == 4
    assert f"{path}:10: warning: nodes.hello.prompt.ko: no audio for Asterisk: recording 'ko/hello' missing" in out
    assert hotline(["prompts", "build", str(path), "--out", str(folder)]) == 0
    capsys.readouterr()
    assert hotline(["ivr", "check", str(path), "--prompts", str(folder)]) == 0
    assert "no audio" not in capsys.readouterr().out


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk()
    yield fake
    await fake.close()


async def test_asterisk_plays_recorded_built_and_new_prompts(fake: FakeAsterisk, tmp_path: Path) -> None:
    build_prompts([menu()], tmp_path)
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "hello.wav").write_bytes(b"RIFF")
    announcement = Prompt("운항이 지연되고 있습니다.", "ko", None, "emergency.announcement")
    prompts = [
        Prompt("안녕하세요.", "ko", "ko/hello", "nodes.hello.prompt"),  # recorded
        Prompt("Goodbye.", "en", None, "nodes.bye.prompt"),  # built
        announcement,  # typed by a supervisor just now: rendered at once
        Prompt("Hello.", "en", "en/missing", "nodes.hello.prompt"),  # recording absent: built one
    ]
    settings = replace(AsteriskSettings(speech_dir=tmp_path), prompts_dir=tmp_path)

    async def handler(session: AgiSession) -> None:
        await AgiChannel(session, settings).play(prompts)

    server = FastAgiServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        result = await fake.agi_call(server.port, CallerScript())
    finally:
        await server.close()
    assert result.commands == [
        'STREAM FILE hotline/ko/hello ""',
        f'STREAM FILE hotline/{tts_name("en", "Goodbye.")} ""',
        f'STREAM FILE hotline/{tts_name("ko", announcement.text)} ""',
        f'STREAM FILE hotline/{tts_name("en", "Hello.")} ""',
    ]
    assert (tmp_path / f"{tts_name('ko', announcement.text)}.wav").is_file()


def test_every_prompt_of_the_sample_menu_is_listed() -> None:
    root = Path(__file__).resolve().parents[2]
    sample = check_menu((root / "config/menus/airline.yaml").read_text(encoding="utf-8"), "airline.yaml")
    assert sample.menu is not None
    found = list(menu_prompts(sample.menu))
    assert {p.language for p in found} == {"ko", "en", "zh"}
    assert any(p.where.endswith("no_input.prompt") for p in found) and len(found) > 40


async def test_an_emergency_announcement_is_rendered_when_switched_on(tmp_path: Path) -> None:
    import asyncio

    from ivr.emergency import EmergencyState
    from prompts.emergency import render_announcements

    state = EmergencyState()
    unsubscribe, running = render_announcements(state, tmp_path)
    text = {"ko": "폭설로 운항이 지연됩니다.", "en": "Flights are delayed by snow."}
    state.activate(0.0, "sup1", text)
    assert len(running) == 2
    await asyncio.gather(*running)
    for language, words in text.items():
        assert (tmp_path / f"{tts_name(language, words)}.wav").is_file()
    unsubscribe()
    state.activate(1.0, "sup1", {"en": "Another text."})
    assert not running  # no longer subscribed


def test_ivr_check_with_asterisk_but_no_prompts_folder_warns_about_unnamed_audio(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(MENU, encoding="utf-8")
    config = tmp_path / "hotline.yaml"
    config.write_text("asterisk:\n  hotline_numbers: ['1588']\n", encoding="utf-8")
    assert hotline(["ivr", "check", str(path), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count("no recording named (audio:) and no asterisk.prompts_dir") == 3  # all but ko/hello
    assert "nodes.hello.prompt.ko" not in out
    config.write_text(f"asterisk:\n  prompts_dir: {tmp_path / 'sounds'}\n", encoding="utf-8")
    assert hotline(["ivr", "check", str(path), "--config", str(config)]) == 0
    assert capsys.readouterr().out.count("no audio for Asterisk: not built") == 3
