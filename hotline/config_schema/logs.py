"""`logging:` (levels and format of the log), parsed by hotline/logs.py."""

from hotline.config_schema._types import Schema, optional
from hotline.logs import LOGGING_SCHEMA

PROPERTIES: dict[str, Schema] = {"logging": optional(LOGGING_SCHEMA)}
