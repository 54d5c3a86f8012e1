"""Top-level scalars: the hotline's name and country (the default region of phone numbers)."""

from hotline.config_schema._types import Schema

PROPERTIES: dict[str, Schema] = {
    "name": {"type": "string", "minLength": 1},
    "country": {
        "description": "ISO 3166 country code of the hotline (KR, JP, US...): how national numbers are read",
        "type": "string",
        "pattern": "^[A-Za-z]{2}$",
    },
}
