"""Wiring for the server: the recognizer as an aiohttp `cleanup_ctx` under a typed key.

    settings = speech_settings(config)            # None: no `speech:` section, no speech
    if settings is not None:
        app.cleanup_ctx.append(speech_cleanup_ctx(settings))
    ...
    recognizer = app[SPEECH_KEY]                  # hand it to the Asterisk / Twilio adapters

Outside aiohttp use `open_recognizer(settings)` directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from hotline.config import HotlineConfig
from speech.recognizer import VoskRecognizer, open_recognizer
from speech.settings import SpeechSettings, parse_speech_settings

SPEECH_KEY = web.AppKey("speech", VoskRecognizer)


def speech_settings(config: HotlineConfig) -> SpeechSettings | None:
    """The parsed `speech:` section, or None if the config has none (or no models)."""
    section = config.section("speech")
    if not section.get("models"):
        return None
    return parse_speech_settings(section, base_dir=config.resolve("."))


def speech_cleanup_ctx(
    settings: SpeechSettings, *, warm_free_form: int = 1
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_recognizer(settings, warm_free_form=warm_free_form) as recognizer:
            app[SPEECH_KEY] = recognizer
            yield

    return ctx
