"""`api:` (where the HTTP server listens, TLS), parsed by hotline/web/base/settings.py
(`parse_api_section`) and hotline/tls.py. People and their API tokens live in the case store."""

from hotline.config_schema._types import HOST, Schema, optional, strict
from hotline.tls import SCHEMA as TLS_SCHEMA

PROPERTIES: dict[str, Schema] = {
    "api": optional(
        strict(
            {
                "host": HOST,
                "port": {"description": "a TCP port 0-65535 (0: any free port)", "type": "integer",
                         "minimum": 0, "maximum": 65535},
                "tls": optional(TLS_SCHEMA),
                # gone: `parse_api_section` refuses it and says what to run instead
                "tokens": {"description": "no longer supported (people and tokens are in the case store)"},
            }
        )
    ),
}
