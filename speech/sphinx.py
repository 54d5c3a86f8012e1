"""PocketSphinx as a second engine behind the same recognizer (English without a Vosk model).

PocketSphinx ships an English acoustic model and dictionary inside its PyPI package
(`pocketsphinx/model/en-us`): nothing to download. The model is 16 kHz, so the 8 kHz call
audio is upsampled (`Upsampler`, a windowed-sinc half-band interpolator that keeps its state
between frames). `SphinxRecognizer` behaves like the part of `vosk.KaldiRecognizer` the
session uses (`AcceptWaveform`, `Result`, `FinalResult`, `SetGrammar`, `SetWords`, `Reset`),
and returns Vosk's JSON (`text`, `result` with `word`, `conf`, `start`, `end` in seconds since
the recognizer was created), so the session's end-of-speech detection, keyword verification
with filler words, pool and confidence rule apply unchanged.

- A grammar (Vosk's JSON list of phrases) becomes a JSGF rule that loops over the phrases,
  as Vosk's grammar does; None is free-form (the bundled trigram language model).
- `conf` is the word's posterior from the lattice (`Segment.prob`), like Vosk's.
- PocketSphinx has no endpoint of its own here: `AcceptWaveform` always returns False and
  the energy detector ends the utterance.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from speech.errors import ModelError

SPHINX_RATE = 16000
FRAMES_PER_SECOND = 100  # PocketSphinx's default frame rate (-frate)
_TAPS = 16  # half the interpolation filter's length, in input samples


def _odd_phase() -> npt.NDArray[np.float64]:
    t = np.arange(2 * _TAPS) - _TAPS + 0.5
    window = np.kaiser(2 * _TAPS, 6.0)
    return np.sinc(t) * window


_ODD = _odd_phase()[::-1].copy()


class Upsampler:
    """8 kHz -> 16 kHz, 16-bit mono, streaming (2 ms delay): even outputs are the input
    samples, odd ones a windowed-sinc interpolation between them (stopband from 4 kHz)."""

    def __init__(self) -> None:
        self._history = np.zeros(2 * _TAPS - 1)

    def feed(self, pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        if not x.size:
            return b""
        buf = np.concatenate([self._history, x])
        self._history = buf[-(2 * _TAPS - 1) :]
        odd = np.convolve(buf, _ODD, mode="valid")  # len(x) values
        even = buf[_TAPS - 1 : _TAPS - 1 + x.size]
        out = np.empty(2 * x.size)
        out[0::2] = even
        out[1::2] = odd
        return np.clip(np.rint(out), -32768, 32767).astype("<i2").tobytes()


def upsample(pcm: bytes) -> bytes:
    """One whole clip 8 -> 16 kHz (the raw engine in the benchmark uses this)."""
    return Upsampler().feed(pcm)


def jsgf(phrases: list[str]) -> str:
    """A JSGF grammar that accepts one or more of `phrases` in a row (like Vosk's grammar)."""
    alternatives = " | ".join(" ".join(p.split()) for p in phrases)
    return f"#JSGF V1.0;\ngrammar hotline;\npublic <utterance> = ( {alternatives} )+;\n"


@dataclass(frozen=True, slots=True)
class SphinxModel:
    """An acoustic model directory, a pronunciation dictionary and a language model (free-form)."""

    hmm: str
    dictionary: str
    lm: str | None

    def find_word(self, word: str) -> int:
        """Like `vosk.Model.vosk_model_find_word`: >= 0 if the dictionary has `word`."""
        return 0 if word.lower() in _words(self.dictionary) else -1

    def create(self, sample_rate: int, grammar: str | None) -> SphinxRecognizer:
        if sample_rate != 8000:
            raise ModelError(f"pocketsphinx: call audio must be 8000 Hz, not {sample_rate}")
        return SphinxRecognizer(self, grammar)


_dictionaries: dict[str, frozenset[str]] = {}
_dict_lock = threading.Lock()


def _words(path: str) -> frozenset[str]:
    with _dict_lock:
        found = _dictionaries.get(path)
        if found is None:
            words = set()
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    head = line.split(maxsplit=1)
                    if head:
                        words.add(head[0].split("(")[0].lower())
            found = _dictionaries[path] = frozenset(words)
        return found


def bundled_model() -> SphinxModel:
    """The en-us model inside the pocketsphinx package."""
    try:
        import pocketsphinx
    except ImportError as exc:
        raise ModelError("speech engine pocketsphinx is not installed (pip install pocketsphinx)") from exc
    base = Path(pocketsphinx.get_model_path()) / "en-us"
    return load_sphinx_model(base / "en-us", base / "cmudict-en-us.dict", base / "en-us.lm.bin")


def load_sphinx_model(hmm: Path, dictionary: Path, lm: Path | None) -> SphinxModel:
    if not hmm.is_dir():
        raise ModelError(f"pocketsphinx acoustic model directory {str(hmm)!r} does not exist")
    if not dictionary.is_file():
        raise ModelError(f"pocketsphinx dictionary {str(dictionary)!r} does not exist")
    model = SphinxModel(str(hmm), str(dictionary), str(lm) if lm is not None and lm.is_file() else None)
    _words(model.dictionary)  # read it now, at start-up
    return model


_END_PADDING = int(0.4 * SPHINX_RATE) * 2  # bytes of 16 kHz 16-bit silence


class SphinxRecognizer:
    """The `KaldiRecognizer` calls a session makes, over a `pocketsphinx.Decoder`."""

    def __init__(self, model: SphinxModel, grammar: str | None) -> None:
        from pocketsphinx import Decoder

        self.model = model
        options: dict[str, Any] = {
            "hmm": model.hmm, "dict": model.dictionary, "samprate": SPHINX_RATE,
            "loglevel": "FATAL", "bestpath": True,
        }
        if grammar is None and model.lm is not None:
            options["lm"] = model.lm
        else:
            options["lm"] = None
        try:
            self._decoder = Decoder(**options)
        except Exception as exc:  # pocketsphinx raises RuntimeError / ValueError
            raise ModelError(f"could not create a pocketsphinx decoder: {exc}") from exc
        self._logmath = self._decoder.get_logmath()
        self._grammar: str | None = None
        self._upsampler = Upsampler()
        self._in_utterance = False
        self._pending = bytearray()  # upsampled audio of the utterance, decoded at its end
        self._seconds = 0.0  # audio fed since creation (Vosk's word times count from there)
        self._utt_start = 0.0
        self._alternatives = 0
        self._score = 0.0  # best path's total score of the last utterance
        if grammar is not None:
            self.SetGrammar(grammar)

    def SetWords(self, enabled: bool) -> None:
        """Words and times are always reported."""

    def SetMaxAlternatives(self, count: int) -> None:
        """Above 0: results are Vosk's n-best form, the best path only, with its acoustic
        log score (natural log) as `confidence`."""
        self._alternatives = count

    def SetGrammar(self, grammar: str) -> None:
        if grammar == self._grammar:
            return
        phrases = [str(p) for p in json.loads(grammar)]
        self._end()
        self._decoder.add_jsgf_string("grammar", jsgf(phrases))
        self._decoder.activate_search("grammar")
        self._grammar = grammar

    def AcceptWaveform(self, data: bytes) -> int:
        if not self._in_utterance:
            self._decoder.start_utt()
            self._in_utterance = True
            self._utt_start = self._seconds
        # Decoded at the end, as one utterance (`_end`): PocketSphinx's live cepstral mean
        # starts from the model's, far from a telephone band's, and a streamed FSG search then
        # often reached no final state (no words); a whole utterance is normalised on itself.
        self._pending += self._upsampler.feed(data)
        self._seconds += len(data) / 16000
        return 0

    def Result(self) -> str:
        return self.FinalResult()

    def PartialResult(self) -> str:
        return json.dumps({"partial": ""})

    def FinalResult(self) -> str:
        words = self._end()
        text = " ".join(w["word"] for w in words)
        if self._alternatives:
            alternative = {"text": text, "confidence": self._score, "result": words}
            return json.dumps({"alternatives": [alternative] if words else []})
        return json.dumps({"text": text, "result": words} if words else {"text": ""})

    def Reset(self) -> None:
        self._end()

    def _end(self) -> list[dict[str, Any]]:
        if not self._in_utterance:
            return []
        self._in_utterance = False
        # Digital silence after the utterance: cut 0.25 s after the voice by the energy
        # detector, the FSG search otherwise explained the tail with one more keyword
        # ("yes" -> "yes no"); measured on the tuning part, docs/speech.md.
        self._pending += bytes(_END_PADDING)
        self._decoder.process_raw(bytes(self._pending), False, True)
        self._pending = bytearray()
        self._decoder.end_utt()
        self._upsampler = Upsampler()
        if self._decoder.hyp() is None:
            return []
        words = []
        segments = list(self._decoder.seg())
        # The bindings report each segment's acoustic score as a probability (exp of the log,
        # which PocketSphinx scales by the best senone of each frame): the path's acoustic
        # log score is the sum of their logs, comparable between two searches on one clip.
        self._score = sum(math.log(max(float(seg.ascore), 1e-300)) for seg in segments)
        for seg in segments:
            word = seg.word.split("(")[0]
            if word.startswith(("<", "[", "+")):  # <s> </s> <sil> [NOISE] +fillers+
                continue
            words.append({
                "word": word,
                "conf": round(min(1.0, float(self._logmath.exp(seg.prob))), 6),
                "start": round(self._utt_start + seg.start_frame / FRAMES_PER_SECOND, 3),
                "end": round(self._utt_start + (seg.end_frame + 1) / FRAMES_PER_SECOND, 3),
            })
        return words


def model_for(path: str | None, dictionary: str | None) -> SphinxModel:
    """The configured model: the bundled en-us one, or a directory (its `*.dict` unless named)."""
    if path is None:
        return bundled_model()
    hmm = Path(path)
    if dictionary is not None:
        dict_path = Path(dictionary)
    else:
        found = sorted(hmm.glob("*.dict")) + sorted(hmm.parent.glob("*.dict"))
        if not found:
            raise ModelError(f"pocketsphinx: no .dict next to {path!r}; give speech.models.*.dictionary")
        dict_path = found[0]
    lms = sorted(p for p in hmm.parent.glob("*.lm.bin") if "phone" not in p.name)
    return load_sphinx_model(hmm, dict_path, lms[0] if lms else None)
