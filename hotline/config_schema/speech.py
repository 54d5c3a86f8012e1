"""`speech:` (Vosk or PocketSphinx models, pool, thresholds), parsed by speech/settings.py."""

from hotline.config_schema._types import NAME, Schema, mapping_of, number, optional, strict

_MODEL: Schema = {
    "description": (
        "a Vosk model directory, {path: DIR} or {package: NAME, subdir: model}; or"
        " {engine: pocketsphinx} (the en-us model it ships) with optional path and dictionary"
    ),
    "anyOf": [
        NAME,
        strict({"path": NAME, "engine": {"enum": ["vosk"]}}, required=("path",)),
        strict(
            {"package": NAME, "subdir": NAME, "engine": {"enum": ["vosk"]}}, required=("package",)
        ),
        strict(
            {"engine": {"enum": ["pocketsphinx"]}, "path": NAME, "dictionary": NAME},
            required=("engine",),
        ),
    ],
}

_MODES = ("off", "resolve", "strict", "ratio", "calibrated")

PROPERTIES: dict[str, Schema] = {
    "speech": optional(
        strict(
            {
                "models": optional(
                    {**mapping_of(_MODEL, "language -> model"),
                     "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)?$"}}
                ),
                "confidence_threshold": number(0, 1),
                "pool_size": {"type": "integer", "minimum": 0, "maximum": 256},
                "end_silence": number(0.06, 5),
                "threads": {"type": "integer", "minimum": 0, "maximum": 256},
                "step_timeout": number(0.1, 600),
                "verify": {
                    "description": "a mode, or language -> mode (others: resolve)",
                    "anyOf": [
                        {"enum": list(_MODES)},
                        {**mapping_of({"enum": list(_MODES)}, "language -> mode"),
                         "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]+)?$"}},
                    ],
                },
                "processes": {"type": "integer", "minimum": 1, "maximum": 64,
                              "description": "recognizer processes; 1: threads in the server process"},
            }
        )
    ),
}
