"""One utterance on one Vosk recognizer: synchronous, run on a recognition thread.

`Decoder.accept(pcm)` feeds audio to the energy detector, and to Vosk only once the detector
has heard voice start: until then the audio waits in a pre-roll of the last `pre_roll`
seconds, which Vosk gets first when voice starts (so the onset the detector needed 80 ms to
confirm, and the quiet before it, are still decoded). Most of a caller's listening window is
silence, which Vosk then never decodes. It returns Vosk's result once the utterance has
ended, by whichever comes first:
- Vosk's own endpoint (`AcceptWaveform` returns True with words), or
- `end_silence` seconds of low energy after speech started, then `FinalResult()`.
A result without words (a cough, a door), or words while the energy detector has heard no
voice (steady noise that Vosk forces onto the grammar), is dropped and listening goes on;
`finish()` then reports silence (empty text): the IVR's no-input handling.

With a `verifier` (grammar sessions), each keyword of Vosk's hypothesis is checked by a
second pass over its stretch of audio with filler words (`speech.verify`): the result's text
is the verified phrase, its confidence the second pass's (0 when nothing was verified).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ivr.speech import Recognition
from speech.calibrated import Calibration, verify_calibrated
from speech.vad import EnergyVad, VadSettings
from speech.verify import Verdict, Word, verify, verify_ratio

BYTES_PER_SECOND = 16000  # 16-bit mono at 8 kHz
KEEP_SECONDS = 30.0  # audio kept for verification
PRE_ROLL_SECONDS = 0.7  # audio before the detected voice start that Vosk still gets
Verifier = Callable[[bytes, bool], Sequence[Word]]  # (audio, lenient) -> words


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


def timed_words(raw: str, offset: float = 0.0) -> list[Word]:
    data: dict[str, Any] = json.loads(raw)
    return [
        Word(str(w["word"]), float(w.get("conf", 1.0)), float(w.get("start", 0.0)) - offset,
             float(w.get("end", 0.0)) - offset)
        for w in data.get("result", [])
    ]


def best_score(raw: str) -> float | None:
    """The total score of the best path of a scored recognizer's result (None: no words)."""
    data: dict[str, Any] = json.loads(raw)
    alternatives = data.get("alternatives") or []
    if not alternatives or not str(alternatives[0].get("text", "")).strip():
        return None
    return float(alternatives[0]["confidence"])


def to_recognition(raw: str, latency: float = 0.0) -> Recognition:
    data: dict[str, Any] = json.loads(raw)
    words = tuple((str(w["word"]), float(w.get("conf", 1.0))) for w in data.get("result", []))
    text = str(data.get("text", "")).strip()
    if not text:
        return Recognition(text="", confidence=0.0, words=(), latency=latency)
    confidence = words[0][1] if words else 1.0
    return Recognition(text=text, confidence=confidence, words=words, latency=latency)


