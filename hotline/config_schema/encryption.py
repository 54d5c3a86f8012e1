"""`encryption:` (keys of personal data and recordings at rest), parsed by hotline/encryption.py."""

from hotline.config_schema._types import Schema, optional
from hotline.encryption import SCHEMA

PROPERTIES: dict[str, Schema] = {"encryption": optional(SCHEMA)}
