"""Masking of personal data (phone numbers, ID numbers, names) for logs and API output."""

from __future__ import annotations

import logging
import re

# A digit run with the separators phone numbers are written with (-, ., /, space, brackets),
# not glued to a word, a path or a channel name (PJSIP/1001-0000002a, host-1733051234.42).
_PHONE_RUN = re.compile(r"(?<![\w/.\-])\+?\d(?:[\-./ ()]{0,2}\d)*(?![\w])")
_DECIMAL = re.compile(r"\d+\.\d+")  # one dot: Asterisk unique ids (1733051234.42), durations
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE_TIME = re.compile(r"\d{4}([-/])\d{2}\1\d{2}(?:[ T]\d{2})?")  # 2026-12-01 10(:00:00)
_UNIT_AFTER = re.compile(
    r"\s?(?:bytes?|B|KB|KiB|MB|MiB|GB|GiB|ms|us|ns|s|sec|secs|seconds|frames|samples|events|rows|calls)\b"
)
_COUNT_BEFORE = re.compile(
    r"(?:bytes|size|length|len|offset|count|total|frames|samples|events|rows|backlog|pid|port)\s?[=:]?\s?$",
    re.IGNORECASE,
)


def mask_phone(number: str) -> str:
    """'+821012345678' -> '+82******5678': keep a short country prefix and the last 4 digits."""
    if not number:
        return number
    plus = number.startswith("+")
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = min(2, len(digits) - 4) if plus else 0
    head, tail = digits[:keep_head], digits[-4:]
    return ("+" if plus else "") + head + "*" * (len(digits) - keep_head - 4) + tail


def mask_id(value: str) -> str:
    """ID, passport, card or booking numbers: only the last 4 characters stay."""
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(name: str) -> str:
    """'Kim Minjun' -> 'K** M*****'."""
    return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split(" ") if part)


def _not_personal(text: str, match: re.Match[str]) -> bool:
    """Digit runs that are ids, counts or times, kept so logs stay matchable to Asterisk's."""
    raw = match.group(0)
    if _DECIMAL.fullmatch(raw) or _IPV4.fullmatch(raw) or _DATE_TIME.fullmatch(raw):
        return True
    if raw.isdigit():  # a bare number: a count when a unit follows or a count's name precedes
        if _UNIT_AFTER.match(text, match.end()):
            return True
        if _COUNT_BEFORE.search(text[max(0, match.start() - 20) : match.start()]):
            return True
    return False


def mask_text(text: str) -> str:
    """Mask every phone- or ID-like run of 7 or more digits in free text (written with -, .,
    /, spaces or brackets), but not Asterisk unique ids, IP addresses, dates, or counts
    (`1048576 bytes`, `size=1048576`)."""

    def repl(match: re.Match[str]) -> str:
        raw = match.group(0)
        if sum(ch.isdigit() for ch in raw) < 7 or _not_personal(text, match):
            return raw
        return mask_phone(raw)

    return _PHONE_RUN.sub(repl, text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks phone and ID numbers in every record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of `logger` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
