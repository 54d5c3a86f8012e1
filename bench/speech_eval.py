"""Accuracy on the generated evaluation set (tools/make_speech_eval.py), Hotline beside the raw
engine with the same grammar, in the same run.

- raw engine: one `KaldiRecognizer` (PocketSphinx: one decoder) with the node's keywords as grammar, the whole clip, then
  `FinalResult()`; its answer is the option whose keyword the text is, if the first word's
  confidence reaches the threshold (what Vosk alone would give an application).
- Hotline: a `VoskRecognizer` session fed 20 ms frames as a call would (energy end-of-speech,
  keyword verification), decided by the IVR's rule (`ivr.interpreter.match_phrase`) at the
  same threshold.
Figures: correct option on keyword and phrase clips, out-of-menu speech accepted (false
accept), no input, per voice and per keyword; per part (tune / final).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.interpreter import match_phrase_text
from ivr.speech import Recognition, SpeechSession
from speech.mulaw import ULAW_FRAME_BYTES, ulaw_to_pcm16
from speech.recognizer import VoskRecognizer
from speech.sphinx import SphinxModel

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "speech-eval"



async def decode_clip(session: SpeechSession, ulaw: bytes) -> Recognition:
    """A whole mu-law clip fed to `session` 20 ms at a time, as a call brings it: the result
    at the end of speech, or what the session has when the clip ends."""
    for i in range(0, len(ulaw), ULAW_FRAME_BYTES):
        result = await session.feed(ulaw_to_pcm16(ulaw[i : i + ULAW_FRAME_BYTES]))
        if result is not None:
            return result
    return await session.finish()

@dataclass
class Trial:
    clip: dict[str, Any]
    answer: dict[str, str | None]  # who -> option chosen (None: rejected / no input)
    text: dict[str, str]
    confidence: dict[str, float]


def load(language: str, generate: bool = True) -> dict[str, Any] | None:
    manifest = CACHE / language / "manifest.json"
    if not manifest.exists() and generate:
        print(f"   generating the {language} evaluation set into {CACHE} (once; about a minute)")
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "make_speech_eval.py"), "--lang", language],
            check=True,
        )
    if not manifest.exists():
        return None
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    return data


def _option(options: dict[str, list[str]], text: str) -> str | None:
    return match_phrase_text({o: tuple(ws) for o, ws in options.items()}, text)


def raw_decide(options: dict[str, list[str]], result: dict[str, Any], threshold: float) -> str | None:
    text = str(result.get("text", "")).strip()
    words = result.get("result", [])
    conf = float(words[0].get("conf", 1.0)) if words else 0.0
    for option, keywords in options.items():
        if text in keywords and conf >= threshold:
            return option
    return None


def raw_engine(model: Any, phrases: list[str]) -> Any:
    """The engine alone with the same grammar: a `KaldiRecognizer`, or a PocketSphinx decoder
    (`speech.sphinx.SphinxRecognizer`: the JSGF grammar, the clip upsampled to 16 kHz)."""
    grammar = json.dumps(phrases, ensure_ascii=False)
    if isinstance(model, SphinxModel):
        return model.create(8000, grammar)
    from vosk import KaldiRecognizer

    rec = KaldiRecognizer(model, 8000, grammar)
    rec.SetWords(True)
    return rec


async def run_trials(
    recognizers: dict[str, VoskRecognizer], language: str, manifest: dict[str, Any],
    parts: tuple[str, ...],
) -> list[Trial]:
    """Each clip through the raw engine and through each named Hotline recognizer."""
    folder = CACHE / language
    grammars: dict[str, dict[str, list[str]]] = manifest["grammars"]
    first = next(iter(recognizers.values()))
    model = first.models[language]
    raw_recs: dict[str, Any] = {}
    threshold = first.confidence_threshold
    trials = []
    for clip in manifest["clips"]:
        if clip["part"] not in parts:
            continue
        options = grammars[clip["grammar"]]
        phrases = [w for ws in options.values() for w in ws]
        ulaw = (folder / clip["file"]).read_bytes()
        pcm = ulaw_to_pcm16(ulaw)
        raw_rec = raw_recs.get(clip["grammar"])
        if raw_rec is None:
            raw_rec = raw_engine(model, phrases)
            raw_recs[clip["grammar"]] = raw_rec
        raw_rec.AcceptWaveform(pcm)
        raw = json.loads(raw_rec.FinalResult())
        words = raw.get("result", [])
        trial = Trial(clip, {"raw": raw_decide(options, raw, threshold)},
                      {"raw": str(raw.get("text", "")).strip()},
                      {"raw": float(words[0].get("conf", 1.0)) if words else 0.0})
        for who, recognizer in recognizers.items():
            async with recognizer.session(language, phrases) as session:
                result = await decode_clip(session, ulaw)
            trial.answer[who] = _option(options, result.text) if recognizer.accepts(result) else None
            trial.text[who] = result.text
            trial.confidence[who] = result.confidence
        trials.append(trial)
    return trials


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} % ({part}/{whole})" if whole else "   -"


def summary(trials: list[Trial]) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    answer = [t for t in trials if t.clip["expected"]]
    oom = [t for t in trials if not t.clip["expected"]]
    for who in trials[0].answer if trials else ():
        right = sum(t.answer[who] == t.clip["expected"] for t in answer)
        fa = sum(t.answer[who] is not None for t in oom)
        empty = sum(not t.text[who] for t in answer)
        figures[who] = {
            "correct": right / len(answer) if answer else 0.0,
            "rejected": 1 - fa / len(oom) if oom else 1.0,
            "no_input": empty / len(answer) if answer else 0.0,
        }
    return figures


def report(trials: list[Trial], label: str, threshold: float) -> dict[str, dict[str, float]]:
    answer = [t for t in trials if t.clip["expected"]]
    oom = [t for t in trials if not t.clip["expected"]]
    who = list(trials[0].answer) if trials else []
    print(f"   {label}: {len(trials)} clips ({len(answer)} answers, {len(oom)} out-of-menu),"
          f" threshold {threshold}; columns: {', '.join(who)}")
    print(f"   {'':26}" + "".join(f"{w:>22}" for w in who))
    rows = (
        ("correct option (>= 92 %)", answer, lambda t, w: t.answer[w] == t.clip["expected"]),
        ("out-of-menu rejected (>= 90)", oom, lambda t, w: t.answer[w] is None),
        ("no input on an answer", answer, lambda t, w: not t.text[w]),
    )
    for name, group, pick in rows:
        print(f"   {name:26}" + "".join(f"{_pct(sum(pick(t, w) for t in group), len(group)):>22}" for w in who))
    for key, title in (("voice", "per voice: correct / out-of-menu rejected"), ("text", "per keyword / phrase: correct")):
        groups: dict[str, list[Trial]] = defaultdict(list)
        for t in answer:
            groups[t.clip[key]].append(t)
        print(f"   {title}")
        for name in sorted(groups):
            g = groups[name]
            cells = []
            for w in who:
                ok = sum(t.answer[w] == t.clip["expected"] for t in g)
                cell = f"{ok}/{len(g)}"
                if key == "voice":
                    o = [t for t in oom if t.clip["voice"] == name]
                    cell += f" | {sum(t.answer[w] is None for t in o)}/{len(o)}"
                cells.append(f"{cell:>22}")
            print(f"     {name:22}" + "".join(cells))
    kinds: dict[str, list[Trial]] = defaultdict(list)
    for t in oom:
        kinds[t.clip["kind"]].append(t)
    print("   out-of-menu rejected by kind: " + "; ".join(
        f"{k} " + " ".join(f"{sum(t.answer[w] is None for t in g)}/{len(g)}" for w in who)
        for k, g in sorted(kinds.items())))
    return summary(trials)
