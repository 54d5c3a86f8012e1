"""The speech-recognition port: what the IVR needs from a recognizer.

Adapters (speech/ for Vosk) implement it; the interpreter and the channel adapters use it.
Audio is signed 16-bit little-endian mono PCM at 8000 Hz (telephone band), fed in frames
(20 ms = 320 bytes is typical).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class SpeechError(Exception):
    """The recognizer failed (model missing, bad grammar, recognition timed out)."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """A final result. `confidence` is the first word's confidence (0-1); empty text = silence."""

    text: str
    confidence: float
    words: tuple[tuple[str, float], ...] = ()
    latency: float = 0.0  # seconds from end of speech to this result


class SpeechSession(Protocol):
    """One utterance being recognized (one per call and prompt; may be reused via a pool)."""

    async def feed(self, pcm: bytes) -> Recognition | None:
        """Feed audio; returns a result once end of speech is detected, else None."""
        ...

    def speech_started(self) -> bool:
        """True once voice was heard (for barge-in: stop the prompt)."""
        ...

    async def finish(self) -> Recognition:
        """No more audio: the final result for what was fed."""
        ...

    async def close(self) -> None: ...


class Recognizer(Protocol):
    def languages(self) -> Sequence[str]: ...

    def session(self, language: str, grammar: Sequence[str] | None) -> SpeechSession:
        """A session for `language`; `grammar` lists the phrases allowed (None: free-form)."""
        ...
