"""Message texts: the admin's newest version from the store, else a built-in default, in the
customer's language (else English). `$case`, `$link` and `$status` are filled in."""

from __future__ import annotations

from string import Template
from typing import Protocol


class TemplateSource(Protocol):
    async def template(self, event: str, channel: str, language: str) -> tuple[int, str] | None: ...

DEFAULTS: dict[tuple[str, str, str], str] = {
    ("resolved", "sms", "en"): "Hotline: your request $case is resolved. Rate us 1-5 by replying, or at $link",
    ("resolved", "sms", "ko"): "Hotline: 접수하신 $case 건이 처리되었습니다. 1-5로 답장하시거나 $link 에서 평가해 주세요",
    ("resolved", "email", "en"): "Hello,\n\nyour request $case is resolved.\n\nPlease tell us how we did: $link\n\nHotline",
    ("resolved", "email", "ko"): "안녕하세요,\n\n접수하신 $case 건이 처리되었습니다.\n\n평가 부탁드립니다: $link\n\nHotline",
    ("in_progress", "sms", "en"): "Hotline: we are working on your request $case.",
    ("in_progress", "sms", "ko"): "Hotline: 접수하신 $case 건을 처리하고 있습니다.",
    ("in_progress", "email", "en"): "Hello,\n\nwe are working on your request $case.\n\nHotline",
    ("in_progress", "email", "ko"): "안녕하세요,\n\n접수하신 $case 건을 처리하고 있습니다.\n\nHotline",
    ("closed", "sms", "en"): "Hotline: your request $case is closed.",
    ("closed", "sms", "ko"): "Hotline: 접수하신 $case 건이 종결되었습니다.",
    ("closed", "email", "en"): "Hello,\n\nyour request $case is closed.\n\nHotline",
    ("closed", "email", "ko"): "안녕하세요,\n\n접수하신 $case 건이 종결되었습니다.\n\nHotline",
}
SUBJECTS = {"en": "Your request $case", "ko": "접수 $case 안내"}
LANGUAGES = ("en", "ko")


def default_text(event: str, channel: str, language: str) -> str:
    return DEFAULTS.get((event, channel, language)) or DEFAULTS.get((event, channel, "en"), "$case: $status")


def render(text: str, **values: str) -> str:
    """Fill `$name` placeholders; unknown ones stay as written (an admin's typo shows, not fails)."""
    return Template(text).safe_substitute(values)


def language_of(raw: str | None) -> str:
    code = (raw or "en").split("-")[0].lower()
    return code if code in LANGUAGES else "en"


async def current_text(source: TemplateSource, event: str, channel: str, language: str) -> tuple[int, str]:
    """The text a message of `event` by `channel` in `language` is made from now: the admin's
    newest version (its number), else the built-in default (version 0)."""
    stored = await source.template(event, channel, language)
    return stored if stored is not None else (0, default_text(event, channel, language))


async def message_body(source: TemplateSource, event: str, channel: str, language: str, **values: str) -> str:
    """The message as the customer gets it (the admin page's preview uses the same)."""
    return render((await current_text(source, event, channel, language))[1], **values)
