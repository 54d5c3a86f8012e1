"""Fitted weights of `verify: calibrated` per language (speech.calibrated), written by
`tools/fit_speech_calibration.py fit --write` from the tuning part of the evaluation set
(Korean: Vosk; English: PocketSphinx). Refit after changing the features or an engine."""

from __future__ import annotations

from speech.calibrated import Calibration

CALIBRATIONS: dict[str, Calibration] = {
    "en": Calibration(
        mean=(
            0.0, 0.4156, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.6382, 0.0, 0.0, 0.0, 0.0,
        ),
        scale=(
            1.0, 0.4928, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
            1.0, 0.3546, 1.0, 1.0, 1.0, 1.0,
        ),
        weights=(
            0.0, 1.0374, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 1.7577, 0.0, 0.0, 0.0, 0.0,
        ),
        bias=0.1444,
        threshold=0.6303,
    ),
    "ko": Calibration(
        mean=(
            0.0, 0.0, 0.3134, 0.0, 1.4768, 0.6034, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5662, 0.7685,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ),
        scale=(
            1.0, 1.0, 0.4496, 1.0, 1.1458, 0.4892, 1.0, 1.0,
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.3363, 0.3834,
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        ),
        weights=(
            0.0, 0.0, 0.406, 0.0, -0.5787, 0.7908, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4892, 0.0161,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ),
        bias=-0.7214,
        threshold=0.5383,
    ),
}
