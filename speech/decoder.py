"""One utterance on one Vosk recognizer: synchronous, run on a recognition thread.

`Decoder.accept(pcm)` feeds audio to both Vosk and the energy detector and returns Vosk's
result once the utterance has ended, by whichever comes first:
- Vosk's own endpoint (`AcceptWaveform` returns True with words), or
- `end_silence` seconds of low energy after speech started, then `FinalResult()`.
A result without words (a cough, a door), or words while the energy detector has heard no
voice (steady noise that Vosk forces onto the grammar), is dropped and listening goes on;
`finish()` then reports silence (empty text): the IVR's no-input handling.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.speech import Recognition
from speech.vad import EnergyVad, VadSettings


class KaldiLike(Protocol):
    """The part of `vosk.KaldiRecognizer` we use."""

    def AcceptWaveform(self, data: bytes) -> int: ...
    def Result(self) -> str: ...
    def FinalResult(self) -> str: ...
    def Reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Step:
    """What one `accept` produced: the result if the utterance ended, and VAD state."""

    result: Recognition | None
    speech_started: bool


def to_recognition(raw: str, latency: float = 0.0) -> Recognition:
    data: dict[str, Any] = json.loads(raw)
    words = tuple((str(w["word"]), float(w.get("conf", 1.0))) for w in data.get("result", []))
    text = str(data.get("text", "")).strip()
    if not text:
        return Recognition(text="", confidence=0.0, words=(), latency=latency)
    confidence = words[0][1] if words else 1.0
    return Recognition(text=text, confidence=confidence, words=words, latency=latency)


class Decoder:
    def __init__(self, recognizer: KaldiLike, vad: VadSettings) -> None:
        self.recognizer = recognizer
        self._vad_settings = vad
        self.vad = EnergyVad(vad)
        self.speech_heard = False  # sticky over dropped empty results

    def accept(self, pcm: bytes) -> Step:
        started = time.perf_counter()
        vad_ended = self.vad.feed(pcm)
        self.speech_heard = self.speech_heard or self.vad.speech_started
        raw: str | None = None
        if self.recognizer.AcceptWaveform(pcm):
            raw = self.recognizer.Result()
        elif vad_ended:
            raw = self.recognizer.FinalResult()
        if raw is None:
            return Step(None, self.speech_heard)
        latency = self.vad.trailing_silence + (time.perf_counter() - started)
        result = to_recognition(raw, latency)
        if not result.text or not self.speech_heard:
            self._restart_vad()
            return Step(None, self.speech_heard)
        return Step(result, self.speech_heard)

    def finish(self) -> Recognition:
        started = time.perf_counter()
        raw = self.recognizer.FinalResult()
        latency = self.vad.trailing_silence + time.perf_counter() - started
        if not self.speech_heard:
            return Recognition(text="", confidence=0.0, latency=latency)
        return to_recognition(raw, latency)

    def _restart_vad(self) -> None:
        # Keep the learned noise floor: a fresh detector would take the next frame as floor.
        self.vad = EnergyVad(self._vad_settings, floor=self.vad.noise_floor)
