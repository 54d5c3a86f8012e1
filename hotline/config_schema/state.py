"""`state:` (journal and snapshots, Redis publishing or one fenced leader), parsed by
state/settings.py."""

from hotline.config_schema._types import Schema, optional
from state.settings import SCHEMA

PROPERTIES: dict[str, Schema] = {"state": optional(SCHEMA)}
