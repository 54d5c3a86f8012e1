"""Masking of personal data (phone numbers, ID numbers, names) for logs and API output."""

from __future__ import annotations

import logging
import re

_PHONE_RUN = re.compile(r"\+?\d[\d\- ]{5,}\d")


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


def mask_text(text: str) -> str:
    """Mask every phone- or ID-like run of 7 or more digits in free text."""

    def repl(match: re.Match[str]) -> str:
        raw = match.group(0)
        if sum(ch.isdigit() for ch in raw) < 7:
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
