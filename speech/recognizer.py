"""The Vosk adapter of `ivr.speech.Recognizer`: shared models, pooled recognizers, a thread pool.

- One `vosk.Model` per language, loaded once per process (off the event loop) and shared by
  every call and every `open_recognizer`.
- A `KaldiRecognizer` per session, taken from a per-language pool: grammar recognizers switch
  grammar with `SetGrammar` (about 0.5 ms), free-form ones are kept apart (switching a
  recognizer back to free-form makes its next clip slow again).
- Every Vosk call runs on the adapter's `ThreadPoolExecutor` (Vosk releases the GIL while it
  decodes); every wait for it is bounded by `step_timeout`.

Entry point: `async with open_recognizer(settings) as recognizer: ...`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ivr.speech import Recognition
from speech.calibrated import Calibration
from speech.calibration_weights import CALIBRATIONS
from speech.decoder import (
    BYTES_PER_SECOND,
    PRE_ROLL_SECONDS,
    Decoder,
    Step,
    best_score,
    timed_words,
)
from speech.errors import GrammarError, ModelError, SessionClosed, SpeechError, SpeechTimeout
from speech.settings import ModelSource, SpeechSettings
from speech.sphinx import SphinxModel, model_for
from speech.vad import VadSettings
from speech.verify import FILLERS, RATIO_THRESHOLD, Word, filler_grammar

log = logging.getLogger(__name__)

T = TypeVar("T")
_FRAME_OF_SILENCE = bytes(320)


@dataclass(slots=True)
class _Pooled:
    recognizer: Any  # vosk.KaldiRecognizer
    grammar: str | None  # JSON grammar it is set to; None: free-form
    seconds: float = 0.0  # audio decoded since creation: Vosk's word times count from there
    scored: bool = False  # reports the best path's total score (`SetMaxAlternatives(1)`)


class RecognizerPool:
    """Idle Vosk recognizers per (language, grammar or free-form); thread-safe."""

    def __init__(self, models: Mapping[str, Any], sample_rate: int, keep: int) -> None:
        self._models = models
        self._rate = sample_rate
        self._keep = keep
        self._idle: dict[tuple[str, bool, bool], list[_Pooled]] = {}
        self._lock = threading.Lock()
        self.created = 0

    def acquire(self, language: str, grammar: str | None, scored: bool = False) -> _Pooled:
        """Called on a recognition thread. `scored`: a recognizer whose result is the best
        path with its total score (likelihood-ratio verification), kept apart."""
        with self._lock:
            idle = self._idle.get((language, grammar is None, scored))
            item = idle.pop() if idle else None
        if item is None:
            item = _Pooled(self._create(language, grammar, scored), grammar, scored=scored)
        elif grammar is not None and item.grammar != grammar:
            item.recognizer.SetGrammar(grammar)
            item.grammar = grammar
        return item

    def release(self, language: str, item: _Pooled) -> None:
        """Called on a recognition thread. Ends the utterance with `FinalResult()` (not just
        `Reset()`), so the next call starts on fresh features: no adaptation to this caller."""
        item.recognizer.AcceptWaveform(_FRAME_OF_SILENCE)
        item.recognizer.FinalResult()
        item.seconds += len(_FRAME_OF_SILENCE) / BYTES_PER_SECOND
        with self._lock:
            idle = self._idle.setdefault((language, item.grammar is None, item.scored), [])
            if len(idle) < self._keep:
                idle.append(item)

    def idle(self, language: str, free_form: bool = False, scored: bool = False) -> int:
        with self._lock:
            return len(self._idle.get((language, free_form, scored), []))

    def _create(self, language: str, grammar: str | None, scored: bool = False) -> Any:
        model = self._models[language]
        if isinstance(model, SphinxModel):
            recognizer: Any = model.create(self._rate, grammar)
            if scored:
                recognizer.SetMaxAlternatives(1)
            with self._lock:
                self.created += 1
            return recognizer
        from vosk import KaldiRecognizer

        try:
            if grammar is None:
                recognizer = KaldiRecognizer(model, self._rate)
            else:
                recognizer = KaldiRecognizer(model, self._rate, grammar)
        except Exception as exc:  # vosk raises a bare Exception on failure
            raise SpeechError(f"could not create a {language} recognizer: {exc}") from exc
        recognizer.SetWords(True)
        if scored:
            recognizer.SetMaxAlternatives(1)
        with self._lock:
            self.created += 1
        return recognizer


class VoskSession:
    """One utterance. Feed 16-bit 8 kHz PCM; `feed` returns the result once speech has ended."""

    def __init__(self, owner: VoskRecognizer, language: str, grammar: str | None) -> None:
        self._owner = owner
        self.language = language
        self.grammar = grammar
        self._lock = asyncio.Lock()
        self._item: _Pooled | None = None
        self._checkers: dict[object, _Pooled] = {}  # second-pass recognizers (lenient? / scored)
        self._decoder: Decoder | None = None
        self._result: Recognition | None = None
        self._started = False
        self._closed = False
        self._broken = False  # a step timed out or was cancelled: never pool the recognizer
        self._inflight: Future[Any] | None = None

    def speech_started(self) -> bool:
        return self._started

    @property
    def result(self) -> Recognition | None:
        return self._result

    async def feed(self, pcm: bytes) -> Recognition | None:
        if self._closed or self._result is not None:
            raise SessionClosed("this speech session already has its result or is closed")
        if len(pcm) % 2:
            raise SpeechError(f"16-bit PCM needs an even number of bytes, got {len(pcm)}")
        async with self._lock:
            if self._closed or self._result is not None:  # changed while we waited
                raise SessionClosed("this speech session already has its result or is closed")
            step = await self._run(self._step, pcm)
            self._started = step.speech_started
            if step.result is not None:
                self._result = step.result
        return step.result

    async def finish(self) -> Recognition:
        if self._result is not None:
            return self._result
        if self._closed:
            raise SessionClosed("this speech session is closed")
        async with self._lock:
            if self._result is None:
                self._result = await self._run(self._finish)
        return self._result

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            busy = self._inflight is not None and not self._inflight.done()
            if self._item is not None and self._decoder is not None:
                self._item.seconds += self._decoder.fed / BYTES_PER_SECOND
            for item in (self._item, *self._checkers.values()):
                if item is not None and not (busy or self._broken):
                    try:
                        await self._run(self._owner.pool.release, self.language, item)
                    except SpeechError:
                        log.warning(
                            "speech: could not return a %s recognizer to the pool", self.language
                        )
            self._item = None
            self._checkers = {}
            self._decoder = None

    async def __aenter__(self) -> VoskSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # On a recognition thread:
    def _ensure_decoder(self) -> Decoder:
        if self._decoder is None:
            self._item = self._owner.pool.acquire(self.language, self.grammar)
            mode = self._owner.settings.verify_for(self.language)
            checks = self.grammar is not None and mode != "off"
            calibration = self._owner.calibrations.get(self.language)
            if not (checks and mode == "calibrated"):
                calibration = None
            self._decoder = Decoder(
                self._item.recognizer,
                self._owner.vad_settings,
                verifier=self._second_pass if checks else None,
                phrases=json.loads(self.grammar) if checks and self.grammar else (),
                offset=self._item.seconds,
                mode=mode,
                ratio=self._ratio if checks and mode == "ratio" else None,
                ratio_threshold=RATIO_THRESHOLD[self._owner.engine(self.language)],
                pre_roll=self._owner.pre_roll[self._owner.engine(self.language)],
                calibration=calibration,
            )
        return self._decoder

    def _second_pass(self, pcm: bytes, lenient: bool) -> list[Word]:
        """Decode `pcm` with the keywords plus fillers (on a recognition thread)."""
        assert self.grammar is not None
        item = self._checkers.get(lenient)
        if item is None:
            grammar = self._owner.filler_grammar(self.language, self.grammar, lenient)
            item = self._checkers[lenient] = self._owner.pool.acquire(self.language, grammar)
        item.recognizer.AcceptWaveform(pcm)
        words = timed_words(item.recognizer.FinalResult(), item.seconds)
        item.seconds += len(pcm) / BYTES_PER_SECOND
        return words

    def _ratio(self, pcm: bytes) -> float | None:
        """(keyword-grammar score - free-form score) per second of `pcm`, on scored
        recognizers (on a recognition thread); None if either finds nothing to score."""
        assert self.grammar is not None
        totals = []
        for key, grammar in (("grammar", self.grammar), ("free", None)):
            item = self._checkers.get(key)
            if item is None:
                item = self._checkers[key] = self._owner.pool.acquire(
                    self.language, grammar, scored=True
                )
            item.recognizer.AcceptWaveform(pcm)
            totals.append(best_score(item.recognizer.FinalResult()))
            item.seconds += len(pcm) / BYTES_PER_SECOND
        if totals[0] is None or totals[1] is None:
            return None
        return (totals[0] - totals[1]) / (len(pcm) / BYTES_PER_SECOND)

    def _step(self, pcm: bytes) -> Step:
        return self._ensure_decoder().accept(pcm)

    def _finish(self) -> Recognition:
        return self._ensure_decoder().finish()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._broken:
            raise SpeechError("this speech session failed earlier and cannot be used")
        try:
            future = self._owner.executor.submit(fn, *args)
        except RuntimeError as exc:  # the executor was shut down
            raise SpeechError("the speech recognizer is closed") from exc
        self._inflight = future
        try:
            if future.done():  # run inline (a recognizer process): no hand-off to wait for
                return future.result()
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(future)), self._owner.settings.step_timeout
            )
        except TimeoutError as exc:
            self._broken = True
            raise SpeechTimeout(
                f"speech recognition step took over {self._owner.settings.step_timeout} s"
            ) from exc
        except asyncio.CancelledError:
            self._broken = not future.done()
            raise
        except SpeechError:
            self._broken = True
            raise
        except Exception as exc:
            self._broken = True
            raise SpeechError(f"speech recognition failed: {exc}") from exc


class VoskRecognizer:
    """`ivr.speech.Recognizer` over Vosk. Build it with `open_recognizer(settings)`."""

    def __init__(
        self, settings: SpeechSettings, models: Mapping[str, Any], executor: ThreadPoolExecutor
    ) -> None:
        self.settings = settings
        self.models = dict(models)
        self.executor = executor
        self.pool = RecognizerPool(self.models, settings.sample_rate, settings.pool_size)
        self.vad_settings = VadSettings(
            sample_rate=settings.sample_rate, end_silence=settings.end_silence
        )
        # Per engine, seconds before the detected voice start that it still decodes (None:
        # every frame). PocketSphinx hears everything: its cepstral mean, carried from one
        # utterance to the next, needs the quiet (gated, the English subset lost 2 rejections).
        self.pre_roll: dict[str, float | None] = {"vosk": PRE_ROLL_SECONDS, "pocketsphinx": None}
        # `verify: calibrated` per language (a language without one verifies as `strict`)
        self.calibrations: dict[str, Calibration] = dict(CALIBRATIONS)
        self._grammars: dict[tuple[str, tuple[str, ...]], str] = {}
        self._fillers: dict[tuple[str, str, bool], str] = {}
        self._warned: set[tuple[str, str]] = set()

    @property
    def confidence_threshold(self) -> float:
        return self.settings.confidence_threshold

    def accepts(self, recognition: Recognition) -> bool:
        """True if the IVR should act on this result (words, confidence at the threshold)."""
        return bool(recognition.text) and recognition.confidence >= self.confidence_threshold

    def languages(self) -> Sequence[str]:
        return tuple(self.models)

    def session(self, language: str, grammar: Sequence[str] | None) -> VoskSession:
        if language not in self.models:
            raise SpeechError(
                f"no speech model for language {language!r} (configured: {sorted(self.models)})"
            )
        return VoskSession(self, language, None if grammar is None else self.grammar(language, grammar))

    def unknown_words(self, language: str, phrases: Sequence[str]) -> list[str]:
        """Words of `phrases` missing from the language's model vocabulary (for `ivr check`)."""
        model = self.models[language]
        find = model.find_word if isinstance(model, SphinxModel) else model.vosk_model_find_word
        words = {w for phrase in phrases for w in phrase.split()}
        return sorted(w for w in words if find(w) < 0)

    def engine(self, language: str) -> str:
        """The engine recognizing `language`: vosk or pocketsphinx."""
        return "pocketsphinx" if isinstance(self.models[language], SphinxModel) else "vosk"

    def grammar(self, language: str, phrases: Sequence[str]) -> str:
        """The Vosk JSON grammar for `phrases`; phrases with unknown words are left out."""
        key = (language, tuple(phrases))
        cached = self._grammars.get(key)
        if cached is not None:
            return cached
        unknown = set(self.unknown_words(language, phrases))
        kept: list[str] = []
        for phrase in phrases:
            normal = " ".join(phrase.split())
            if not normal:
                continue
            missing = [w for w in normal.split() if w in unknown]
            if missing:
                if (language, normal) not in self._warned:
                    self._warned.add((language, normal))
                    log.warning(
                        "speech: %s phrase %r left out of the grammar: %s not in the model",
                        language, normal, ", ".join(missing),
                    )
                continue
            if normal not in kept:
                kept.append(normal)
        if not kept:
            raise GrammarError(
                f"no phrase of the {language} grammar {list(phrases)!r} is in the model's vocabulary"
            )
        grammar = json.dumps(kept, ensure_ascii=False)
        self._grammars[key] = grammar
        return grammar

    def filler_grammar(self, language: str, grammar: str, lenient: bool = False) -> str:
        """The verification grammar for a session grammar: its phrases plus the language's
        filler words that the model knows (`speech.verify.filler_grammar`)."""
        key = (language, grammar, lenient)
        cached = self._fillers.get(key)
        if cached is None:
            fillers = FILLERS.get(language, ())
            unknown = set(self.unknown_words(language, list(fillers))) if fillers else set()
            phrases = json.loads(grammar)
            cached = json.dumps(
                filler_grammar(phrases, [f for f in fillers if f not in unknown], lenient=lenient),
                ensure_ascii=False,
            )
            self._fillers[key] = cached
        return cached

    async def warm_up(self, free_form: int = 1) -> None:
        """Decode a second of quiet noise on `free_form` free-form recognizers per language, so
        the first call does not pay for paging the model in."""
        noise = (np.random.default_rng(0).normal(0, 30, 8000)).astype("<i2").tobytes()

        def warm(language: str) -> None:
            items = [self.pool.acquire(language, None) for _ in range(free_form)]
            for item in items:
                item.recognizer.AcceptWaveform(noise)
                item.recognizer.FinalResult()
            for item in items:
                self.pool.release(language, item)

        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self.executor, warm, language) for language in self.models)
        )


