"""Builds the web room on an application: settings, accounts, live events, strings, pages and
every feature folder's routes. Called once by `hotline.wiring.build_app`.

To add a feature folder, add it to FEATURES (templates and strings are then found) and its
`routes` registry to API_ROUTES and/or its `add_pages` to PAGES (docs/web.md).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path

from aiohttp import web

from acd.engine import Acd
from hotline.config import HotlineConfig
from hotline.web.accounts import pages as accounts_pages
from hotline.web.accounts import people as accounts_people
from hotline.web.accounts import routes as accounts_routes
from hotline.web.accounts.service import AccountService
from hotline.web.acd_admin import pages as acd_admin_pages
from hotline.web.acd_admin import routes as acd_admin_routes
from hotline.web.agents import routes as agents_routes
from hotline.web.answers import routes as answers_routes
from hotline.web.base.api import ApiRegistry
from hotline.web.base.errors import error_middleware
from hotline.web.base.i18n import Catalogue
from hotline.web.base.keys import STORE_KEY, WEB_KEY
from hotline.web.base.live import ACD_EVENT_KINDS, Publisher
from hotline.web.base.pages import Pages
from hotline.web.base.room import WebRoom
from hotline.web.base.security import security_middleware
from hotline.web.base.settings import parse_api_section, parse_web_section
from hotline.web.callbacks import routes as callbacks_routes
from hotline.web.calls import routes as calls_routes
from hotline.web.calls_list import pages as calls_list_pages
from hotline.web.calls_list import routes as calls_list_routes
from hotline.web.cases import pages as cases_pages
from hotline.web.cases import routes as cases_routes
from hotline.web.cases.settings import install_desk
from hotline.web.desktop import pages as desktop_pages
from hotline.web.desktop import routes as desktop_routes
from hotline.web.emergency import routes as emergency_routes
from hotline.web.home import pages as home_pages
from hotline.web.ivr_editor import pages as ivr_editor_pages
from hotline.web.ivr_editor import routes as ivr_editor_routes
from hotline.web.live import routes as live_routes
from hotline.web.menus import routes as menus_routes
from hotline.web.reference import routes as reference_routes
from hotline.web.survey import pages as survey_pages
from hotline.web.telephony import routes as telephony_routes
from hotline.web.texts import pages as texts_pages
from hotline.web.texts import routes as texts_routes
from hotline.web.wallboard import pages as wallboard_pages
from hotline.web.wallboard import routes as wallboard_routes
from hotline.web.wallboard.service import WallboardService
from hotline.web.wallboard.settings import parse_wallboard_section
from hotline.web.workorders import pages as workorders_pages
from hotline.web.workorders import routes as workorders_routes

log = logging.getLogger("hotline.web")

FEATURES = (
    "base", "accounts", "agents", "live", "emergency", "menus", "calls", "reference", "home",
    "desktop", "cases", "calls_list", "workorders", "survey", "answers", "wallboard", "ivr_editor", "telephony",
    "acd_admin",
    "texts",
)
API_ROUTES: tuple[ApiRegistry, ...] = (
    accounts_routes.routes, agents_routes.routes, live_routes.routes, emergency_routes.routes,
    menus_routes.routes, calls_routes.routes, reference_routes.routes,
    desktop_routes.routes, cases_routes.routes, calls_list_routes.routes, workorders_routes.routes,
    answers_routes.routes, wallboard_routes.routes, ivr_editor_routes.routes, telephony_routes.routes,
    acd_admin_routes.routes, callbacks_routes.routes,
    texts_routes.routes,
)
PAGES: tuple[Callable[[WebRoom], None], ...] = (
    accounts_pages.add_pages, accounts_people.add_pages, home_pages.add_pages,
    reference_routes.add_pages, desktop_pages.add_pages, cases_pages.add_pages, calls_list_pages.add_pages,
    survey_pages.add_pages, workorders_pages.add_pages, answers_routes.add_pages, wallboard_pages.add_pages,
    ivr_editor_pages.add_pages, acd_admin_pages.add_pages, texts_pages.add_pages,
)
STATIC_DIR = Path(str(resources.files("hotline.web") / "static"))


def print_setup_link(link: str) -> None:
    """The first-run notice, on the console only (not in the logs)."""
    bar = "=" * 72
    print(
        f"\n{bar}\nHotline has no admin yet. Open this one-time link to create the first one:\n\n"
        f"    {link}\n\nIt works once, until an admin exists (or run `hotline users add LOGIN --role admin`)."
        f"\n{bar}\n",
        file=sys.stderr, flush=True,
    )


def _templates(feature: str) -> bool:
    return (resources.files(f"hotline.web.{feature}") / "templates").is_dir()


def setup_web(
    app: web.Application, config: HotlineConfig, acd: Acd, clock: Callable[[], float],
    *, announce: Callable[[str], None] | None = None,
) -> WebRoom:
    where = f"{config.path}: " if config.path else ""
    api_section = parse_api_section(config.section("api"), f"{where}api")
    settings = parse_web_section(config.section("web"), f"{where}web")
    strings = Catalogue.load(f"hotline.web.{f}" for f in FEATURES)
    pages = Pages([f for f in FEATURES if _templates(f)], strings, settings.default_language)
    room = WebRoom(
        api=ApiRegistry(), pages=pages, strings=strings,
        accounts=AccountService(lambda: app[STORE_KEY].accounts, clock, settings),
        live=Publisher(settings.live_queue_size), settings=settings, clock=clock,
        listen=(api_section.host, api_section.port),
    )
    app[WEB_KEY] = room
    app[wallboard_routes.WALLBOARD_KEY] = WallboardService(
        acd, lambda: app[STORE_KEY], room.live,
        parse_wallboard_section(config.section("wallboard"), f"{where}wallboard"),
    )
    install_desk(app, config)
    app.middlewares.append(error_middleware)
    app.middlewares.append(security_middleware(lambda: room.accounts, settings, lambda: room.csrf_exempt))
    for registry in API_ROUTES:
        room.api.include(registry)
    for add in PAGES:
        add(room)
    room.api.install(app)
    pages.install(app)
    app.router.add_static("/static", STATIC_DIR, follow_symlinks=False)

    async def live_ctx(app: web.Application) -> AsyncIterator[None]:
        unsubscribe = acd.subscribe(room.live.on_acd_event, ACD_EVENT_KINDS)
        try:
            yield
        finally:
            unsubscribe()
            room.live.close_all()

    app.cleanup_ctx.append(live_ctx)
    tell = announce or print_setup_link

    async def first_run_ctx(app: web.Application) -> AsyncIterator[None]:
        secret = await room.accounts.begin_setup()
        if secret is not None:
            tell(f"{room.base_url}/setup?token={secret}")
            log.warning("no admin yet: a one-time setup link was printed on the console")
        yield

    room.first_run_ctx = first_run_ctx  # the wiring appends it after the store's context
    return room
