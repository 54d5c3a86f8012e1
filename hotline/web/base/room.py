"""The web room: what every feature folder registers into (API routes, pages, navigation,
strings) and the shared services it uses (accounts, live events, settings, clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from hotline.web.accounts.service import AccountService
from hotline.web.base.api import ApiRegistry
from hotline.web.base.i18n import Catalogue
from hotline.web.base.live import Publisher
from hotline.web.base.pages import Pages
from hotline.web.base.settings import WebSettings


@dataclass
class WebRoom:
    api: ApiRegistry
    pages: Pages
    strings: Catalogue
    accounts: AccountService
    live: Publisher
    settings: WebSettings
    clock: Callable[[], float]
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    scheme: str = "http"  # "https" when the server speaks TLS (api.tls)
    # path prefixes that authenticate themselves, without CSRF (Twilio webhooks; the wiring)
    csrf_exempt: list[str] = field(default_factory=list)
    # the first-run check (prints the one-time setup link); runs once the store is open
    first_run_ctx: Callable[[web.Application], AsyncIterator[None]] | None = None
    openapi: dict[str, Any] | None = None  # the OpenAPI document, built on first request

    @property
    def base_url(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host, port = self.listen
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "") else host
        return f"{self.scheme}://{shown}:{port}"
