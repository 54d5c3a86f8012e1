"""The committed subset of the evaluation set (tools/make_speech_eval.py), with the real model:
Hotline's decisions against the raw engine's on the same clips and grammar. The full set and
its figures are in `python -m bench speech`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.speech_eval import raw_decide
from ivr.interpreter import match_phrase_text
from speech.mulaw import ulaw_to_pcm16
from speech.recognizer import VoskRecognizer

from .conftest import clip, frames

SUBSET = Path(__file__).resolve().parents[1] / "fixtures" / "speech_eval" / "ko"
MANIFEST: dict[str, Any] = json.loads((SUBSET / "manifest.json").read_text(encoding="utf-8"))


async def decide(recognizer: VoskRecognizer, pcm: bytes, options: dict[str, list[str]]) -> str | None:
    phrases = [p for ps in options.values() for p in ps]
    async with recognizer.session("ko", phrases) as session:
        result = None
        for frame in frames(pcm):
            result = await session.feed(frame)
            if result is not None:
                break
        if result is None:
            result = await session.finish()
    if not recognizer.accepts(result):
        return None
    return match_phrase_text({o: tuple(p) for o, p in options.items()}, result.text)


async def test_hotline_beats_the_raw_engine_on_the_committed_subset(
    recognizer: VoskRecognizer,
) -> None:
    from vosk import KaldiRecognizer

    default = recognizer
    recognizer = VoskRecognizer(
        replace(default.settings, verify="strict"), default.models, default.executor
    )

    ours = raw = 0
    answers = rejected_ours = rejected_raw = 0
    for c in MANIFEST["clips"]:
        options = MANIFEST["grammars"][c["grammar"]]
        pcm = ulaw_to_pcm16((SUBSET / c["file"]).read_bytes())
        phrases = [p for ps in options.values() for p in ps]
        engine = KaldiRecognizer(recognizer.models["ko"], 8000, json.dumps(phrases, ensure_ascii=False))
        engine.SetWords(True)
        engine.AcceptWaveform(pcm)
        by_raw = raw_decide(options, json.loads(engine.FinalResult()), recognizer.confidence_threshold)
        by_us = await decide(recognizer, pcm, options)
        if c["expected"]:
            answers += 1
            ours += by_us == c["expected"]
            raw += by_raw == c["expected"]
        else:
            rejected_ours += by_us is None
            rejected_raw += by_raw is None
    others = len(MANIFEST["clips"]) - answers
    # Measured: ours 12/16 right and 13/16 rejected, raw 11/16 and 11/16. Kaldi's dithering
    # moves a clip near a decision by one either way between runs, hence the slack of one.
    figures = (ours, raw, rejected_ours, rejected_raw)
    assert ours >= raw - 1 and rejected_ours >= rejected_raw - 1, figures
    assert ours + rejected_ours > raw + rejected_raw, figures
    assert answers == 16 and others == 16


async def test_calibrated_verification_beats_strict_and_raw_on_the_committed_subset(
    recognizer: VoskRecognizer,
) -> None:
    from vosk import KaldiRecognizer

    def variant(mode: str) -> VoskRecognizer:
        return VoskRecognizer(
            replace(recognizer.settings, verify=mode), recognizer.models, recognizer.executor
        )

    modes = {"calibrated": variant("calibrated"), "strict": variant("strict")}
    right = dict.fromkeys([*modes, "raw"], 0)
    rejected = dict.fromkeys([*modes, "raw"], 0)
    for c in MANIFEST["clips"]:
        options = MANIFEST["grammars"][c["grammar"]]
        pcm = ulaw_to_pcm16((SUBSET / c["file"]).read_bytes())
        phrases = [p for ps in options.values() for p in ps]
        engine = KaldiRecognizer(recognizer.models["ko"], 8000, json.dumps(phrases, ensure_ascii=False))
        engine.SetWords(True)
        engine.AcceptWaveform(pcm)
        decided = {"raw": raw_decide(options, json.loads(engine.FinalResult()), 0.95)}
        for mode, r in modes.items():
            decided[mode] = await decide(r, pcm, options)
        for who, option in decided.items():
            if c["expected"]:
                right[who] += option == c["expected"]
            else:
                rejected[who] += option is None
    figures = (right, rejected)
    # Measured: calibrated 12/16 right and 15/16 rejected, strict 11/16 and 12/16, raw 11/16
    # and 11/16. These clips are in the tuning part the weights were fitted on
    # (tools/fit_speech_calibration.py); the held-out figures are in docs/speech.md. Kaldi's
    # dither moves a clip near a decision by one either way between runs, hence the slack.
    assert rejected["calibrated"] >= rejected["raw"] + 2, figures
    assert right["calibrated"] >= right["raw"], figures
    assert right["calibrated"] + rejected["calibrated"] > right["strict"] + rejected["strict"], figures


async def test_voice_from_the_very_first_frame_is_heard(recognizer: VoskRecognizer) -> None:
    c = clip("kw_hwanbul_ko_175.ulaw")
    pcm = c.pcm()[int(c.speech_start * 8000) * 2 :]  # cut where the voice starts
    options = {"booking": ["예약"], "refund": ["환불"], "agent": ["상담원"]}
    assert await decide(recognizer, pcm, options) == "refund"
