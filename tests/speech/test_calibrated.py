"""Calibrated keyword verification (speech.calibrated), pure: fake second passes and audio."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from speech.calibrated import (
    FEATURES,
    REFERENCE_THRESHOLD,
    Calibration,
    levels_db,
    syllables,
    verify_calibrated,
)
from speech.calibration_weights import CALIBRATIONS
from speech.verify import Word

MENU = ["예약", "환불", "상담원"]
N = len(FEATURES)


def w(word: str, start: float, end: float, conf: float = 1.0) -> Word:
    return Word(word, conf, start, end)


def only(feature: str, weight: float, bias: float = 0.0, threshold: float = 0.5) -> Calibration:
    """A calibration that looks at one feature (unstandardised)."""
    weights = tuple(weight if f == feature else 0.0 for f in FEATURES)
    return Calibration((0.0,) * N, (1.0,) * N, weights, bias, threshold)


def tone(seconds: float, level: float = 0.3, quiet: float = 1.0) -> bytes:
    """`quiet` s of near silence, then a 200 Hz tone: 16-bit PCM at 8 kHz."""
    t = np.arange(int(seconds * 8000)) / 8000
    loud = level * 32767 * np.sin(2 * np.pi * 200 * t)
    signal = np.concatenate([np.full(int(quiet * 8000), 3.0), loud])
    return signal.astype("<i2").tobytes()


def audio_of(pcm: bytes) -> Callable[[float, float], bytes]:
    def cut(start: float, end: float) -> bytes:
        a = max(0, int(start * 8000) * 2)
        b = max(0, int(end * 8000) * 2)
        return pcm[a:b]

    return cut


def passes(table: dict[float, list[Word]]) -> Callable[[float, float], Sequence[Word]]:
    def redecode(start: float, end: float) -> Sequence[Word]:
        return table.get(round(start + 0.2, 2), [])

    return redecode


def test_syllables_count_hangul_or_vowel_groups() -> None:
    assert syllables("상담원") == 3 and syllables("네") == 1
    assert syllables("booking") == 2 and syllables("agent") == 2 and syllables("hm") == 1


def test_levels_are_per_20_ms_frame_in_dbfs() -> None:
    db = levels_db(tone(0.2, level=0.5, quiet=0.2))
    assert len(db) == 20
    assert db[:10].max() < -70 and abs(db[12:].mean() - (20 * np.log10(0.5 / np.sqrt(2)))) < 0.5


def test_the_operating_point_lands_on_the_ivr_threshold() -> None:
    cal = only("first_conf", 1.0, threshold=0.3)
    assert abs(cal.confidence(0.3) - REFERENCE_THRESHOLD) < 1e-9
    assert cal.confidence(0.29) < REFERENCE_THRESHOLD < cal.confidence(0.31)


def test_the_most_probable_candidate_wins_and_a_weak_one_is_rejected() -> None:
    pcm = tone(1.0)
    first = [w("예약", 1.0, 1.4, conf=0.4), w("환불", 1.5, 1.9, conf=0.9)]
    strict = passes({1.0: [w("음", 0, 0.4)], 1.5: [w("환불", 0, 0.4)]})
    lenient = passes({})
    seen: list[list[tuple[str, list[float]]]] = []
    cal = Calibration(*_unit(), threshold=0.5, observer=seen.append)
    verdict = verify_calibrated(first, MENU, strict, lenient, audio_of(pcm), cal)
    assert verdict.phrase == "환불" and verdict.candidates == 2
    assert verdict.confidence >= REFERENCE_THRESHOLD
    features = dict(zip(FEATURES, seen[0][1][1], strict=True))
    assert features["strict_same"] == 1.0 and features["first_conf"] == 0.9
    assert features["distinct"] == 2.0 and features["level_db"] > 40
    assert dict(zip(FEATURES, seen[0][0][1], strict=True))["strict_fillers"] == 1.0
    # The same hypothesis, but the filler pass heard nothing of the menu: rejected.
    none = verify_calibrated(first, MENU, passes({}), lenient, audio_of(pcm), cal)
    assert none.phrase is None and none.confidence == 0.0


def test_no_candidate_is_no_answer() -> None:
    cal = Calibration(*_unit(), threshold=0.0)
    verdict = verify_calibrated([w("음", 0, 0.3)], MENU, passes({}), passes({}),
                                audio_of(tone(0.5)), cal)
    assert verdict.phrase is None and verdict.candidates == 0


def test_committed_weights_match_the_features() -> None:
    assert set(CALIBRATIONS) == {"ko", "en"}
    for cal in CALIBRATIONS.values():
        assert len(cal.mean) == len(cal.scale) == len(cal.weights) == N
        assert all(s > 0 for s in cal.scale) and 0.0 < cal.threshold < 1.0


def _unit() -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]:
    """Weights that trust the strict pass and the first-pass confidence only."""
    weights = tuple(
        4.0 if f == "strict_same" else 2.0 if f == "first_conf" else 0.0 for f in FEATURES
    )
    return (0.0,) * N, (1.0,) * N, weights, -3.0
