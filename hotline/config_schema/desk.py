"""`desk:` (codes people pick on the desktop and the case pages), parsed by
hotline/web/cases/settings.py."""

from hotline.config_schema._types import NAME, Schema, list_of, optional, strict

_CODES = list_of(NAME)

PROPERTIES: dict[str, Schema] = {
    "desk": optional(
        strict({key: _CODES for key in ("pause_reasons", "dispositions", "resolution_codes", "categories")})
    ),
}