class Decoder:
    def __init__(
        self,
        recognizer: KaldiLike,
        vad: VadSettings,
        *,
        verifier: Verifier | None = None,
        phrases: Sequence[str] = (),
        offset: float = 0.0,
        mode: str = "strict",
        ratio: Callable[[bytes], float | None] | None = None,
        ratio_threshold: float = 0.0,
        pre_roll: float | None = PRE_ROLL_SECONDS,
        calibration: Calibration | None = None,
    ) -> None:
        """`offset`: seconds of audio `recognizer` decoded before (Vosk's word times count
        from its creation); `verifier` decodes a stretch of audio with the filler grammar;
        `pre_roll`: seconds kept for Vosk while no voice is heard (None: Vosk hears every
        frame, as the raw engine does)."""
        self.recognizer = recognizer
        self._vad_settings = vad
        self.vad = EnergyVad(vad)
        self.speech_heard = False  # sticky over dropped empty results
        self._verifier = verifier if phrases else None
        self._phrases = tuple(phrases)
        self._offset = offset
        self._mode = mode
        self._ratio = ratio if phrases else None
        self._ratio_threshold = ratio_threshold
        self._calibration = calibration  # with `verifier`: `verify: calibrated`
        self._audio = bytearray()
        self._audio_start = 0.0  # session seconds where `_audio` begins
        self.fed = 0  # bytes fed to the recognizer
        self._gated = pre_roll is not None
        self._pre_roll_bytes = int((pre_roll or 0.0) * BYTES_PER_SECOND) & ~1
        self._waiting = bytearray()  # the pre-roll: audio not given to Vosk yet

    def accept(self, pcm: bytes) -> Step:
        started = time.perf_counter()
        vad_ended = self.vad.feed(pcm)
        self.speech_heard = self.speech_heard or self.vad.speech_started
        if self._gated:
            if not self.vad.speech_started:
                self._wait(pcm)
                return Step(None, self.speech_heard)
            if self._waiting:
                pcm = bytes(self._waiting) + pcm
                self._waiting.clear()
        self._keep(pcm)
        raw: str | None = None
        if self.recognizer.AcceptWaveform(pcm):
            raw = self.recognizer.Result()
        elif vad_ended:
            raw = self.recognizer.FinalResult()
        if raw is None:
            return Step(None, self.speech_heard)
        result = to_recognition(raw)
        if not result.text or not self.speech_heard:
            self._restart_vad()
            return Step(None, self.speech_heard)
        result = self._checked(raw, result)
        latency = self.vad.trailing_silence + (time.perf_counter() - started)
        return Step(_with_latency(result, latency), self.speech_heard)

    def finish(self) -> Recognition:
        started = time.perf_counter()
        raw = self.recognizer.FinalResult()
        if not self.speech_heard:
            latency = self.vad.trailing_silence + time.perf_counter() - started
            return Recognition(text="", confidence=0.0, latency=latency)
        result = to_recognition(raw)
        if result.text:
            result = self._checked(raw, result)
        latency = self.vad.trailing_silence + time.perf_counter() - started
        return _with_latency(result, latency)

    def _wait(self, pcm: bytes) -> None:
        self._waiting += pcm
        excess = len(self._waiting) - self._pre_roll_bytes
        if excess > 0:
            excess += excess % 2
            if not self.fed:
                # Before the first voice, kept at negative Vosk time: verification measures
                # the clip's noise floor on the whole window, as when Vosk heard every frame.
                self._store(bytes(self._waiting[:excess]))
                self._audio_start -= excess / BYTES_PER_SECOND
            del self._waiting[:excess]

    def _keep(self, pcm: bytes) -> None:
        """Audio Vosk decoded, in Vosk's time (word times index it) for verification."""
        self.fed += len(pcm)
        self._store(pcm)

    def _store(self, pcm: bytes) -> None:
        self._audio += pcm
        excess = len(self._audio) - int(KEEP_SECONDS * BYTES_PER_SECOND)
        if excess > 0:
            excess += excess % 2
            del self._audio[:excess]
            self._audio_start += excess / BYTES_PER_SECOND

    def _piece(self, start: float, end: float) -> bytes:
        a = max(0, int((start - self._audio_start) * BYTES_PER_SECOND) & ~1)
        b = max(0, int((end - self._audio_start) * BYTES_PER_SECOND) & ~1)
        return bytes(self._audio[a:b])

    def _checked(self, raw: str, result: Recognition) -> Recognition:
        if self._calibration is not None and self._verifier is not None:
            verdict = self._calibrated_verdict(raw, self._calibration)
        elif self._ratio is not None:
            ratio = self._ratio

            def scored(start: float, end: float) -> float | None:
                piece = self._piece(start, end)
                return ratio(piece) if len(piece) >= 3200 else None  # under 0.1 s

            verdict = verify_ratio(
                timed_words(raw, self._offset), self._phrases, scored, self._ratio_threshold
            )
        elif self._verifier is not None:
            verdict = self._filler_verdict(raw)
        else:
            return result
        if verdict.phrase is None:
            return Recognition(text=result.text, confidence=0.0, words=result.words)
        return Recognition(text=verdict.phrase, confidence=verdict.confidence, words=result.words)

    def _filler_verdict(self, raw: str) -> Verdict:
        assert self._verifier is not None
        verifier = self._verifier

        def redecode(start: float, end: float, lenient: bool) -> Sequence[Word]:
            piece = self._piece(start, end)
            return verifier(piece, lenient) if len(piece) >= 3200 else []  # under 0.1 s

        return verify(
            timed_words(raw, self._offset),
            self._phrases,
            lambda a, b: redecode(a, b, False),
            lambda a, b: redecode(a, b, True),
            mode=self._mode,
        )

    def _calibrated_verdict(self, raw: str, calibration: Calibration) -> Verdict:
        assert self._verifier is not None
        verifier = self._verifier

        def redecode(start: float, end: float, lenient: bool) -> Sequence[Word]:
            piece = self._piece(start, end)
            return verifier(piece, lenient) if len(piece) >= 3200 else []  # under 0.1 s

        return verify_calibrated(
            timed_words(raw, self._offset),
            self._phrases,
            lambda a, b: redecode(a, b, False),
            lambda a, b: redecode(a, b, True),
            self._piece,
            calibration,
        )

    def _restart_vad(self) -> None:
        # Keep the learned noise floor: a fresh detector would take the next frame as floor.
        self.vad = EnergyVad(self._vad_settings, floor=self.vad.noise_floor)


def _with_latency(result: Recognition, latency: float) -> Recognition:
    return Recognition(result.text, result.confidence, result.words, latency)
