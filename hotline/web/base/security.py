"""The one security middleware: who is asking (API token or session cookie), CSRF on every
state-changing request, session cookies, security headers.

- `Authorization: Bearer hlt_...` authenticates a machine; such requests carry no cookie
  authority, so they need no CSRF token.
- Otherwise the `hotline_session` cookie (HttpOnly, SameSite, Secure over HTTPS) names a
  session; an idle, expired or unknown one is ended and its cookie cleared.
- A POST/PUT/PATCH/DELETE without a bearer token must carry a CSRF token, in the
  `X-CSRF-Token` header or a `csrf_token` form field: the session's token when signed in, or
  the `hotline_csrf` cookie's value (double submit) before sign-in (login, first-run setup).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from casestore.accounts import SessionView
from hotline.roles import Principal
from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError, is_api
from hotline.web.base.keys import PRINCIPAL, SESSION
from hotline.web.base.settings import WebSettings

SESSION_COOKIE = "hotline_session"
CSRF_COOKIE = "hotline_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SIGNED_WEBHOOK_HEADER = "X-Twilio-Signature"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ANON_CSRF = web.RequestKey("anon_csrf", str)
SESSION_ENDED = web.RequestKey("session_ended", bool)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Authenticator(Protocol):
    async def session(self, cookie: str) -> tuple[Principal, SessionView] | None: ...

    async def token(self, presented: str) -> Principal | None: ...


def csrf_token(request: web.Request) -> str:
    """The CSRF token a page embeds in its forms and htmx headers."""
    session = request.get(SESSION)
    if session is not None:
        return session.csrf_token
    return request.get(ANON_CSRF, "")


def cookie_secure(request: web.Request, settings: WebSettings) -> bool:
    if settings.cookie_secure == "auto":
        return request.secure
    return bool(settings.cookie_secure)


def set_session_cookie(
    response: web.StreamResponse, request: web.Request, settings: WebSettings, value: str
) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite=settings.same_site, path="/",
        secure=cookie_secure(request, settings), max_age=int(settings.session_max_age),
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _presented_csrf(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in FORM_TYPES:
        form = await read_form(request)
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def _refuse(request: web.Request, status: int, code: str, message: str) -> web.StreamResponse:
    if is_api(request):
        return ApiError(status, code, message).response()
    return web.Response(status=status, text=message)


def security_middleware(
    authenticator: Callable[[], Authenticator], settings: WebSettings,
    csrf_exempt: Callable[[], Sequence[str]] = tuple,
) -> Middleware:
    """`csrf_exempt`: path prefixes of requests that authenticate themselves and carry no
    cookie authority (Twilio's webhooks, checked by their signature)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        auth = authenticator()
        bearer = _bearer(request)
        session: SessionView | None = None
        if bearer is not None:
            who = await auth.token(bearer) if bearer else None
            if who is None:
                return _refuse(request, 401, "unauthorized", "the API token is unknown, revoked or expired")
            request[PRINCIPAL] = who
        elif SIGNED_WEBHOOK_HEADER not in request.headers:
            cookie = request.cookies.get(SESSION_COOKIE)
            if cookie:
                found = await auth.session(cookie)
                if found is None:
                    request[SESSION_ENDED] = True
                else:
                    request[PRINCIPAL], session = found
                    request[SESSION] = session
        anon = request.cookies.get(CSRF_COOKIE, "")
        new_anon = not anon
        request[ANON_CSRF] = anon or secrets.token_urlsafe(24)
        routed = request.match_info.http_exception is None  # unknown route/method: 404/405 first
        exempt = request.path.startswith(tuple(csrf_exempt()))
        # a provider's webhook (Twilio) is anonymous and proves itself by its signature, which its
        # handler checks; a browser cannot add that header cross-site without CORS consent
        signed = bearer is None and SIGNED_WEBHOOK_HEADER in request.headers
        if request.method not in SAFE_METHODS and bearer is None and routed and not exempt and not signed:
            expected = session.csrf_token if session is not None else anon
            presented = await _presented_csrf(request)
            if not expected or not presented or not hmac.compare_digest(expected, presented):
                return _refuse(request, 403, "csrf_failed", "missing or wrong CSRF token; reload the page")
        response = await handler(request)
        if new_anon and not response.prepared:
            response.set_cookie(
                CSRF_COOKIE, request[ANON_CSRF], httponly=True, samesite="Strict", path="/",
                secure=cookie_secure(request, settings),
            )
        if request.get(SESSION_ENDED) and not response.prepared:
            clear_session_cookie(response)
        if not response.prepared:
            headers = response.headers
            headers.setdefault("X-Content-Type-Options", "nosniff")
            headers.setdefault("Referrer-Policy", "same-origin")
            headers.setdefault("X-Frame-Options", "DENY")
            if response.content_type == "text/html":
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware
