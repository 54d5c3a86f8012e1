"""The evaluation set's plan (tools/make_speech_eval.py) meets issue 17: at least 300 clips per
language with a model, every keyword of the sample menu, six or more voices, several noise
levels and silences, out-of-menu speech, a tuning and a final part. Pure: nothing synthesized."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_speech_eval", ROOT / "tools" / "make_speech_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_speech_eval"] = module
    spec.loader.exec_module(module)
    return module


def _menu_keywords(language: str) -> set[str]:
    menu = yaml.safe_load((ROOT / "config" / "menus" / "airline.yaml").read_text(encoding="utf-8"))
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            words = node.get("keywords")
            if isinstance(words, dict):
                found.update(words.get(language, []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(menu)
    return found


def test_the_plan_covers_what_the_issue_asks_for_in_each_language() -> None:
    tool = _tool()
    for code in ("ko", "en"):  # Korean: Vosk; English: PocketSphinx
        lang = tool.LANGUAGES[code]
        clips = tool.plan(lang)
        assert len(clips) >= 300, (code, len(clips))
        said = {c.text for c in clips if c.kind == "keyword"}
        assert _menu_keywords(code) <= said, (code, _menu_keywords(code) - said)
        voices = {c.voice for c in clips if c.kind == "keyword"}
        assert len(voices) >= 6
        assert len({c.noise_db for c in clips}) >= 3 and 0.0 in {c.lead for c in clips}
        assert len({c.lead for c in clips}) >= 3 and len({c.trail for c in clips}) >= 2
        kinds = Counter(c.kind for c in clips)
        for kind in ("out_of_menu", "hesitation", "cough", "silence", "phrase"):
            assert kinds[kind] > 0, (code, kind)
        parts = Counter(c.part for c in clips)
        assert parts["tune"] > 0 and parts["final"] > 0
        held_out = {v.name for v in lang.voices if v.final_only}
        assert held_out and all(c.part == "final" for c in clips if c.voice in held_out)
    assert tool.RATE == 8000
