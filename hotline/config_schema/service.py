"""`service:`, `messaging:` and `smtp:` (the service process after the call), parsed by
casestore/service_process/rules.py, hotline/service_process/wiring.py and hotline/notify/settings.py."""

from typing import Any

from casestore.service_process.rules import SCHEMA as RULES
from hotline.config_schema._types import Schema, optional
from hotline.notify.settings import MESSAGING_SCHEMA, SMTP_SCHEMA


def _with_wiring_keys(rules: dict[str, Any]) -> Schema:
    """The rules' schema plus the keys the wiring reads (survey_secret, round_seconds, follow_up_queue, follow_up_wait)."""
    properties = {
        **rules["properties"],
        "survey_secret": {"type": "string", "minLength": 32},
        "round_seconds": {"type": "number", "exclusiveMinimum": 0},
        "follow_up_queue": {"type": "string", "minLength": 1},
        "follow_up_wait": {"type": "number", "exclusiveMinimum": 0},
    }
    return {**rules, "properties": properties}


PROPERTIES: dict[str, Schema] = {
    "service": optional(_with_wiring_keys(RULES)),
    "messaging": optional(MESSAGING_SCHEMA),
    "smtp": optional(SMTP_SCHEMA),
}
