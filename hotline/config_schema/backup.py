"""`backup:` (location, schedule, retention, verification), parsed by casestore/backup/settings.py."""

from casestore.backup.settings import SCHEMA
from hotline.config_schema._types import Schema, optional

PROPERTIES: dict[str, Schema] = {"backup": optional(SCHEMA)}
