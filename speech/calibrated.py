"""Calibrated keyword verification (`verify: calibrated`): one fitted decision, not hand rules.

The grammar recognizer's hypothesis proposes candidates (`speech.verify.candidates`). For
each, the measurements the other modes look at one by one are put in a feature vector
(`FEATURES`): the first pass's word confidence, what the two filler passes heard over its
stretch (strict: every filler; lenient: only fillers sharing no vowel with a keyword), its
length per syllable, how many other keywords and words the hypothesis has, and how loud and
voiced its audio is against the clip's noise floor. A logistic regression fitted on the
tuning part of the evaluation set (`tools/fit_speech_calibration.py`; weights committed in
`speech/calibration_weights.py`) turns the vector into the probability that the candidate is
what the caller said. The most probable candidate is the answer; its confidence is that
probability mapped so that the fitted operating point falls on the IVR's threshold
(`REFERENCE_THRESHOLD`). Pure: no Vosk import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from speech.verify import MARGIN_S, Candidate, Verdict, Word, candidates, phrase_confidence

FEATURES = (
    "first_conf",  # first-pass confidence (lowest word of the phrase)
    "strict_same",  # the strict filler pass heard this phrase over the stretch
    "strict_conf",  # its confidence there (0: not heard)
    "strict_other",  # the strict pass heard another phrase there
    "strict_fillers",  # filler words the strict pass heard there
    "lenient_same",  # the lenient pass heard this phrase
    "lenient_only",  # ... and nothing else
    "log_syllable_s",  # log(seconds per syllable of the phrase)
    "distinct",  # distinct phrases in the hypothesis
    "log_words",  # log(1 + words in the hypothesis)
    "coverage",  # share of the hypothesis' time span that is this candidate
    "repeats",  # times this phrase occurs in the hypothesis
    "longest",  # the longest candidate of the hypothesis
    "level_db",  # candidate's RMS level above the clip's noise floor (dB)
    "voiced",  # share of its 20 ms frames 12 dB above the floor
    "log_syllables",  # log(syllables of the phrase)
    "log_duration",  # log(seconds of the candidate)
    "voiced_share",  # share of the clip's voiced frames that fall inside the candidate
    "log_voiced_per_syllable",  # log(voiced seconds of the whole clip / syllables of the phrase)
    "best_other_conf",  # best first-pass confidence of another phrase (0: none)
    "strict_words",  # words the strict pass heard there
    "lenient_fillers",  # filler words the lenient pass heard there
)
REFERENCE_THRESHOLD = 0.95  # the IVR threshold the fitted operating point is mapped onto
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM
VOICED_DB = 12.0  # a frame this far above the clip's noise floor counts as voiced


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic regression over `FEATURES` (standardised by `mean` / `scale`) and
    its operating point: candidates at or above `threshold` probability are answers.
    `observer` (fitting only) receives every decision's candidates and feature vectors."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    observer: Callable[[list[tuple[str, list[float]]]], None] | None = field(
        default=None, compare=False
    )

    def probability(self, x: Sequence[float]) -> float:
        z = (np.asarray(x, dtype=float) - np.asarray(self.mean)) / np.asarray(self.scale)
        return _sigmoid(float(z @ np.asarray(self.weights)) + self.bias)

    def confidence(self, probability: float) -> float:
        """`probability` moved so that `threshold` lands on `REFERENCE_THRESHOLD`."""
        p = min(max(probability, 1e-9), 1 - 1e-9)
        t = min(max(self.threshold, 1e-9), 1 - 1e-9)
        return _sigmoid(_logit(p) - _logit(t) + _logit(REFERENCE_THRESHOLD))


def syllables(phrase: str) -> int:
    """Hangul syllables, else vowel groups of the spelling (English), at least 1."""
    hangul = sum(1 for ch in phrase if 0xAC00 <= ord(ch) < 0xAC00 + 11172)
    if hangul:
        return hangul
    return max(1, len(re.findall(r"[aeiouy]+", phrase.lower())))


def levels_db(pcm: bytes) -> np.ndarray:
    """RMS level (dBFS) of each 20 ms frame of 16-bit PCM."""
    n = len(pcm) // FRAME_BYTES
    if n == 0:
        return np.zeros(0)
    samples = np.frombuffer(pcm[: n * FRAME_BYTES], dtype="<i2").astype(float).reshape(n, -1)
    rms = np.sqrt(np.mean(samples * samples, axis=1)) / 32768.0
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-6)))


def candidate_features(
    candidate: Candidate,
    found: Sequence[Candidate],
    first_pass: Sequence[Word],
    phrases: Sequence[str],
    strict_words: Sequence[Word],
    lenient_words: Sequence[Word],
    span_db: np.ndarray,
    floor_db: float,
    clip_voiced_frames: int,
) -> list[float]:
    """The feature vector of one candidate, in the order of `FEATURES`."""
    strict_conf = phrase_confidence(strict_words, candidate.phrase)
    others = [p for p in phrases if p != candidate.phrase]
    keyword_words = {w for p in phrases for w in p.split()}
    lenient_conf = phrase_confidence(lenient_words, candidate.phrase)
    duration = max(candidate.end - candidate.start, 0.01)
    span = max(first_pass[-1].end - first_pass[0].start, 0.01) if first_pass else duration
    longest = max(found, key=lambda c: c.end - c.start)
    level = float(np.max(span_db)) - floor_db if span_db.size else 0.0
    voiced_frames = int(np.sum(span_db > floor_db + VOICED_DB))
    voiced = voiced_frames / span_db.size if span_db.size else 0.0
    n_syllables = syllables(candidate.phrase)
    other_conf = [c.confidence for c in found if c.phrase != candidate.phrase]
    return [
        candidate.confidence,
        float(strict_conf is not None),
        strict_conf or 0.0,
        float(any(phrase_confidence(strict_words, p) is not None for p in others)),
        float(sum(w.word not in keyword_words for w in strict_words)),
        float(lenient_conf is not None),
        float(lenient_conf is not None and len(lenient_words) == len(candidate.phrase.split())),
        math.log(duration / n_syllables),
        float(len({c.phrase for c in found})),
        math.log1p(len(first_pass)),
        min(duration / span, 1.0),
        float(sum(c.phrase == candidate.phrase for c in found)),
        float(longest is candidate),
        level,
        voiced,
        math.log(n_syllables),
        math.log(duration),
        min(voiced_frames / max(clip_voiced_frames, 1), 1.0),
        math.log(max(clip_voiced_frames, 1) * 0.02 / n_syllables),
        max(other_conf, default=0.0),
        float(len(strict_words)),
        float(sum(w.word not in keyword_words for w in lenient_words)),
    ]


def verify_calibrated(
    first_pass: Sequence[Word],
    phrases: Sequence[str],
    strict: Callable[[float, float], Sequence[Word]],
    lenient: Callable[[float, float], Sequence[Word]],
    audio: Callable[[float, float], bytes],
    calibration: Calibration,
) -> Verdict:
    """Score every candidate of `first_pass` (second passes `strict` / `lenient` over its
    stretch, `audio(start, end)` the session's PCM) and answer with the most probable one
    if it reaches the calibration's threshold; else confidence 0 (the IVR's no-match)."""
    found = candidates(first_pass, phrases)
    if not found:
        return Verdict(None, 0.0, 0)
    all_db = levels_db(audio(-1e9, 1e9))
    floor_db = float(np.percentile(all_db, 10)) if all_db.size else -90.0
    clip_voiced = int(np.sum(all_db > floor_db + VOICED_DB))
    scored: list[tuple[str, list[float]]] = []
    cache: dict[tuple[float, float], tuple[Sequence[Word], Sequence[Word]]] = {}
    for c in found:
        key = (round(c.start, 2), round(c.end, 2))
        if key not in cache:
            start, end = c.start - MARGIN_S, c.end + MARGIN_S
            cache[key] = (strict(start, end), lenient(start, end))
        strict_words, lenient_words = cache[key]
        span_db = levels_db(audio(c.start, c.end))
        scored.append((c.phrase, candidate_features(
            c, found, first_pass, phrases, strict_words, lenient_words, span_db, floor_db,
            clip_voiced,
        )))
    if calibration.observer is not None:
        calibration.observer(scored)
    best_p, best_phrase = max((calibration.probability(x), p) for p, x in scored)
    if best_p < calibration.threshold:
        return Verdict(None, 0.0, len(found))
    return Verdict(best_phrase, calibration.confidence(best_p), len(found))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))
