"""Which prompts a menu has, and where their audio lives (pure: no disk, no subprocess).

Synthesized prompts are content-addressed: `tts/<language>/<sha256 of voice and text>`, so a
changed text gets a new file, an unchanged one is never rendered twice, and a channel finds
the file from the prompt alone (no manifest to keep in step).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ivr.menu import Menu, PromptText

PROMPT_FIELDS = ("prompt", "no_input", "no_match", "dtmf_fallback", "announcement", "confirm")
_NESTED = ("no_input", "no_match")  # written `no_input: {prompt: {...}}` in a menu file
# espeak-ng voice per menu language (others: the language code itself)
VOICES = {"ko": "ko", "en": "en-us", "zh": "cmn", "ja": "ja"}
ENGINE = "espeak-ng"


@dataclass(frozen=True, slots=True)
class MenuPrompt:
    where: str  # nodes.main.no_input
    language: str
    text: str
    audio: str | None  # recorded file (relative to the prompts folder, no extension)


def menu_prompts(menu: Menu) -> Iterator[MenuPrompt]:
    for node in menu.nodes.values():
        for name in PROMPT_FIELDS:
            prompts = getattr(node, name)
            for language, p in (prompts or {}).items():
                assert isinstance(p, PromptText)
                where = f"nodes.{node.id}.{name}" + (".prompt" if name in _NESTED else "")
                yield MenuPrompt(where, language, p.text, p.audio)


def voice(language: str) -> str:
    return VOICES.get(language, language)


def tts_name(language: str, text: str) -> str:
    """The synthesized file of `text` (relative, no extension), e.g. tts/ko/3f2a...."""
    digest = hashlib.sha256(f"{ENGINE}\0{voice(language)}\0{' '.join(text.split())}".encode()).hexdigest()
    return f"tts/{language}/{digest[:20]}"


def leaves_folder(audio: str) -> bool:
    """True if an audio path would point outside the prompts folder (absolute, `..`, `~`);
    the same rule `hotline ivr check` reports as an error."""
    path = PurePosixPath(audio.replace("\\", "/"))
    return path.is_absolute() or audio.startswith("~") or ".." in path.parts or ":" in audio
