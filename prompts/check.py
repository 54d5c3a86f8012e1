"""`hotline ivr check --prompts DIR` (or `--config` with an `asterisk:` section): warn about
every prompt Asterisk could not play."""

from __future__ import annotations

from pathlib import Path

from ivr.checker import CheckResult, Issue
from ivr.source import format_path, load_source
from prompts.catalog import leaves_folder, menu_prompts, tts_name
from prompts.render import recorded_file


def check_audio(result: CheckResult, folder: Path) -> None:
    """Add a warning to `result` for each prompt with no recording and no synthesized file."""
    assert result.menu is not None
    src = load_source(Path(result.source).read_text(encoding="utf-8"), result.source)
    for p in menu_prompts(result.menu):
        if p.audio is not None and not leaves_folder(p.audio) and recorded_file(folder, p.audio):
            continue
        if (folder / f"{tts_name(p.language, p.text)}.wav").is_file():
            continue
        path = (*p.where.split("."), p.language)
        what = f"recording {p.audio!r} missing and " if p.audio else ""
        result.issues.append(
            Issue(format_path(path), src.line(path),
                  f"no audio for Asterisk: {what}not built (hotline prompts build)", "warning")
        )


def check_recorded_only(result: CheckResult) -> None:
    """Asterisk without a prompts folder plays only the recordings a menu names (`audio:`,
    from its own sounds): warn about every prompt that names none."""
    assert result.menu is not None
    src = load_source(Path(result.source).read_text(encoding="utf-8"), result.source)
    for p in menu_prompts(result.menu):
        if p.audio is not None:
            continue
        path = (*p.where.split("."), p.language)
        result.issues.append(
            Issue(format_path(path), src.line(path),
                  "no audio for Asterisk: no recording named (audio:) and no asterisk.prompts_dir to build one in",
                  "warning")
        )
