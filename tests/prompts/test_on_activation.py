"""The prompts of a menu are rendered (real espeak-ng) the moment the menu is activated, and
those of the menus active at start-up; recordings still take precedence."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.registry import MenuRegistry
from prompts.catalog import tts_name
from prompts.on_activation import render_on_activation
from tests.prompts.test_prompts import MENU


async def test_activating_a_menu_renders_its_prompts_and_an_edit_renders_the_changed_one(tmp_path: Path) -> None:
    registry = MenuRegistry()
    first = registry.load(MENU, "tiny.yaml")
    assert first.ok and first.menu is not None
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "hello.wav").write_bytes(b"RIFF")  # the admin's recording of nodes.hello (ko)
    unsubscribe, running = render_on_activation(registry, tmp_path, active=[first.menu])
    await asyncio.gather(*running)
    for language, text in (("en", "Hello."), ("ko", "안녕히 계세요."), ("en", "Goodbye.")):
        assert (tmp_path / f"{tts_name(language, text)}.wav").is_file(), text
    assert not (tmp_path / f"{tts_name('ko', '안녕하세요.')}.wav").exists()  # recorded: not synthesized

    edited = MENU.replace('en: "Goodbye."', 'en: "Goodbye, and thank you."')
    assert registry.load(edited, "tiny.yaml").ok  # activated: version 2
    assert len(running) == 1
    await asyncio.gather(*running)
    assert (tmp_path / f"{tts_name('en', 'Goodbye, and thank you.')}.wav").is_file()

    unsubscribe()
    registry.rollback("tiny")
    assert not running
