"""Phone numbers in E.164, through the `phonenumbers` library (one small function)."""

from __future__ import annotations

import phonenumbers


def to_e164(raw: str, default_region: str = "KR") -> str | None:
    """`+821012345678` for a valid number (national numbers read in `default_region`), else None."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
