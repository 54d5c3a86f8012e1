"""Sign-in, sign-out and first-run setup pages (plain HTML forms with the CSRF field)."""

from __future__ import annotations

from aiohttp import web

from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import PRINCIPAL, WEB_KEY
from hotline.web.base.pages import redirect, safe_next
from hotline.web.base.room import WebRoom
from hotline.web.base.security import SESSION_COOKIE, clear_session_cookie, set_session_cookie


def _field(form: object, name: str, limit: int = 256) -> str:
    value = form.get(name, "") if hasattr(form, "get") else ""
    return value[:limit] if isinstance(value, str) else ""


async def login_page(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    if request.get(PRINCIPAL) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return room.pages.render(
        request, "accounts/login.html", error="", login="",
        next=safe_next(request.query.get("next")), expired=request.query.get("expired") == "1",
        setup_pending=room.accounts.setup_pending,
    )


async def login_submit(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    form = await read_form(request)
    login, password = _field(form, "login", 64), _field(form, "password")
    target = safe_next(_field(form, "next", 512))
    try:
        user = await room.accounts.authenticate(login, password, request.remote or "?")
    except ApiError as exc:
        key = "accounts.login.throttled" if exc.status == 429 else "accounts.login.wrong"
        return room.pages.render(
            request, "accounts/login.html", status=exc.status, error=key, login=login, next=target,
            expired=False, setup_pending=room.accounts.setup_pending,
        )
    cookie, _ = await room.accounts.start_session(user)
    response = redirect(target)
    set_session_cookie(response, request, room.settings, cookie)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await room.accounts.end_session(cookie)
    response = redirect("/login")
    clear_session_cookie(response)
    return response


async def setup_page(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    token = request.query.get("token", "")[:128]
    if not room.accounts.setup_open(token):
        return room.pages.render(request, "accounts/setup_closed.html", status=403)
    return room.pages.render(request, "accounts/setup.html", token=token, error="", login="", name="")


async def setup_submit(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    form = await read_form(request)
    token, login, name = _field(form, "token", 128), _field(form, "login", 64), _field(form, "name", 128)
    password, again = _field(form, "password"), _field(form, "password_again")
    if not room.accounts.setup_open(token):
        return room.pages.render(request, "accounts/setup_closed.html", status=403)
    error = ""
    if password != again:
        error = room.strings.text(room.pages.language(request), "accounts.setup.mismatch")
    elif not login or not name:
        error = room.strings.text(room.pages.language(request), "accounts.setup.missing")
    if not error:
        try:
            user = await room.accounts.finish_setup(token, login=login, name=name, password=password)
        except ApiError as exc:
            error = exc.message
        else:
            cookie, _ = await room.accounts.start_session(user)
            response = redirect("/")
            set_session_cookie(response, request, room.settings, cookie)
            return response
    return room.pages.render(
        request, "accounts/setup.html", status=400, token=token, error=error, login=login, name=name,
    )


def add_pages(room: WebRoom) -> None:
    room.pages.route("GET", "/login", login_page, roles=())
    room.pages.route("POST", "/login", login_submit, roles=())
    room.pages.route("POST", "/logout", logout, roles=())
    room.pages.route("GET", "/setup", setup_page, roles=())
    room.pages.route("POST", "/setup", setup_submit, roles=())
