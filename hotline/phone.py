"""Phone numbers in one form: E.164 (`+821012345678`), whatever form they arrive in.

`010-1234-5678` (national, read as the hotline's country), `+82 10-1234-5678`,
`tel:+82-10-1234-5678`, `sip:+821012345678@pbx;user=phone` and `"Kim" <sip:...>` are one
number, so one customer. Short codes and extensions (`1588`, `1001`) are no phone number:
they keep their digits. The hotline's country (config key `country`, default KR) is set
once at start (`set_default_region`); every adapter and the case store use `normalize_number`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "KR"
_region = DEFAULT_REGION
_URI = re.compile(r"^(?:sips?|tel):", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"\+?[0-9(][0-9 ()./\-]*")


def set_default_region(region: str) -> None:
    """The country national numbers are read as (ISO 3166 code, e.g. KR, JP, US)."""
    global _region
    code = region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown country code {region!r}")
    _region = code


def default_region() -> str:
    return _region


def _user_part(raw: str) -> str:
    text = raw.strip()
    if "<" in text and ">" in text:  # "Display Name" <sip:user@host>
        text = text[text.index("<") + 1 : text.rindex(">")]
    if _URI.match(text):
        text = text.split(":", 1)[1]
        text = text.split("@", 1)[0].split(";", 1)[0]
    return text.strip()


def normalize_number(raw: str | None, region: str | None = None) -> str:
    """E.164 for a phone number; the digits (a leading + kept) for what is not one (short
    codes, extensions); "" when there is no digit at all (anonymous, client:agent). Text
    that is not written like a phone number (`1234&PJSIP/9999`) comes back unchanged, so a
    caller id with injected syntax is never turned into a dialable number."""
    if not raw:
        return ""
    return _normalized(raw, region or _region)


@lru_cache(maxsize=16384)
def _normalized(raw: str, region: str) -> str:
    """`normalize_number` for one region; cached, as the same callers come back (and every
    store write normalizes a number an adapter already normalized)."""
    user = _user_part(raw)
    if user.lower().startswith("client:"):  # a Twilio Client identity, not a number
        return ""
    digits = "".join(ch for ch in user if ch.isdigit())
    if not digits:
        return ""
    if len(user) > 64 or not _PHONE_LIKE.fullmatch(user):
        return raw.strip()  # not a phone number: given back as it is, never "cleaned" into one
    try:
        number = phonenumbers.parse(user, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ("+" if user.startswith("+") else "") + digits


def to_e164(raw: str, region: str | None = None) -> str | None:
    """E.164 for a valid phone number (national numbers read as `region`, default the
    hotline's country), else None: what may be sent an SMS."""
    try:
        number = phonenumbers.parse(_user_part(raw), region or _region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
