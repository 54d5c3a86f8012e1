"""Vosk speech recognition for the IVR (implements `ivr.speech.Recognizer`).

    settings = parse_speech_settings(config.section("speech"), base_dir=config_dir)
    async with open_recognizer(settings) as recognizer:
        async with recognizer.session("ko", ["예약", "환불"]) as session:
            result = await session.feed(pcm_20ms)  # None until end of speech
"""

from speech.errors import (
    GrammarError,
    ModelError,
    SessionClosed,
    SpeechConfigError,
    SpeechTimeout,
)
from speech.recognizer import VoskRecognizer, VoskSession, open_recognizer
from speech.settings import ModelSource, SpeechSettings, parse_speech_settings

__all__ = [
    "GrammarError",
    "ModelError",
    "ModelSource",
    "SessionClosed",
    "SpeechConfigError",
    "SpeechSettings",
    "SpeechTimeout",
    "VoskRecognizer",
    "VoskSession",
    "open_recognizer",
    "parse_speech_settings",
]
