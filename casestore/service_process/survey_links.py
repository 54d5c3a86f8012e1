"""Survey links the customer opens without signing in: signed (HMAC-SHA256 with the server's
secret), expiring, and used once (the nonce is kept in `survey_invitations`).

A token is ``<nonce>.<expires>.<signature>``; the signature covers nonce and expiry, so a
changed expiry or a made-up nonce fails. Pure: `now` is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


class BadSurveyLink(ValueError):
    """The link was forged, altered, has expired or was already used (`reason`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SurveyToken:
    nonce: str
    expires_at: int


def _signature(secret: bytes, nonce: str, expires_at: int) -> str:
    return hmac.new(secret, f"{nonce}.{expires_at}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(secret: bytes, now: float, valid_seconds: float) -> tuple[SurveyToken, str]:
    nonce = secrets.token_urlsafe(12)
    expires = int(now + valid_seconds)
    return SurveyToken(nonce, expires), f"{nonce}.{expires}.{_signature(secret, nonce, expires)}"


def verify(secret: bytes, token: str, now: float) -> SurveyToken:
    """The token's nonce and expiry if the signature holds and it has not expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[0]:
        raise BadSurveyLink("malformed")
    nonce, expires_raw, signature = parts
    expires = int(expires_raw)
    if not hmac.compare_digest(_signature(secret, nonce, expires), signature):
        raise BadSurveyLink("forged")
    if now >= expires:
        raise BadSurveyLink("expired")
    return SurveyToken(nonce, expires)


def parse_sms_score(body: str) -> int | None:
    """An SMS reply with a score: the first digit 1-5 of a short answer, else None."""
    text = body.strip()
    if not text or len(text) > 40:
        return None
    for ch in text:
        if ch.isdigit():
            return int(ch) if "1" <= ch <= "5" else None
    return None
