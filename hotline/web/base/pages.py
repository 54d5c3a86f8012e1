"""Server-rendered pages: Jinja2 templates per feature (`<feature>/templates/`, referenced as
`"<feature>/<name>.html"`), the shared layout (`base/templates/layout.html`), navigation by
role, and page routes that declare their roles like API routes do.

    room.pages.nav(NavItem("home.nav", "/", ALL_ROLES, order=0))
    room.pages.route("GET", "/", home, roles=ALL_ROLES)

    async def home(request: web.Request) -> web.StreamResponse:
        return room.pages.render(request, "home/agent.html", state=...)

A page route without sign-in redirects to `/login?next=...`; a signed-in person whose role is
not allowed gets a 403 page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from aiohttp import web

from hotline.roles import Principal, Role
from hotline.web.base.i18n import LANG_COOKIE, Catalogue, choose_language
from hotline.web.base.keys import PRINCIPAL
from hotline.web.base.security import SESSION_ENDED, csrf_token

PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LANG = web.RequestKey("lang", str)


@dataclass(frozen=True)
class NavItem:
    label: str  # catalogue key
    href: str
    roles: frozenset[Role]
    order: int = 100


@dataclass(frozen=True)
class PageRoute:
    method: str
    path: str
    roles: frozenset[Role]
    template: str = ""


class Pages:
    def __init__(self, features: Iterable[str], strings: Catalogue, default_language: str) -> None:
        loaders: dict[str, jinja2.BaseLoader] = {
            name: jinja2.PackageLoader(f"hotline.web.{name}", "templates") for name in features
        }
        self.env = jinja2.Environment(
            loader=jinja2.PrefixLoader(loaders), autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self.strings = strings
        self.default_language = default_language
        self.nav_items: list[NavItem] = []
        self.routes: list[PageRoute] = []
        self._pending: list[tuple[str, str, PageHandler]] = []

    def nav(self, item: NavItem) -> None:
        self.nav_items.append(item)
        self.nav_items.sort(key=lambda n: (n.order, n.href))

    def language(self, request: web.Request) -> str:
        if LANG in request:
            return request[LANG]
        who = request.get(PRINCIPAL)
        lang = choose_language(request, who.language if who else None, self.default_language)
        request[LANG] = lang
        return lang

    def render(self, request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
        lang = self.language(request)
        who: Principal | None = request.get(PRINCIPAL)

        def t(key: str, **fields: Any) -> str:
            return self.strings.text(lang, key, **fields)

        nav = [n for n in self.nav_items if who is not None and who.role in n.roles]
        html = self.env.get_template(template).render(
            t=t, lang=lang, who=who, nav=nav, csrf_token=csrf_token(request), path=request.path,
            **context,
        )
        response = web.Response(text=html, content_type="text/html", status=status)
        if request.query.get("lang") == lang:
            response.set_cookie(LANG_COOKIE, lang, samesite="Lax", path="/", max_age=365 * 86400)
        return response

    def route(
        self, method: str, path: str, handler: PageHandler, *, roles: Iterable[Role]
    ) -> None:
        """A page; `roles` empty means public (login, first-run setup)."""
        allowed = frozenset(roles)
        self.routes.append(PageRoute(method.upper(), path, allowed))

        async def guarded(request: web.Request) -> web.StreamResponse:
            who = request.get(PRINCIPAL)
            if allowed and who is None:
                htmx = request.headers.get("HX-Request") == "true"
                target = request.path_qs if request.method == "GET" and not htmx else "/"
                if htmx:  # a partial: send the whole page to the login page, not the fragment
                    target = safe_next(urlsplit(request.headers.get("HX-Current-URL", "/")).path)
                ended = "&expired=1" if request.get(SESSION_ENDED) else ""
                login = f"/login?next={quote(target, safe='')}{ended}"
                if htmx:
                    return web.Response(status=401, headers={"HX-Redirect": login})
                raise web.HTTPFound(login)
            if allowed and who is not None and who.role not in allowed:
                return self.render(request, "base/forbidden.html", status=403)
            return await handler(request)

        guarded.__name__ = getattr(handler, "__name__", path)
        self._pending.append((method.upper(), path, guarded))

    def install(self, app: web.Application) -> None:
        for method, path, handler in self._pending:
            app.router.add_route(method, path, handler)


def redirect(location: str) -> web.Response:
    """A 303 See Other (after a form post) that can carry cookies."""
    return web.Response(status=303, headers={"Location": location})


def safe_next(target: str | None) -> str:
    """Only same-site paths after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
