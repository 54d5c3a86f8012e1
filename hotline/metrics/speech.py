"""Recogniser metrics: a `Recognizer` that times its sessions' steps and records the
confidence of their results, around the real one (the speech adapter knows nothing of it)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from ivr.speech import Recognition, Recognizer, SpeechSession

STEP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class RecognizerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "hotline_recognizer_seconds",
            "Time of one recogniser step: `feed` (a frame of audio) or `finish` (the final result)",
            ["language", "step"], buckets=STEP_BUCKETS, registry=registry,
        )
        self.confidence = Histogram(
            "hotline_recognizer_confidence", "Confidence of the recogniser's results with words",
            ["language"], buckets=CONFIDENCE_BUCKETS, registry=registry,
        )

    def wrap(self, recognizer: Recognizer | None) -> Recognizer | None:
        return None if recognizer is None else MeasuredRecognizer(recognizer, self)


class MeasuredSession:
    def __init__(self, inner: SpeechSession, language: str, metrics: RecognizerMetrics) -> None:
        self.inner = inner
        self.language = language
        self.metrics = metrics

    def _done(self, step: str, started: float, result: Recognition | None) -> None:
        self.metrics.latency.labels(self.language, step).observe(time.perf_counter() - started)
        if result is not None and result.text:
            self.metrics.confidence.labels(self.language).observe(result.confidence)

    async def feed(self, pcm: bytes) -> Recognition | None:
        started = time.perf_counter()
        result = await self.inner.feed(pcm)
        self._done("feed", started, result)
        return result

    def speech_started(self) -> bool:
        return self.inner.speech_started()

    async def finish(self) -> Recognition:
        started = time.perf_counter()
        result = await self.inner.finish()
        self._done("finish", started, result)
        return result

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class MeasuredRecognizer:
    """The wrapped recogniser in every way (other attributes are passed through)."""

    def __init__(self, inner: Recognizer, metrics: RecognizerMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def languages(self) -> Sequence[str]:
        return self.inner.languages()

    def session(self, language: str, grammar: Sequence[str] | None) -> SpeechSession:
        return MeasuredSession(self.inner.session(language, grammar), language, self.metrics)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
