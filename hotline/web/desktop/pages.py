"""The agent desktop page: the panel is re-rendered by the server on each event of the
agent's stream (state, offered, answered, ended, case changed); forms post to the JSON API."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from hotline.roles import ALL_ROLES, Role
from hotline.web.base.keys import PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem
from hotline.web.base.room import WebRoom
from hotline.web.desktop.service import desktop

# htmx:sseOpen: re-render once the stream is (re)connected, so nothing between the page and
# the stream is missed
DESK_EVENTS = (
    "sse:agent_state, sse:call_offered, sse:call_answered, sse:call_ended, sse:case_changed, "
    "htmx:sseOpen from:body"
)
SCRIPT = resources.files("hotline.web.desktop") / "desk.js"


async def desktop_page(request: web.Request) -> web.StreamResponse:
    d = await desktop(request, request[PRINCIPAL])
    return request.app[WEB_KEY].pages.render(request, "desktop/desktop.html", d=d, desk_events=DESK_EVENTS)


async def desktop_panel(request: web.Request) -> web.StreamResponse:
    d = await desktop(request, request[PRINCIPAL])
    return request.app[WEB_KEY].pages.render(request, "desktop/_panel.html", d=d)


async def script(request: web.Request) -> web.StreamResponse:
    return web.Response(body=SCRIPT.read_bytes(), content_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


def add_pages(room: WebRoom) -> None:
    agents = frozenset({Role.AGENT})
    room.pages.nav(NavItem("desktop.nav", "/desktop", agents, order=5))
    room.pages.route("GET", "/desktop", desktop_page, roles=agents)
    room.pages.route("GET", "/desktop/panel", desktop_panel, roles=agents)
    room.pages.route("GET", "/desk.js", script, roles=ALL_ROLES)
