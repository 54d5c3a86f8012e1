"""`speech:` (Vosk models, pool, thresholds), parsed by speech/settings.py."""

from hotline.config_schema._types import NAME, Schema, mapping_of, number, optional, strict

_MODEL: Schema = {
    "description": "a model directory, {path: DIR} or {package: NAME, subdir: model}",
    "anyOf": [
        NAME,
        strict({"path": NAME}, required=("path",)),
        strict({"package": NAME, "subdir": NAME}, required=("package",)),
    ],
}

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
                "verify": {"enum": ["off", "resolve", "strict"]},
                "processes": {"type": "integer", "minimum": 1, "maximum": 64,
                              "description": "recognizer processes; 1: threads in the server process"},
            }
        )
    ),
}
