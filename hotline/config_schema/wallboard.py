"""`wallboard:` (alert thresholds), parsed by hotline/web/wallboard/settings.py."""

from hotline.config_schema._types import Schema, optional
from hotline.web.wallboard.settings import WALLBOARD_SECTION_SCHEMA

PROPERTIES: dict[str, Schema] = {"wallboard": optional(WALLBOARD_SECTION_SCHEMA)}