_loaded: dict[str, Any] = {}
_loading: dict[str, threading.Lock] = {}
_loading_guard = threading.Lock()


def load_model(path: str) -> Any:
    """The `vosk.Model` in `path`, loaded once per process and shared (a model is read-only
    and safe to share between recognizers and threads; the Korean test model takes ~530 MB)."""
    key = os.path.realpath(path)
    with _loading_guard:
        lock = _loading.setdefault(key, threading.Lock())
    with lock:
        model = _loaded.get(key)
        if model is None:
            from vosk import Model, SetLogLevel

            SetLogLevel(-1)
            try:
                model = Model(key)
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise ModelError(f"could not load the speech model in {path!r}: {exc}") from exc
            _loaded[key] = model
        return model


def load_source(source: ModelSource) -> Any:
    """The model a configured source names: a shared `vosk.Model`, or a `SphinxModel`."""
    if source.engine == "pocketsphinx":
        return model_for(
            None if source.path is None else str(source.path),
            None if source.dictionary is None else str(source.dictionary),
        )
    return load_model(str(source.resolve()))


@asynccontextmanager
async def open_recognizer(
    settings: SpeechSettings, *, warm_free_form: int = 1, load_timeout: float = 300.0
) -> AsyncIterator[VoskRecognizer]:
    """Load every configured model (off the loop, in parallel), yield the recognizer, and
    shut the recognition threads down on exit."""
    if not settings.models:
        raise ModelError("speech: no models configured (speech.models)")
    paths = {language: source for language, source in settings.models.items()}
    executor = ThreadPoolExecutor(settings.thread_count(), thread_name_prefix="vosk")
    try:
        recognizer = await _load(settings, paths, executor, warm_free_form, load_timeout)
        yield recognizer
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


async def _load(
    settings: SpeechSettings,
    paths: Mapping[str, ModelSource],
    executor: ThreadPoolExecutor,
    warm_free_form: int,
    load_timeout: float,
) -> VoskRecognizer:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        loaded = await asyncio.wait_for(
            asyncio.gather(*(loop.run_in_executor(executor, load_source, p) for p in paths.values())),
            load_timeout,
        )
        log.info("speech: loaded %s in %.1f s", ", ".join(paths), time.perf_counter() - started)
        recognizer = VoskRecognizer(settings, dict(zip(paths, loaded, strict=True)), executor)
        if warm_free_form:
            await asyncio.wait_for(recognizer.warm_up(warm_free_form), load_timeout)
    except TimeoutError as exc:
        raise ModelError(f"speech models did not load and warm up within {load_timeout} s") from exc
    return recognizer
