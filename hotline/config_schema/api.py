"""`api:` (where the HTTP server listens, TLS), parsed by hotline/web/base/settings.py
(`parse_api_section`) and hotline/tls.py. People and their API tokens live in the case store."""

from hotline.config_schema._types import HOST, PORT, Schema, optional, strict
from hotline.tls import SCHEMA as TLS_SCHEMA

PROPERTIES: dict[str, Schema] = {
    "api": optional(
        strict(
            {
                "host": HOST,
                "port": PORT,
                "tls": optional(TLS_SCHEMA),
                # gone: `parse_api_section` refuses it and says what to run instead
                "tokens": {"description": "no longer supported (people and tokens are in the case store)"},
            }
        )
    ),
}
