"""The web test harness: a real Hotline app (sample config, no Asterisk, no speech) on a free
port with a fresh SQLite store and a virtual clock, people of every role, API tokens, and a
headless Chromium (Debian's, driven by Playwright; nothing is downloaded) signed in as a role.

    async def test_something(web_rig: WebRig, browser: Browser, shot: Shot) -> None:
        await web_rig.add_user("kim", "agent", agent_id="1001")
        page = await web_rig.signed_in_page(browser, "kim")
        await shot(page, "home")                     # artifacts/screenshots/<test>-home.png
        headers = await web_rig.bearer("kim")        # {"Authorization": "Bearer hlt_..."}
        await web_rig.client.get("/api/agents/1001", headers=headers)
        web_rig.clock.advance(3600)                  # the web's clock is the ACD's

`web_rig.links` holds the first-run setup links the server announced.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, async_playwright

from acd.clock import VirtualClock
from casestore.accounts import Actor, UserView
from casestore.store import open_store
from hotline.config import HotlineConfig, load_config, parse_config
from hotline.passwords import hash_password
from hotline.web.base.keys import ACD_KEY, STORE_KEY, WEB_KEY
from hotline.wiring import build_app

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "hotline.yaml"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "correct horse battery staple"
START = 1_800_000_000.0
_HASHES: dict[str, str] = {}

Shot = Callable[[Page, str], Awaitable[Path]]


def password_hash(password: str = PASSWORD) -> str:
    """Argon2 is slow on purpose: hash each test password once per run."""
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


def sample_config(**sections: Any) -> HotlineConfig:
    """The sample config, with sections replaced (e.g. `web={"session_idle_timeout": 60}`)."""
    import yaml

    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw.update(sections)
    return parse_config(raw, CONFIG)


@dataclass
class WebRig:
    app: web.Application
    client: TestClient[Any, Any]
    clock: VirtualClock
    links: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return str(self.client.server.make_url("")).rstrip("/")

    @property
    def acd(self) -> Any:
        return self.app[ACD_KEY]

    @property
    def store(self) -> Any:
        return self.app[STORE_KEY]

    async def add_user(
        self, login: str, role: str, *, agent_id: str | None = None, name: str | None = None,
        password: str = PASSWORD, language: str | None = None,
    ) -> UserView:
        return await self.store.accounts.add_user(
            Actor("test"), login=login, name=name or login.title(), role=role,
            password_hash=password_hash(password), agent_id=agent_id, language=language,
        )

    async def add_recording(self, call_id: str, data: bytes) -> int:
        """A call record (if missing) with one stored recording; returns the recording's id."""
        from sqlalchemy import select

        from casestore.models import CALLS, RECORDINGS

        info = await self.store.recordings.save(call_id, data)
        async with self.store.engine.begin() as conn:
            if (await conn.execute(select(CALLS.c.id).where(CALLS.c.id == call_id))).first() is None:
                await conn.execute(CALLS.insert().values(id=call_id, started_at=self.clock.now(), queue="booking"))
            row = await conn.execute(RECORDINGS.insert().values(
                call_id=call_id, uri=info.uri, format=info.format, size=info.size, sha256=info.sha256,
                created_at=info.created_at, retain_until=info.retain_until,
            ).returning(RECORDINGS.c.id))
            return int(row.scalar_one())

    async def bearer(self, login: str, days: int = 30) -> dict[str, str]:
        """An API token of `login` as request headers."""
        user = await self.store.accounts.user(login)
        assert user is not None, f"no user {login}"
        created = await self.app[WEB_KEY].accounts.create_token(Actor("test"), user, "test", days)
        return {"Authorization": f"Bearer {created.secret}"}

    async def csrf(self) -> str:
        """Fetch a page with the rig's client so its cookie jar has the pre-session CSRF
        cookie; return its value (for API sign-in)."""
        await self.client.get("/login")
        for cookie in self.client.session.cookie_jar:
            if cookie.key == "hotline_csrf":
                return cookie.value
        raise AssertionError("no CSRF cookie")

    def forget_session(self) -> None:
        """Drop the session cookie from the rig's client (as a new browser would be)."""
        self.client.session.cookie_jar.clear(lambda cookie: cookie.key == "hotline_session")

    async def api_sign_in(self, login: str, password: str = PASSWORD) -> dict[str, str]:
        """Sign the rig's client in through the API; return headers with the session's CSRF."""
        token = await self.csrf()
        response = await self.client.post(
            "/api/session", json={"login": login, "password": password}, headers={"X-CSRF-Token": token}
        )
        assert response.status == 200, await response.text()
        return {"X-CSRF-Token": (await response.json())["csrf_token"]}

    async def signed_in_page(self, browser: Browser, login: str, password: str = PASSWORD) -> Page:
        """A new browser context signed in as `login` through the login form, on its home
        page with its live event stream open (pushed events reach it from here on)."""
        context = await browser.new_context(locale="en-US")
        page = await context.new_page()
        await page.goto(f"{self.base_url}/login")
        await page.fill("#login", login)
        await page.fill("#password", password)
        live = self.app[WEB_KEY].live
        streams = live.connections
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.base_url}/")
        await asyncio.wait_for(live.wait_for_connections(streams + 1), timeout=15)
        return page


async def start_rig(tmp_path: Path, config: HotlineConfig | None = None) -> AsyncIterator[WebRig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    clock = VirtualClock(START)
    links: list[str] = []
    app = build_app(
        config or load_config(CONFIG), clock=clock, store_url=url, speech=False, asterisk=False,
        announce=links.append,
    )
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield WebRig(app, client, clock, links)


@pytest.fixture
async def web_rig(tmp_path: Path) -> AsyncIterator[WebRig]:
    async for rig in start_rig(tmp_path):
        yield rig


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """Save a full-page screenshot as a test artefact: artifacts/screenshots/<test>-<name>.png."""

    async def take(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        test = re.sub(r"[^\w.-]+", "_", request.node.name)
        path = ARTIFACTS / f"{test}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
