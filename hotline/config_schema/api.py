"""`api:`, parsed by hotline/api_auth.py (`ApiSettings.from_section`)."""

from hotline.config_schema._types import HOST, ID, PORT, Schema, mapping_of, optional, strict
from hotline.tls import SCHEMA as TLS_SCHEMA

_ROLES = ["admin", "supervisor", "agent"]
_TOKEN: Schema = {
    "description": "a role (admin, supervisor), or {role: agent, agent: ID}",
    "anyOf": [
        {"enum": ["admin", "supervisor"]},
        strict(
            {"role": {"enum": _ROLES}, "agent": ID},
            required=("role",),
            **{"if": {"properties": {"role": {"const": "agent"}}},
               "then": {"required": ["role", "agent"]}},
        ),
    ],
}

PROPERTIES: dict[str, Schema] = {
    "api": optional(
        strict(
            {
                "host": HOST,
                "port": PORT,
                "tls": optional(TLS_SCHEMA),
                "tokens": optional(
                    {**mapping_of(_TOKEN, "bearer token -> role"), "propertyNames": {"minLength": 8}}
                ),
            }
        )
    ),
}
