"""Render prompts with espeak-ng into 8 kHz 16-bit mono WAV (what Asterisk plays as `.wav`).

    report = build_prompts(menus, folder)      # every prompt of every menu, each language
    path = await render_now(folder, "ko", text)   # one text at once (an emergency announcement)

Only missing files are rendered (names are content hashes, `prompts.catalog.tts_name`);
files under `tts/` that no menu uses any more are removed. Recorded prompts (the menu's
`audio:` files, uploaded by the admin) are never touched and take precedence: a prompt
whose recording exists is not synthesized.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.menu import Menu
from prompts.catalog import leaves_folder, menu_prompts, tts_name, voice

RATE = 8000


class PromptError(Exception):
    """espeak-ng or sox is missing or failed."""


@dataclass
class BuildReport:
    rendered: list[str] = field(default_factory=list)
    unchanged: int = 0
    recorded: int = 0
    removed: list[str] = field(default_factory=list)


def recorded_file(folder: Path, audio: str) -> Path | None:
    """The admin's recording for `audio` (any extension Asterisk plays), if present."""
    if leaves_folder(audio):
        return None
    for ext in (".wav", ".sln", ".ulaw", ".alaw", ".gsm", ".g722"):
        path = folder / f"{audio}{ext}"
        if path.is_file():
            return path
    return None


def render(text: str, language: str, target: Path) -> None:
    """espeak-ng -> sox (8 kHz, 16-bit, mono, telephone band) -> `target` (written atomically)."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptError(f"{tool} is not installed (apt-get install -y espeak-ng sox)")
    try:
        wav = subprocess.run(
            ["espeak-ng", "-v", voice(language), "--stdout", text],
            capture_output=True, check=True, timeout=60,
        ).stdout
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".wav")
        os.close(fd)
        subprocess.run(
            ["sox", "-t", "wav", "-", "-r", str(RATE), "-b", "16", "-e", "signed", "-c", "1", tmp,
             "sinc", "300-3400", "norm", "-3"],
            input=wav, capture_output=True, check=True, timeout=60,
        )
        os.replace(tmp, target)
    except subprocess.CalledProcessError as exc:
        raise PromptError(f"rendering {language} prompt failed: {exc.stderr.decode(errors='replace')[:200]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise PromptError(f"rendering {language} prompt took over {exc.timeout} s") from exc


def build_prompts(menus: Iterable[Menu], folder: Path) -> BuildReport:
    report = BuildReport()
    wanted: set[Path] = set()
    for menu in menus:
        for p in menu_prompts(menu):
            if p.audio is not None and recorded_file(folder, p.audio) is not None:
                report.recorded += 1
                continue
            target = folder / f"{tts_name(p.language, p.text)}.wav"
            wanted.add(target)
            if target.is_file():
                report.unchanged += 1
                continue
            render(p.text, p.language, target)
            report.rendered.append(f"{menu.name}: {p.where} [{p.language}]")
    tts = folder / "tts"
    if tts.is_dir():
        for path in sorted(tts.glob("*/*.wav")):
            if path not in wanted:
                path.unlink()
                report.removed.append(str(path.relative_to(folder)))
    return report


async def render_now(folder: Path, language: str, text: str) -> str:
    """Render one text if its file is missing (off the event loop); its name for playback."""
    name = tts_name(language, text)
    target = folder / f"{name}.wav"
    if not target.is_file():
        await asyncio.to_thread(render, text, language, target)
    return name
