"""UI strings from catalogues, in Korean and English.

Each feature folder may hold `strings.en.json` and `strings.ko.json` (flat maps of dotted keys
to texts, keys prefixed with the feature's name); `Catalogue.load` merges them. A missing key
shows as the key itself (and a test checks both languages have the same keys). Texts use
`str.format` fields: `t("home.agent.since", seconds=12)`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from aiohttp import web

LANGUAGES = ("en", "ko")
LANG_COOKIE = "hotline_lang"


class Catalogue:
    def __init__(self, strings: dict[str, dict[str, str]]) -> None:
        self.strings = strings

    @classmethod
    def load(cls, packages: Iterable[str]) -> Catalogue:
        strings: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        for package in packages:
            for lang in LANGUAGES:
                resource = resources.files(package) / f"strings.{lang}.json"
                if resource.is_file():
                    loaded = json.loads(resource.read_text(encoding="utf-8"))
                    clash = set(loaded) & set(strings[lang])
                    if clash:
                        raise ValueError(f"{package}: strings defined twice: {sorted(clash)}")
                    strings[lang].update(loaded)
        return cls(strings)

    def text(self, lang: str, key: str, **fields: Any) -> str:
        template = self.strings.get(lang, {}).get(key) or self.strings["en"].get(key) or key
        return template.format(**fields) if fields else template


def choose_language(request: web.Request, preferred: str | None, default: str) -> str:
    """`?lang=`, else the language last picked in this browser (cookie), else the person's
    own setting, else Accept-Language, else the default."""
    for candidate in (request.query.get("lang"), request.cookies.get(LANG_COOKIE), preferred):
        if candidate in LANGUAGES:
            return candidate
    ranked: list[tuple[float, str]] = []
    for part in request.headers.get("Accept-Language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        base = tag.split("-")[0].lower()
        if base in LANGUAGES:
            ranked.append((quality, base))
    if ranked:
        return max(ranked, key=lambda r: r[0])[1]
    return default
